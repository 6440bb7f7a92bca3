package wire

import (
	"crypto/rand"
	"encoding/base64"
)

// HeaderDevice carries a device's anonymous installation ID on its sync
// requests (checkpoint, changes, events). The ID is 128 random bits in
// unpadded base64url (DeviceIDLen characters, see NewDeviceID), created
// once per installation and kept beside the replica; it is derived from
// nothing about the device or its user. The server counts devices per
// store with it, storing only its SHA-256; a missing or malformed header
// is ignored, never an error.
const HeaderDevice = "X-Aisle-Device"

// DeviceIDLen is the length of a device ID: 16 bytes in unpadded base64url.
const DeviceIDLen = 22

// NewDeviceID returns a fresh device ID (128 bits from crypto/rand).
func NewDeviceID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidDeviceID reports whether s is exactly a device ID as NewDeviceID
// makes them: 22 base64url characters that decode, strictly, to 16 bytes
// (the last character carries 2 bits, so its 4 unused bits must be zero).
func ValidDeviceID(s string) bool {
	if len(s) != DeviceIDLen {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == 16
}
