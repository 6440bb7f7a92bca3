package assistant

import (
	"math"
	"strconv"
	"strings"

	"aisle/sync/catalog"
	"aisle/worker/assistant/lang"
)

// Size is a quantity read from a product name or a question: "1.5 L", "4 x 125 g", "20 tablets".
// Value is in the dimension's base unit (g, ml, mm, pieces, GB, V, W, mAh).
type Size struct {
	Value float64
	Dim   string // "mass", "volume", "length", "count", "data", "volt", "watt", "charge"; "" for none
}

type unit struct {
	dim    string
	factor float64
}

var units = map[string]unit{
	"mg": {"strength", 0.001}, "g": {"mass", 1}, "gr": {"mass", 1}, "gram": {"mass", 1}, "grams": {"mass", 1},
	"kg": {"mass", 1000}, "kilo": {"mass", 1000}, "kilos": {"mass", 1000}, "lb": {"mass", 453.6}, "lbs": {"mass", 453.6},
	"oz": {"mass", 28.35}, "ml": {"volume", 1}, "cl": {"volume", 10}, "dl": {"volume", 100}, "l": {"volume", 1000},
	"ltr": {"volume", 1000}, "litre": {"volume", 1000}, "litres": {"volume", 1000}, "liter": {"volume", 1000},
	"liters": {"volume", 1000}, "gal": {"volume", 3785}, "gallon": {"volume", 3785}, "floz": {"volume", 29.57},
	"mm": {"length", 1}, "cm": {"length", 10}, "m": {"length", 1000}, "metre": {"length", 1000},
	"meter": {"length", 1000}, "metres": {"length", 1000}, "meters": {"length", 1000}, "inch": {"length", 25.4}, "inches": {"length", 25.4},
	"ltrs": {"volume", 1000}, "millilitre": {"volume", 1}, "milliliter": {"volume", 1}, "kilogram": {"mass", 1000},
	"kilograms": {"mass", 1000}, "kgs": {"mass", 1000}, "ounce": {"mass", 28.35}, "ounces": {"mass", 28.35},
	"foot": {"length", 304.8}, "feet": {"length", 304.8},
	"cm2": {"area", 1}, "tablet": {"count", 1}, "capsule": {"count", 1}, "bag": {"count", 1}, "roll": {"count", 1},
	"sachet": {"count", 1}, "wipe": {"count", 1}, "pod": {"count", 1}, "bar": {"count", 1}, "can": {"count", 1},
	"bottle": {"count", 1}, "box": {"count", 1}, "boxes": {"count", 1}, "packs": {"count", 1}, "mm2": {"area", 1},
	"ft":   {"length", 304.8},
	"pack": {"count", 1}, "pk": {"count", 1}, "pc": {"count", 1}, "pcs": {"count", 1}, "pieces": {"count", 1}, "piece": {"count", 1},
	"tablets": {"count", 1}, "tabs": {"count", 1}, "capsules": {"count", 1}, "caps": {"count", 1},
	"bags": {"count", 1}, "loads": {"count", 1}, "rolls": {"count", 1}, "sheets": {"count", 1},
	"sachets": {"count", 1}, "wipes": {"count", 1}, "count": {"count", 1}, "ct": {"count", 1},
	"pods": {"count", 1}, "bars": {"count", 1}, "eggs": {"count", 1}, "cans": {"count", 1}, "bottles": {"count", 1},
	"gb": {"data", 1}, "tb": {"data", 1024}, "v": {"volt", 1}, "w": {"watt", 1}, "mah": {"charge", 1},
}

// sizes reads every size of a text, in order: "Still water 6 x 1.5 L" gives 9000 ml;
// "Butter croissants x4" 4 pieces; "Ibuprofen 400 mg, 20 tablets" 0.4 g strength and 20 pieces.
func sizes(text string) []Size { return sizesOf(lang.Words(text)) }

