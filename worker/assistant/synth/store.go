package synth

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"aisle/sync/catalog"
)

// StoreSpec says which store to generate. The same spec always gives the same store.
type StoreSpec struct {
	Kind  string // one of Kinds()
	Seed  uint64
	Split Split
	// ID and Name override the generated store ID (default: the name as a slug) and name.
	ID, Name string
	// Products is the number of products to aim for (default: 40 to 90). A store of a split
	// with fewer products in its vocabulary gets them all.
	Products int
	// Currency forces the currency ("EUR", "USD", "GBP", "CHF", "SEK", "PLN"); default: drawn.
	Currency string
	// SKUStyle forces how SKUs look: "dash" ("PH-0101"), "compact" ("XY1234"), "descriptive"
	// ("HW-CDD-18V") or "numeric" ("204518"); default: drawn.
	SKUStyle string
	// AisleStyle forces how aisles look: "numletter" ("2A"), "aisle" ("Aisle 7"), "letternum"
	// ("B12") or "bay" ("Bay 14"); default: drawn.
	AisleStyle string
}

var (
	skuStyles   = []string{"dash", "compact", "descriptive", "numeric"}
	aisleStyles = []string{"numletter", "aisle", "letternum", "bay"}
)

func styleIndex(names []string, name string, drawn int) (int, error) {
	if name == "" {
		return drawn, nil
	}
	for i, n := range names {
		if n == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("synth: unknown style %q (have %s)", name, strings.Join(names, ", "))
}

// Store is a generated store: its STORE.json content plus what the generator knows about each
// product (family, size order, aliases, needs) to ask questions about it.
type Store struct {
	Spec     StoreSpec
	Kind     string
	ID       string
	Name     string
	TimeZone string
	Address  string
	Currency string
	Products []*Product
	FAQs     []*FAQ

	cur   *currencySpec
	style storeStyle
	slots map[string]string
	kind  *kindSpec
	cats  []*category // the categories the store carries, in file order
	first string      // the first half of the name, a vocabulary entry of the split
}

// Product is one product of a generated store.
type Product struct {
	SKU      string
	Name     string
	Brand    string
	Category string
	Barcode  string // EAN-13 or UPC-A digits; "" for none
	Price    int64  // cents
	Currency string
	Stock    int64 // on the shelf
	Aisle    string
	Desc     string
	Staff    *Staff // nil: no staff data

	Family  string // the vocabulary family ("Mature Cheddar")
	Variant int    // the size's place among the family's sizes (0 = smallest)
	Size    string // the variant label ("200 g"); "" for a single unnamed size
	Aliases []string
	Needs   []string
	Gift    bool
	House   bool // the brand is the store's own label
	// Sized: the family's variants are sizes, so "the bigger one" means the next one up.
	Sized bool

	fam *family
	cat *category
}

// Staff is a product's staff-only data.
type Staff struct {
	Backroom int64
	Supplier string
	Cost     int64 // cents
	Notes    string
}

// FAQ is one FAQ of a generated store.
type FAQ struct {
	ID       string // as the catalog resolves it
	Explicit bool   // the file states the ID (otherwise "<store id>.faq-<n>")
	Topic    string
	Question string
	Answer   string
	Tags     []string
}

type currencySpec struct {
	Code    string
	Factor  int64 // per mille of a EUR price
	Zones   []string
	Cities  []string
	Symbol  string
	Words   []string // how customers say it after a number
	Unit    string   // "euro" (for "per euro spent")
	Endings []int64
	EAN     []string // barcode prefixes
	Phone   string   // phone number prefix
	Streets []string
}

var currencies = []*currencySpec{
	{Code: "EUR", Factor: 1000, Zones: list("Europe/Berlin, Europe/Paris, Europe/Madrid, Europe/Vienna, Europe/Amsterdam, Europe/Rome, Europe/Dublin, Europe/Brussels"),
		Cities: list("Berlin, Lyon, Valencia, Graz, Utrecht, Bologna, Cork, Ghent"), Symbol: "€", Words: list("euros, eur, €, euro"), Unit: "euro",
		Endings: []int64{99, 49, 95, 79, 29, 50, 89, 19, 69}, EAN: list("400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 420, 440, 300, 340, 800, 810, 840, 870, 871"),
		Phone: "+49 30", Streets: list("Lindenstraße, Rue Victor Hugo, Calle Mayor, Hauptplatz, Oudegracht, Via Roma, Main Street, Korenmarkt")},
	{Code: "USD", Factor: 1100, Zones: list("America/New_York, America/Chicago, America/Denver, America/Los_Angeles"),
		Cities: list("Albany, Madison, Boulder, Pasadena"), Symbol: "$", Words: list("dollars, bucks, usd, $"), Unit: "dollar",
		Endings: []int64{99, 49, 97, 79, 29, 50, 89, 19}, EAN: list("0"),
		Phone: "+1 555", Streets: list("Main Street, Elm Avenue, Oak Street, Maple Avenue, 5th Street")},
	{Code: "GBP", Factor: 870, Zones: list("Europe/London"),
		Cities: list("Leeds, Bristol, York, Norwich, Brighton"), Symbol: "£", Words: list("pounds, quid, gbp, £"), Unit: "pound",
		Endings: []int64{99, 49, 95, 79, 29, 50, 89, 25}, EAN: list("50"),
		Phone: "+44 113", Streets: list("High Street, Market Street, Church Lane, Station Road, Victoria Road")},
	{Code: "CHF", Factor: 1050, Zones: list("Europe/Zurich"),
		Cities: list("Zürich, Bern, Luzern, Basel, Winterthur"), Symbol: "CHF", Words: list("francs, chf, franks"), Unit: "franc",
		Endings: []int64{90, 95, 50, 80, 20, 40}, EAN: list("76"),
		Phone: "+41 44", Streets: list("Bahnhofstrasse, Marktgasse, Kramgasse, Seestrasse")},
	{Code: "SEK", Factor: 11000, Zones: list("Europe/Stockholm"),
		Cities: list("Uppsala, Malmö, Göteborg, Lund"), Symbol: "kr", Words: list("kronor, kr, sek, crowns"), Unit: "krona",
		Endings: []int64{90, 0, 50, 95}, EAN: list("73"),
		Phone: "+46 8", Streets: list("Storgatan, Drottninggatan, Kungsgatan")},
	{Code: "PLN", Factor: 4300, Zones: list("Europe/Warsaw"),
		Cities: list("Kraków, Gdańsk, Poznań, Wrocław"), Symbol: "zł", Words: list("zloty, zł, pln"), Unit: "złoty",
		Endings: []int64{99, 49, 89, 29, 79}, EAN: list("590"),
		Phone: "+48 12", Streets: list("ulica Długa, ulica Floriańska, ulica Świętojańska")},
}

func currencyByCode(code string) *currencySpec {
	for _, c := range currencies {
		if c.Code == strings.ToUpper(code) {
			return c
		}
	}
	return nil
}

// storeStyle is how a store writes its catalog.
type storeStyle struct {
	names   int // 0 "Name Size", 1 "Name, Size", 2 "Brand Name Size", 3 "Name (Size)"
	skus    int // 0 "PH-0101", 1 "XY1234", 2 "HW-DRL-18V", 3 "204518"
	aisles  int // 0 "2A", 1 "Aisle 7", 2 "B12", 3 "Bay 14"
	money   int // 0 "4.95 EUR", 1 "€4.95", 2 "EUR 4.95"
	barcode int // percent of products with a barcode
	house   string
}

// NewStore generates a store. Errors are only for a bad spec; every generated store parses
// with catalog.ParseStoreFile (the package's tests hold it to that for every kind).
func NewStore(spec StoreSpec) (*Store, error) {
	k := kinds[spec.Kind]
	if k == nil {
		return nil, fmt.Errorf("synth: unknown store kind %q (have %s)", spec.Kind, strings.Join(Kinds(), ", "))
	}
	root := newRNG(spec.Seed ^ hash64("store/"+spec.Kind+"/"+spec.Split.String()))
	s := &Store{Spec: spec, Kind: k.Name, kind: k}

	r := root.derive("identity")
	s.cur = pick(r, currencies)
	if spec.Currency != "" {
		if s.cur = currencyByCode(spec.Currency); s.cur == nil {
			return nil, fmt.Errorf("synth: unknown currency %q", spec.Currency)
		}
	}
	s.Currency = s.cur.Code
	zi := r.intn(len(s.cur.Zones))
	s.TimeZone = s.cur.Zones[zi]
	firsts := allowed(spec.Split, k.NameFirst)
	if len(firsts) == 0 {
		firsts = k.NameFirst
	}
	first := pick(r, firsts)
	s.first = first
	s.Name = first + " " + pick(r, k.NameLast)
	if spec.Name != "" {
		s.Name = spec.Name
	}
	s.ID = slug(s.Name)
	if spec.ID != "" {
		s.ID = spec.ID
	}
	if !catalog.ValidID(s.ID) {
		return nil, fmt.Errorf("synth: store ID %q is not a valid catalog ID", s.ID)
	}
	if r.chance(70) {
		s.Address = fmt.Sprintf("%d %s, %s", r.between(1, 140), pick(r, s.cur.Streets), s.cur.Cities[zi%len(s.cur.Cities)])
	}
	s.style = storeStyle{names: r.intn(4), skus: r.intn(4), aisles: r.intn(4), money: r.intn(3), barcode: r.between(30, 90)}
	var err error
	if s.style.skus, err = styleIndex(skuStyles, spec.SKUStyle, s.style.skus); err != nil {
		return nil, err
	}
	if s.style.aisles, err = styleIndex(aisleStyles, spec.AisleStyle, s.style.aisles); err != nil {
		return nil, err
	}
	if r.chance(50) {
		s.style.house = first + pick(r, []string{"", " Essentials", " Basics", " Select"})
	}

	target := spec.Products
	if target <= 0 {
		target = root.derive("size").between(40, 90)
	}
	s.chooseProducts(root.derive("assortment"), target)
	s.assignCodes(root.derive("codes"))
	s.assignStock(root.derive("stock"))
	s.makeFAQs(root.derive("faq"), first)
	if _, err := s.StoreFile(); err != nil {
		return nil, fmt.Errorf("synth: generated store %s does not parse: %w", s.ID, err)
	}
	return s, nil
}

func allowed(split Split, xs []string) []string {
	var out []string
	for _, x := range xs {
		if split.Allows(x) {
			out = append(out, x)
		}
	}
	return out
}

// chooseProducts picks categories, families, brands and sizes until the target is reached.
func (s *Store) chooseProducts(r *rng, target int) {
	split := s.Spec.Split
	type catPlan struct {
		cat    *category
		fams   []*family
		brands []string
		next   int
	}
	var kindBrands []string
	for _, c := range s.kind.Cats {
		kindBrands = append(kindBrands, allowed(split, c.Brands)...)
	}
	var plans []*catPlan
	for _, c := range s.kind.Cats {
		var fs []*family
		for _, f := range c.Fams {
			if split.Allows(f.Name) {
				fs = append(fs, f)
			}
		}
		if len(fs) == 0 {
			continue
		}
		shuffle(r, fs)
		b := allowed(split, c.Brands)
		if len(b) == 0 && s.style.house != "" {
			b = []string{s.style.house}
		}
		if len(b) == 0 {
			b = sample(r, kindBrands, 2)
		}
		plans = append(plans, &catPlan{cat: c, fams: fs, brands: b})
	}
	shuffle(r, plans)
	// Fewer, fuller departments for small stores; every department when the target needs it.
	ncat := min(len(plans), max(5, target/6))
	active := plans[:ncat]
	var chosen []*Product
	for len(chosen) < target {
		added := false
		for _, p := range active {
			if p.next >= len(p.fams) || len(chosen) >= target {
				continue
			}
			f := p.fams[p.next]
			p.next++
			chosen = append(chosen, s.familyProducts(r, f, p.brands)...)
			added = true
		}
		if !added {
			if ncat >= len(plans) {
				break
			}
			active = append(active, plans[ncat])
			ncat++
		}
	}
	// File order: departments in the vocabulary's order, then families, brands and sizes.
	rank := map[*category]int{}
	for i, c := range s.kind.Cats {
		rank[c] = i
	}
	famRank := map[*family]int{}
	for _, c := range s.kind.Cats {
		for i, f := range c.Fams {
			famRank[f] = i
		}
	}
	sort.SliceStable(chosen, func(i, j int) bool {
		a, b := chosen[i], chosen[j]
		if a.cat != b.cat {
			return rank[a.cat] < rank[b.cat]
		}
		if a.fam != b.fam {
			return famRank[a.fam] < famRank[b.fam]
		}
		if a.Brand != b.Brand {
			return a.Brand < b.Brand
		}
		return a.Variant < b.Variant
	})
	s.Products = chosen
	seen := map[*category]bool{}
	for _, p := range chosen {
		if !seen[p.cat] {
			seen[p.cat] = true
			s.cats = append(s.cats, p.cat)
		}
	}
	s.nameProducts()
}

var nonSizeLabels = map[string]bool{"s": true, "m": true, "l": true, "xl": true, "regular": true, "large": true,
	"slice": true, "whole": true, "1 slice": true}

func isSized(f *family) bool {
	if len(f.Variants) < 2 {
		return false
	}
	for _, v := range f.Variants {
		l := strings.ToLower(v.Label)
		if !nonSizeLabels[l] && !strings.ContainsAny(l, "0123456789") {
			return false
		}
	}
	return true
}

// familyProducts makes the products of one family: one brand with a run of sizes, sometimes
// a second (house or other) brand with one size.
func (s *Store) familyProducts(r *rng, f *family, brands []string) []*Product {
	n := len(f.Variants)
	lo, hi := 0, n-1
	if n > 1 && r.chance(45) {
		lo = r.intn(n)
		hi = lo + r.intn(n-lo)
	}
	brand := ""
	if len(brands) > 0 {
		brand = pick(r, brands)
	}
	tier := pick(r, []int64{880, 1000, 1000, 1000, 1150, 1300})
	out := s.sizes(r, f, brand, tier, lo, hi)
	if r.chance(22) {
		second, stier := "", int64(0)
		switch {
		case s.style.house != "" && r.chance(60):
			second, stier = s.style.house, 740
		case len(brands) > 1:
			for second == "" || second == brand {
				second = pick(r, brands)
			}
			stier = pick(r, []int64{850, 1000, 1200})
		}
		if second != "" && second != brand {
			v := r.between(lo, hi)
			out = append(out, s.sizes(r, f, second, stier, v, v)...)
		}
	}
	return out
}

func (s *Store) sizes(r *rng, f *family, brand string, tier int64, lo, hi int) []*Product {
	jitter := int64(r.between(930, 1070))
	var out []*Product
	var prev int64
	for i := lo; i <= hi; i++ {
		v := f.Variants[i]
		price := s.roundPrice(r, v.Base*tier/1000*s.cur.Factor/1000*jitter/1000)
		if i > lo {
			if v.Base == f.Variants[i-1].Base {
				price = prev
			} else {
				for price <= prev {
					price += 100
				}
			}
		}
		prev = price
		p := &Product{Brand: brand, Category: f.cat.Name, Price: price, Currency: s.cur.Code,
			Family: f.Name, Variant: i, Size: v.Label, Aliases: f.Aliases, Needs: f.Needs, Gift: f.Gift,
			Sized: isSized(f), House: brand != "" && brand == s.style.house, fam: f, cat: f.cat}
		out = append(out, p)
	}
	return out
}

// roundPrice gives cents a price ending of the store's currency: 4.99, 12.49, 3.90.
func (s *Store) roundPrice(r *rng, cents int64) int64 {
	whole := cents / 100
	end := pick(r, s.cur.Endings)
	if whole >= 200 && r.chance(50) {
		end = pick(r, []int64{0, 90, 99})
	}
	if whole == 0 {
		return pick(r, []int64{49, 59, 69, 79, 89, 99})
	}
	return whole*100 + end
}

// nameProducts writes product names in the store's style, brand first where two brands of a
// family sit side by side, and keeps names unique.
func (s *Store) nameProducts() {
	brands := map[*family]map[string]bool{}
	for _, p := range s.Products {
		if brands[p.fam] == nil {
			brands[p.fam] = map[string]bool{}
		}
		brands[p.fam][p.Brand] = true
	}
	used := map[string]bool{}
	for _, p := range s.Products {
		base := p.Family
		if (s.style.names == 2 || len(brands[p.fam]) > 1) && p.Brand != "" {
			base = p.Brand + " " + base
		}
		name := base
		if p.Size != "" {
			switch s.style.names {
			case 1:
				name = base + ", " + p.Size
			case 3:
				name = base + " (" + p.Size + ")"
			default:
				name = base + " " + p.Size
			}
		}
		if used[name] && p.Brand != "" {
			name = p.Brand + " " + name
		}
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("%s #%d", name, i)
		}
		used[name] = true
		p.Name = name
		if len(p.Needs) > 0 && strings.HasPrefix(p.Needs[0], "for ") {
			p.Desc = "Ideal " + p.Needs[0] + "."
		}
	}
}

