package synth

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A kind of store: its departments (categories), product families, brands, names, suppliers
// and the FAQ topics particular to it. The vocabularies live in vocab_*.go as compact tables.
type kindSpec struct {
	Name      string   // "grocery"
	Label     string   // "grocery store"
	NameFirst []string // first half of store names ("Greenleaf")
	NameLast  []string // second half ("Market")
	Suppliers []string
	Topics    []string // FAQ topics of this kind, beside the common ones
	Cats      []*category
	// SKUPrefix is the department prefix of "AA-0000" SKUs when a category has none.
	SKUPrefix string
}

// category is one department of a kind.
type category struct {
	Name string
	// Group is the generic department ("Pet Care") that stores of other kinds may name: an
	// unknown item's nearest category is the store's category of the same group.
	Group  string
	Code   string   // two or three letters for SKUs ("PH", "DRL")
	Terms  []string // how customers name the category ("painkillers", "pain relief")
	Needs  []string // needs the whole category answers ("for a headache")
	Brands []string
	Fams   []*family
	// Titles: the families are titles (books), which make poor unknown items elsewhere.
	Titles bool
	kind   *kindSpec
}

// family is one product with its size variants ("Mature Cheddar": 200 g, 400 g). The
// variants are ordered from the smallest to the largest, with base prices in cents (EUR-like).
type family struct {
	Name     string
	Aliases  []string // what customers call it ("cheddar", "cheese")
	Variants []variant
	Needs    []string // needs this product answers ("to measure a wall")
	Gift     bool
	cat      *category
}

type variant struct {
	Label string // "200 g"; "" for a single unnamed variant
	Base  int64  // cents
}

// fam parses one family line:
//
//	"Name | alias, alias | label=price; label=price | need; need | gift"
//
// Variants are separated by ';' (labels may hold commas: "400 mg, 20 tablets"); a variant
// without a label is "=3.49". The need and flag fields may be left out.
func fam(line string) *family {
	parts := strings.Split(line, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) < 3 {
		panic(fmt.Sprintf("synth: family line %q: want at least name | aliases | variants", line))
	}
	f := &family{Name: parts[0]}
	for _, a := range strings.Split(parts[1], ",") {
		if a = strings.TrimSpace(a); a != "" {
			f.Aliases = append(f.Aliases, a)
		}
	}
	for _, v := range strings.Split(parts[2], ";") {
		label, price, ok := strings.Cut(strings.TrimSpace(v), "=")
		if !ok {
			panic(fmt.Sprintf("synth: family %q: variant %q has no =price", f.Name, v))
		}
		c, err := parseMoney(price)
		if err != nil {
			panic(fmt.Sprintf("synth: family %q: %v", f.Name, err))
		}
		f.Variants = append(f.Variants, variant{Label: strings.TrimSpace(label), Base: c})
	}
	if len(parts) > 3 {
		for _, n := range strings.Split(parts[3], ";") {
			if n = strings.TrimSpace(n); n != "" {
				f.Needs = append(f.Needs, n)
			}
		}
	}
	if len(parts) > 4 {
		f.Gift = strings.Contains(parts[4], "gift")
	}
	return f
}

func fams(lines ...string) []*family {
	out := make([]*family, len(lines))
	for i, l := range lines {
		out[i] = fam(l)
	}
	return out
}

func list(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func parseMoney(s string) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || len(frac) > 2 {
		return 0, fmt.Errorf("bad price %q", s)
	}
	f := int64(0)
	if frac != "" {
		f, err = strconv.ParseInt((frac + "0")[:2], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad price %q", s)
		}
	}
	return w*100 + f, nil
}

// kinds is the registry, filled by the vocab_*.go files' init functions.
var kinds = map[string]*kindSpec{}

func register(k *kindSpec) {
	if _, dup := kinds[k.Name]; dup {
		panic("synth: kind registered twice: " + k.Name)
	}
	for _, c := range k.Cats {
		c.kind = k
		if c.Group == "" {
			c.Group = c.Name
		}
		for _, f := range c.Fams {
			f.cat = c
		}
	}
	kinds[k.Name] = k
}

// Kinds returns the names of every store kind, sorted.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// KindLabel returns a kind's description ("grocery store").
func KindLabel(kind string) string {
	if k := kinds[kind]; k != nil {
		return k.Label
	}
	return ""
}

// semi splits a ';'-separated list (for phrases that hold commas).
func semi(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ";") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