// sizesOf is sizes of a text's words.
func sizesOf(words []lang.Word) []Size {
	// "fl oz" is one unit
	ws := make([]lang.Word, 0, len(words))
	for i := 0; i < len(words); i++ {
		if words[i].Norm == "fl" && i+1 < len(words) && words[i+1].Norm == "oz" {
			w := words[i]
			w.Norm, w.Stem, w.End = "floz", "floz", words[i+1].End
			ws = append(ws, w)
			i++
			continue
		}
		ws = append(ws, words[i])
	}
	var out []Size
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		if w.Norm == "x" && i+1 < len(ws) && ws[i+1].Num && (i+2 >= len(ws) || !isUnit(ws[i+2].Norm)) {
			n, _ := strconv.ParseFloat(ws[i+1].Norm, 64)
			out = append(out, Size{n, "count"})
			i++
			continue
		}
		if !w.Num {
			continue
		}
		n, err := strconv.ParseFloat(w.Norm, 64)
		if err != nil {
			continue
		}
		mult := 1.0
		j := i + 1
		if j+1 < len(ws) && ws[j].Norm == "x" && ws[j+1].Num { // "6 x 1.5 L"
			m, _ := strconv.ParseFloat(ws[j+1].Norm, 64)
			mult, n = n, m
			j += 2
		}
		if j < len(ws) {
			if u, ok := unitAt(ws, j); ok {
				out = append(out, Size{n * mult * u.factor, u.dim})
				i = j
				continue
			}
		}
		if mult != 1 { // "4 x 52": a count
			out = append(out, Size{n * mult, "count"})
			i = j - 1
		}
	}
	return out
}

func isUnit(w string) bool { _, ok := units[w]; return ok || w == "in" }

// unitAt is the unit at ws[j] after a number: one of units, or "in" (inches) when no word
// follows that would make it the preposition ("55 in", not "1 in stock").
func unitAt(ws []lang.Word, j int) (unit, bool) {
	if u, ok := units[ws[j].Norm]; ok {
		return u, true
	}
	if ws[j].Norm == "in" {
		if j+1 == len(ws) {
			return unit{"length", 25.4}, true
		}
		switch ws[j+1].Norm {
		case "stock", "store", "the", "a", "an", "aisle", "my", "your", "our", "this", "that", "it", "there", "here", "back":
			return unit{}, false
		}
		return unit{"length", 25.4}, true
	}
	return unit{}, false
}

// sizeLabels are the size words of a range, in order: "the large one" after "the medium".
var sizeLabels = map[string]float64{"xxs": 0.5, "xs": 1, "extra small": 1, "mini": 1.5, "small": 2, "regular": 3,
	"medium": 3, "standard": 3, "large": 4, "big": 4, "xl": 5, "extra large": 5, "xxl": 6, "jumbo": 6, "maxi": 6,
	"family": 5}

// labelSize is the size a name's size word gives ("Classic Dog Toy Large"), zero when none.
func labelSize(words []lang.Word) Size {
	for i, w := range words {
		if i > 0 && words[i-1].Norm == "extra" {
			if v, ok := sizeLabels["extra "+w.Norm]; ok {
				return Size{v, "label"}
			}
		}
		if v, ok := sizeLabels[w.Norm]; ok && w.Norm != "big" && w.Norm != "family" {
			return Size{v, "label"}
		}
	}
	return Size{}
}

// dimRank orders dimensions by how much they are a product's size: a pack's count, volume,
// mass or length before its specifications (watts, volts, a tablet's strength).
var dimRank = map[string]int{"label": 0, "count": 1, "volume": 2, "mass": 3, "length": 4, "data": 5, "charge": 6, "area": 7,
	"watt": 8, "volt": 9, "strength": 10}

// parseSize is the size that "bigger" and "smaller" compare: the name's size of the best
// ranked dimension.
func parseSize(words []lang.Word) Size {
	best := labelSize(words)
	for _, s := range sizesOf(words) {
		if best.Dim == "" || dimRank[s.Dim] < dimRank[best.Dim] {
			best = s
		}
	}
	return best
}

// familyKey groups products that differ only in size: brand and name words without numbers,
// units and "x".
func familyKey(p catalog.Product, name []lang.Word) string {
	var parts []string
	for _, w := range name {
		if _, label := sizeLabels[w.Norm]; w.Num || isUnit(w.Norm) || label || w.Norm == "x" || w.Norm == "per" || w.Norm == "extra" {
			continue
		}
		parts = append(parts, w.Stem)
	}
	return lang.Fold(strings.TrimSpace(p.Brand)) + "|" + strings.Join(parts, " ")
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