// assignCodes gives SKUs, barcodes and aisles.
func (s *Store) assignCodes(r *rng) {
	usedSKU := map[string]bool{}
	usedBC := map[string]bool{}
	aisleOf := s.planAisles(r)
	catIdx := map[*category]int{}
	for i, c := range s.cats {
		catIdx[c] = i + 1
	}
	item := map[*category]int{}
	for _, p := range s.Products {
		item[p.cat]++
		var sku string
		switch s.style.skus {
		case 0: // "PH-0101"
			sku = fmt.Sprintf("%s-%02d%02d", code2(p.cat), catIdx[p.cat], item[p.cat])
		case 1: // "XY1234"
			sku = fmt.Sprintf("%s%04d", code2(p.cat), r.between(1000, 9999))
		case 2: // "HW-DRL-18V"
			sku = fmt.Sprintf("%s-%s-%s", s.kind.SKUPrefix, famCode(p.Family), sizeCode(p.Size))
		default: // "204518"
			sku = strconv.Itoa(r.between(100000, 999999))
		}
		for i := 2; usedSKU[sku] || !catalog.ValidID(sku); i++ {
			switch s.style.skus {
			case 1:
				sku = fmt.Sprintf("%s%04d", code2(p.cat), r.between(1000, 9999))
			case 3:
				sku = strconv.Itoa(r.between(100000, 999999))
			default:
				sku = fmt.Sprintf("%s-%d", strings.TrimSuffix(sku, fmt.Sprintf("-%d", i-1)), i)
			}
		}
		usedSKU[sku] = true
		p.SKU = sku
		if r.chance(s.style.barcode) {
			for p.Barcode == "" || usedBC[p.Barcode] {
				p.Barcode = ean(r, pick(r, s.cur.EAN))
			}
			usedBC[p.Barcode] = true
		}
		p.Aisle = aisleOf(p)
	}
}

