package eval

import (
	"regexp"
	"strconv"
	"strings"
)

// A size is the amount a product name states ("500 g", "1.5 L", "4 x 125 g", "20 tablets"),
// in a base unit of its dimension, so that "the bigger one" can be checked from names alone.
type size struct {
	dim   string // "mass", "volume", "length", "count", or the unit itself ("mah", "gb", ...)
	value float64
}

var sizeRE = regexp.MustCompile(`(?i)(?:(\d+(?:[.,]\d+)?)\s*[x×]\s*)?(\d+(?:[.,]\d+)?)\s*(?:-\s*)?([a-zµ]+(?:\s+oz)?)?\b`)

var units = map[string]struct {
	dim    string
	factor float64
}{
	"mg": {"mass", 0.001}, "g": {"mass", 1}, "gr": {"mass", 1}, "kg": {"mass", 1000},
	"oz": {"mass", 28.35}, "lb": {"mass", 453.6}, "lbs": {"mass", 453.6},
	"ml": {"volume", 1}, "cl": {"volume", 10}, "dl": {"volume", 100}, "l": {"volume", 1000},
	"ltr": {"volume", 1000}, "litre": {"volume", 1000}, "liter": {"volume", 1000}, "fl oz": {"volume", 29.57},
	"mm": {"length", 1}, "cm": {"length", 10}, "m": {"length", 1000}, "in": {"length", 25.4},
	"ft":  {"length", 304.8},
	"mah": {"mah", 1}, "gb": {"gb", 1}, "tb": {"gb", 1000}, "w": {"w", 1}, "v": {"v", 1},
}

var countUnits = map[string]bool{
	"tablets": true, "tablet": true, "capsules": true, "capsule": true, "pcs": true, "pc": true,
	"pieces": true, "piece": true, "pack": true, "pk": true, "rolls": true, "roll": true,
	"sheets": true, "sheet": true, "loads": true, "load": true, "sachets": true, "sachet": true,
	"bags": true, "bag": true, "count": true, "ct": true, "wipes": true, "pods": true, "tabs": true,
	"plasters": true, "pairs": true, "pair": true, "cups": true, "bars": true, "cans": true,
	"bottles": true, "eggs": true, "slices": true, "portions": true, "servings": true, "sticks": true,
	"strips": true, "lozenges": true, "batteries": true, "bulbs": true, "sets": true, "x": false,
}

// parseSize returns the last size a product name states.
func parseSize(name string) (size, bool) {
	var last size
	found := false
	for _, m := range sizeRE.FindAllStringSubmatch(name, -1) {
		num := func(s string) float64 {
			f, _ := strconv.ParseFloat(strings.ReplaceAll(s, ",", "."), 64)
			return f
		}
		v := num(m[2])
		if m[1] != "" {
			v *= num(m[1])
		}
		unit := strings.ToLower(strings.Join(strings.Fields(m[3]), " "))
		switch {
		case unit == "" && m[1] != "":
			last, found = size{"count", v}, true
		case countUnits[unit]:
			last, found = size{"count", v}, true
		default:
			if u, ok := units[unit]; ok {
				last, found = size{u.dim, v * u.factor}, true
			}
		}
	}
	return last, found
}
