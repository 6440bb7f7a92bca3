// Package shim holds the service worker's JavaScript half (sw.js).
package shim

import (
	_ "embed"
	"strings"
)

// SWJS is sw.js with the placeholder __AISLE_VERSION__ for the precache version.
//
//go:embed sw.js
var SWJS string

// ServiceWorker returns sw.js for the given precache version.
func ServiceWorker(version string) string {
	return strings.ReplaceAll(SWJS, "__AISLE_VERSION__", version)
}