func code2(c *category) string {
	if len(c.Code) >= 2 {
		return c.Code[:2]
	}
	return "XX"
}

// famCode is three letters for a family: "Cordless Drill Driver 18V" -> "CDD".
func famCode(name string) string {
	var b strings.Builder
	ws := words(name)
	for _, w := range ws {
		if w[0] >= 'a' && w[0] <= 'z' {
			b.WriteByte(w[0] - 'a' + 'A')
		}
		if b.Len() == 3 {
			break
		}
	}
	for i := 1; b.Len() < 3 && len(ws) > 0 && i < len(ws[0]); i++ {
		if c := ws[0][i]; c >= 'a' && c <= 'z' {
			b.WriteByte(c - 'a' + 'A')
		}
	}
	return b.String()
}

// sizeCode is a SKU part for a size label: "500 g" -> "500G", "4 x 125 g" -> "4X125G".
func sizeCode(label string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(foldAccents(label)) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else if r == '.' {
			b.WriteByte('.')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		return "STD"
	}
	if len(out) > 12 {
		out = out[:12]
	}
	return out
}

// ean makes an EAN-13 with a valid check digit from a prefix ("400"; "0" gives a UPC-A
// written as 13 digits).
func ean(r *rng, prefix string) string {
	b := []byte(prefix)
	for len(b) < 12 {
		b = append(b, byte('0'+r.intn(10)))
	}
	sum := 0
	for i, c := range b {
		d := int(c - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return string(b) + strconv.Itoa((10-sum%10)%10)
}

// planAisles returns the aisle of each product in the store's aisle style: each department
// gets an aisle number, large ones spill into a second bay.
func (s *Store) planAisles(r *rng) func(*Product) string {
	count := map[*category]int{}
	for _, p := range s.Products {
		count[p.cat]++
	}
	num := map[*category]int{}
	n := r.between(1, 3)
	letters := "ABCDEFGH"
	for _, c := range s.cats {
		num[c] = n
		n += 1 + r.intn(2)
	}
	seen := map[*category]int{}
	return func(p *Product) string {
		seen[p.cat]++
		second := count[p.cat] > 5 && seen[p.cat] > count[p.cat]/2
		a := num[p.cat]
		switch s.style.aisles {
		case 0: // "2A"
			l := 0
			if second {
				l = 1
			}
			return fmt.Sprintf("%d%c", a, letters[l])
		case 1: // "Aisle 7"
			if second {
				a++
			}
			return fmt.Sprintf("Aisle %d", a)
		case 2: // "B12"
			zone := letters[(a/4)%len(letters)]
			bay := a*3%40 + 1
			if second {
				bay++
			}
			return fmt.Sprintf("%c%d", zone, bay)
		default: // "Bay 14"
			bay := a * 2
			if second {
				bay++
			}
			return fmt.Sprintf("Bay %d", bay)
		}
	}
}

var notesTemplates = []string{
	"Reorder at {n} units", "Keep on the end cap until {month}", "Fragile: keep on the bottom shelf",
	"Supplier delivers on {weekday}s", "Discontinued, sell through", "Price check due {month}",
	"Keep behind the counter", "Max {small} per customer", "Batch {batch} recalled, shelf checked",
	"Seasonal line, reorder in {month}", "New line from week {week}", "Check dates weekly, short shelf life",
}

// assignStock fills shelf stock (some 0, some 1 to 3) and staff data on most products.
func (s *Store) assignStock(r *rng) {
	months := list("January, February, March, April, May, June, July, August, September, October, November, December")
	days := list("Monday, Tuesday, Wednesday, Thursday, Friday")
	suppliers := sample(r, s.kind.Suppliers, r.between(2, 4))
	for _, p := range s.Products {
		switch x := r.intn(100); {
		case x < 12:
			p.Stock = 0
		case x < 27:
			p.Stock = int64(r.between(1, 3))
		case x < 85:
			p.Stock = int64(r.between(4, 30))
		default:
			p.Stock = int64(r.between(31, 120))
		}
		if !r.chance(85) {
			continue
		}
		st := &Staff{Cost: p.Price * int64(r.between(42, 72)) / 100}
		if r.chance(80) {
			st.Backroom = int64(r.between(1, 150))
		}
		if r.chance(92) {
			st.Supplier = pick(r, suppliers)
		}
		if r.chance(30) {
			n := pick(r, notesTemplates)
			n = strings.NewReplacer("{n}", strconv.Itoa(r.between(5, 40)), "{small}", strconv.Itoa(r.between(2, 6)),
				"{month}", pick(r, months), "{weekday}", pick(r, days), "{week}", strconv.Itoa(r.between(2, 50)),
				"{batch}", fmt.Sprintf("L%d%03d", r.between(2, 9), r.intn(1000))).Replace(n)
			st.Notes = n
		}
		p.Staff = st
	}
}

// money writes an amount the store's way: "4.95 EUR", "€4.95" or "EUR 4.95".
func (s *Store) money(cents int64) string {
	a := catalog.Major(cents)
	switch s.style.money {
	case 1:
		if len(s.cur.Symbol) == 1 || s.cur.Symbol == "€" || s.cur.Symbol == "£" {
			return s.cur.Symbol + a
		}
		return a + " " + s.cur.Symbol
	case 2:
		return s.cur.Code + " " + a
	}
	return a + " " + s.cur.Code
}

// niceMoney scales a EUR amount to the store's currency and rounds it to a round figure.
func (s *Store) niceMoney(eurCents int64) int64 {
	c := eurCents * s.cur.Factor / 1000
	switch {
	case c >= 10000:
		return c / 1000 * 1000
	case c >= 500:
		return c / 100 * 100
	case c >= 200:
		return c/100*100 - 5
	}
	return max(c/10*10, 10) + 9
}

func (s *Store) makeFAQs(r *rng, first string) {
	money := func(eur int) string { return s.money(s.niceMoney(int64(eur))) }
	opens := list("7:00, 7:30, 8:00, 8:30, 9:00, 9:30")
	closes := list("18:00, 18:30, 19:00, 19:30, 20:00, 21:00, 22:00")
	satCloses := list("13:00, 14:00, 16:00, 17:00, 18:00, 20:00")
	sunday := pick(r, []string{"closed on Sundays", "Sunday 10:00-16:00", "Sundays 11:00-17:00", "closed on Sundays and public holidays"})
	returnsNote := pick(r, []string{"Sale items cannot be returned.", "Gift receipts are accepted.", "Refunds go back to the original payment method."})
	if s.Kind == "pharmacy" {
		returnsNote = "Medicines cannot be returned once they have left the pharmacy."
	}
	word := strings.Fields(first)[0]
	oi := r.intn(len(opens))
	s.slots = map[string]string{
		"open": opens[oi], "close": pick(r, closes), "satopen": opens[oi+r.intn(len(opens)-oi)], "satclose": pick(r, satCloses),
		"sunday": sunday, "Sunday": capitalize(sunday),
		"days": pick(r, list("14, 28, 30, 60")), "returnsnote": returnsNote, "cardmin": money(500),
		"parkhours": strconv.Itoa(r.between(1, 3)), "parkspaces": strconv.Itoa(r.between(12, 120)),
		"network":  slug(word) + pick(r, []string{"-Guest", "_Free", "-Customers"}),
		"wifimins": pick(r, list("30, 60, 120")), "toiletnear": pick(r, list("customer service desk, café, fitting rooms, bottle return")),
		"toiletpublic": pick(r, list("shopping centre across the road, library next door, town hall on the square")),
		"radius":       strconv.Itoa(r.between(3, 15)), "delivfee": money(r.between(3, 8) * 100), "delivfree": money(r.between(3, 10) * 1000),
		"cutoff": pick(r, list("11:00, 12:00, 14:00")), "unit": s.cur.Unit,
		"loyaltyname": word + pick(r, []string{" Club", " Rewards", "Card", " Plus"}), "points": pick(r, list("100, 250, 500")),
		"reward": money(500), "percent": pick(r, list("5, 10, 15")), "loyaltyday": pick(r, list("Tuesday, first Saturday of the month, Wednesday")),
		"street": pick(r, s.cur.Streets), "giftmin": money(1000), "giftmax": money(20000), "giftyears": strconv.Itoa(r.between(1, 3)),
		"collecthours": pick(r, list("2, 4")), "collectdays": pick(r, list("3, 5, 7")), "bagprice": money(r.between(1, 3) * 10),
		"noticedays": pick(r, list("2, 3, 7")), "phone": fmt.Sprintf("%s %07d", s.cur.Phone, r.intn(10000000)),
		"platterprice": money(2500), "keyprice": money(r.between(4, 7) * 100), "keymins": pick(r, list("5, 10")),
		"hireprice": money(r.between(15, 30) * 100), "deposit": money(5000), "repairhours": pick(r, list("1, 2")),
		"repairdays": strconv.Itoa(r.between(3, 7)), "rxhours": strconv.Itoa(r.between(2, 4)), "rxdays": strconv.Itoa(r.between(2, 3)),
		"bpmins": pick(r, list("5, 10")), "groomprice": money(3500), "guaranteeyears": pick(r, list("2, 5")),
		"orderdays": strconv.Itoa(r.between(2, 5)), "wrapmin": money(2000), "wrapprice": money(200), "eventtime": pick(r, list("10:30, 11:00")),
		"listweeks": pick(r, list("4, 6")), "bikeprice": money(4500), "stringprice": money(1800), "cakeprice": money(2800),
		"alterprice": money(800),
	}
	var pool []string
	inPool := map[string]bool{}
	for _, t := range append(append([]string(nil), commonTopics...), s.kind.Topics...) {
		if inPool[t] { // a kind may list a common topic again (pets for the pet shop)
			continue
		}
		inPool[t] = true
		required := false
		for _, q := range requiredTopics {
			if q == t {
				required = true
			}
		}
		if !required {
			pool = append(pool, t)
		}
	}
	topics := append(append([]string(nil), requiredTopics...), sample(r, pool, r.between(5, 9))...)
	shuffle(r, topics[1:]) // opening hours first, the rest in any order
	for i, t := range topics {
		tp := faqTopics[t]
		if tp == nil {
			panic("synth: unknown FAQ topic " + t)
		}
		f := &FAQ{Topic: t, Question: pick(r, tp.Questions), Answer: fill(pick(r, tp.Answers), s.slots), Tags: tp.Tags}
		if r.chance(30) {
			f.ID, f.Explicit = s.ID+"-"+strings.ReplaceAll(t, "_", "-"), true
		} else {
			f.ID = fmt.Sprintf("%s.faq-%d", s.ID, i+1)
		}
		s.FAQs = append(s.FAQs, f)
	}
}

// fill replaces {slot}s.
func fill(tmpl string, slots map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		key := tmpl[i+1 : i+j]
		v, ok := slots[key]
		if !ok {
			panic("synth: no slot " + key)
		}
		b.WriteString(tmpl[:i])
		b.WriteString(v)
		tmpl = tmpl[i+j+1:]
	}
}

// JSON renders the store as STORE.json (catalog.WriteStoreFile: one product and one FAQ per line).
func (s *Store) JSON() []byte {
	sf := &catalog.StoreFile{Store: catalog.Store{ID: s.ID, Name: s.Name, TimeZone: s.TimeZone, Address: s.Address}}
	for _, p := range s.Products {
		rec := catalog.ProductRecord{Product: catalog.Product{SKU: p.SKU, Name: p.Name, Category: p.Category, Brand: p.Brand,
			Description: p.Desc, Price: p.Price, Currency: p.Currency}}
		st := catalog.StockRecord{Stock: catalog.Stock{SKU: p.SKU, Quantity: p.Stock, Aisle: p.Aisle}}
		if p.Barcode != "" {
			rec.Attributes = map[string]string{catalog.AttrBarcode: p.Barcode}
		}
		if p.Staff != nil {
			rec.Staff = catalog.ProductStaff{Supplier: p.Staff.Supplier, Cost: p.Staff.Cost, Notes: p.Staff.Notes}
			st.Staff.Backroom = p.Staff.Backroom
		}
		sf.Products, sf.Stock = append(sf.Products, rec), append(sf.Stock, st)
	}
	for _, f := range s.FAQs {
		id := ""
		if f.Explicit {
			id = f.ID
		}
		sf.FAQs = append(sf.FAQs, catalog.FAQ{ID: id, Question: f.Question, Answer: f.Answer, Tags: f.Tags})
	}
	var b bytes.Buffer
	if err := catalog.WriteStoreFile(&b, sf); err != nil {
		panic(err) // one stock line per product, by construction
	}
	return b.Bytes()
}

// StoreFile parses the store's own STORE.json, as `slm ask -catalog` would.
func (s *Store) StoreFile() (*catalog.StoreFile, error) {
	sf, err := catalog.ParseStoreFile(bytes.NewReader(s.JSON()))
	if err != nil {
		return nil, fmt.Errorf("%s", catalog.FirstProblem(err))
	}
	return sf, nil
}

// Product returns the product with this SKU, or nil.
func (s *Store) Product(sku string) *Product {
	for _, p := range s.Products {
		if p.SKU == sku {
			return p
		}
	}
	return nil
}

// FAQByTopic returns the store's FAQ on a topic ("hours"), or nil.
func (s *Store) FAQByTopic(topic string) *FAQ {
	for _, f := range s.FAQs {
		if f.Topic == topic {
			return f
		}
	}
	return nil
}

// Categories returns the names of the categories the store carries, in file order.
func (s *Store) Categories() []string {
	out := make([]string, len(s.cats))
	for i, c := range s.cats {
		out[i] = c.Name
	}
	return out
}
