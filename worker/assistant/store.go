package assistant

import (
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"aisle/sync/catalog"
	"aisle/sync/replica"
	"aisle/worker/assistant/embed"
	"aisle/worker/assistant/lang"
)

// Data is one store's catalog as the assistant reads it: the device's synced replica
// (replica.Catalog.Contents), or a STORE.json file (FromStoreFile). Staff maps are nil on
// customer devices; vectors the server computed are used when their model is this build's.
type Data = replica.Contents

// FromStoreFile returns the data of a store file. staff keeps the staff fields (a staff
// device); without it they are dropped here, so nothing downstream can state them.
func FromStoreFile(f *catalog.StoreFile, staff bool) Data {
	d := Data{Store: f.Store, FAQs: f.FAQs}
	if staff {
		d.StockStaff = map[string]catalog.StockStaff{}
		d.ProductStaff = map[string]catalog.ProductStaff{}
	}
	for i, p := range f.Products {
		d.Products = append(d.Products, p.Product)
		d.Stock = append(d.Stock, f.Stock[i].Stock)
		if staff {
			d.ProductStaff[p.SKU] = p.Staff
			d.StockStaff[p.SKU] = f.Stock[i].Staff
		}
	}
	return d
}

// Item is one product the store carries.
type Item struct {
	catalog.Product
	Quantity  int64  // on the shelf
	Aisle     string // "" when not given
	Staff     *StaffInfo
	Promotion *catalog.Promotion // the best promotion running now, if any

	vec       embed.Vector
	nameWords []lang.Word
	nameStem  []string           // stems of the name's words
	allStem   []string           // name, brand and category stems (what lexical search sees)
	size      Size               // parsed from the name; zero when none
	concepts  map[uint16]float32 // its concepts: 1 for those of its category and head noun, 0.5 for the other words
	heads     [2]string          // the stems of what it is: its name's head noun and its category's
	family    string             // name stems without size words: items of one family differ only in size
}

// StaffInfo is what only staff devices know about an item.
type StaffInfo struct {
	Backroom   int64
	Supplier   string
	Cost       int64 // minor units, the price's currency
	Notes      string
	StockNotes string
}

// FAQEntry is one FAQ with its vector.
type FAQEntry struct {
	catalog.FAQ
	Own        bool // the store's own (before chain-wide ones)
	vec        embed.Vector
	stem       []string // question and tags stems
	answerStem []string
	concepts   map[uint16]bool // of its question and tags
}

// Category is a category the store carries, with where it is shelved.
type Category struct {
	Name     string
	Aisles   []string
	Items    []*Item
	vec      embed.Vector
	stems    []string
	concepts map[uint16]float32 // the concepts of its name and its products' names, 0..1
}

// Store is the indexed catalog of one store: built once per checkpoint, read by any number of
// questions concurrently.
type Store struct {
	Info       catalog.Store
	Items      []*Item
	FAQs       []*FAQEntry
	Categories []*Category
	Staff      bool // staff fields are present (a staff device)

	bySKU     map[string]*Item // upper-case SKU, and SKU without separators
	byBarcode map[string]*Item
	index     *index

	proseOnce    sync.Once // proseVocabulary
	proseScripts []*unicode.RangeTable
	proseOdd     map[string]bool
}

// FewLeft is the largest shelf quantity that counts as "few left".
const FewLeft = 3

// NewStore indexes d. now decides which promotions are running. Products without a stock line in
// this store and inactive products are left out; so are FAQs of other stores.
func NewStore(d Data, now time.Time) *Store {
	s := &Store{Info: d.Store, bySKU: map[string]*Item{}, byBarcode: map[string]*Item{}}
	s.Staff = d.StockStaff != nil || d.ProductStaff != nil
	stock := map[string]catalog.Stock{}
	for _, st := range d.Stock {
		stock[st.SKU] = st
	}
	promos := map[string]*catalog.Promotion{}
	for i := range d.Promotions {
		p := &d.Promotions[i]
		if (p.Store != "" && p.Store != d.Store.ID) || !p.ActiveAt(now) {
			continue
		}
		for _, sku := range p.SKUs {
			if cur := promos[sku]; cur == nil || p.DiscountPercent > cur.DiscountPercent {
				promos[sku] = p
			}
		}
	}
	for _, p := range d.Products {
		st, ok := stock[p.SKU]
		if !ok || !p.Active {
			continue
		}
		it := &Item{Product: p, Quantity: st.Quantity, Aisle: strings.TrimSpace(st.Aisle), Promotion: promos[p.SKU]}
		if s.Staff {
			ps, ss := d.ProductStaff[p.SKU], d.StockStaff[p.SKU]
			it.Staff = &StaffInfo{Backroom: ss.Backroom, Supplier: ps.Supplier, Cost: ps.Cost, Notes: ps.Notes, StockNotes: ss.Notes}
		}
		if v, ok := embed.Decode(d.Vectors["product:"+p.SKU]); ok {
			it.vec = v
		} else {
			it.vec = embed.Product(p)
		}
		name := lang.Words(p.Name)
		it.nameWords = name
		for _, w := range name {
			it.nameStem = append(it.nameStem, w.Stem)
		}
		it.allStem = append(append(append([]string(nil), it.nameStem...), lang.Stems(p.Brand)...), lang.Stems(p.Category)...)
		it.size = parseSize(name)
		it.concepts = itemConcepts(name, p.Name, p.Category)
		it.heads = [2]string{headStem(p.Name), headStem(p.Category)}
		it.family = familyKey(p, name)
		s.Items = append(s.Items, it)
	}
	sort.Slice(s.Items, func(i, j int) bool { return s.Items[i].SKU < s.Items[j].SKU })
	for _, it := range s.Items {
		s.bySKU[strings.ToUpper(it.SKU)] = it
		if k := squash(it.SKU); k != "" {
			if _, taken := s.bySKU[k]; !taken {
				s.bySKU[k] = it
			}
		}
		if bc := it.Attributes[catalog.AttrBarcode]; bc != "" {
			s.byBarcode[bc] = it
		}
	}
	for _, f := range d.FAQs {
		if f.Store != "" && f.Store != d.Store.ID {
			continue
		}
		e := &FAQEntry{FAQ: f, Own: f.Store != ""}
		if v, ok := embed.Decode(d.Vectors["faq:"+f.ID]); ok {
			e.vec = v
		} else {
			e.vec = embed.FAQ(f)
		}
		e.stem = lang.Stems(f.Question + " " + strings.Join(f.Tags, " "))
		e.answerStem = lang.Stems(f.Answer)
		e.concepts = map[uint16]bool{}
		for _, c := range conceptsOf(f.Question + " " + strings.Join(f.Tags, " ")) {
			e.concepts[c] = true
		}
		s.FAQs = append(s.FAQs, e)
	}
	sort.SliceStable(s.FAQs, func(i, j int) bool {
		if s.FAQs[i].Own != s.FAQs[j].Own {
			return s.FAQs[i].Own
		}
		return s.FAQs[i].ID < s.FAQs[j].ID
	})
	s.buildCategories()
	s.index = buildIndex(s)
	return s
}

// squash is a code without separators, upper case: "ph-0101" -> "PH0101".
func squash(code string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (s *Store) buildCategories() {
	byName := map[string]*Category{}
	for _, it := range s.Items {
		name := strings.TrimSpace(it.Category)
		if name == "" {
			continue
		}
		key := lang.Fold(name)
		c := byName[key]
		if c == nil {
			c = &Category{Name: name, stems: lang.Stems(name)}
			byName[key] = c
			s.Categories = append(s.Categories, c)
		}
		c.Items = append(c.Items, it)
		if it.Aisle != "" && !contains(c.Aisles, it.Aisle) {
			c.Aisles = append(c.Aisles, it.Aisle)
		}
	}
	for _, c := range s.Categories {
		sort.Strings(c.Aisles)
		// a category points where its name and its products point
		acc := make([]float32, embed.Dims)
		addVec(acc, embed.Text(c.Name), 2)
		for _, it := range c.Items {
			addVec(acc, it.vec, 1/float32(len(c.Items)))
		}
		c.vec = embed.FromFloats(acc)
		c.concepts = map[uint16]float32{}
		for _, id := range conceptsOf(c.Name) {
			c.concepts[id] = 1.5 // what the store calls the category weighs most
		}
		seen := map[uint16]int{}
		for _, it := range c.Items {
			for _, id := range conceptsOfWords(it.nameWords) {
				seen[id]++
			}
		}
		for id, n := range seen {
			c.concepts[id] = max(c.concepts[id], min(1, 0.5+float32(n)/float32(len(c.Items))))
		}
	}
	sort.Slice(s.Categories, func(i, j int) bool { return s.Categories[i].Name < s.Categories[j].Name })
}

func addVec(acc []float32, v embed.Vector, w float32) {
	var n float32
	for _, x := range v {
		n += float32(x) * float32(x)
	}
	if n == 0 {
		return
	}
	inv := w / sqrt32(n)
	for i, x := range v {
		acc[i] += float32(x) * inv
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// StockState is the stock badge of a shelf quantity.
func StockState(q int64) string {
	switch {
	case q <= 0:
		return "out_of_stock"
	case q <= FewLeft:
		return "few_left"
	}
	return "in_stock"
}

// conceptsOf are the concepts of a text's words and word pairs.
func conceptsOf(text string) []uint16 { return conceptsOfWords(lang.Words(text)) }

func conceptsOfWords(ws []lang.Word) []uint16 {
	var out []uint16
	for i, w := range ws {
		out = append(out, lang.Concepts(w.Stem)...)
		if i > 0 {
			out = append(out, lang.Concepts(ws[i-1].Stem+" "+w.Stem)...)
		}
	}
	return out
}

// headIndex is the index of the head noun of a name (its words, from raw): the last word before
// a comma, a parenthesis or " - " that is not a figure, a unit after a figure or a single
// letter ("Crystal UHD 4K Smart TV, 43 in" -> "tv", "Oval Wire Nails 40 mm" -> "nails",
// "Echo Dot (5th Gen)" -> "dot"); -1 when there is none.
func headIndex(name []lang.Word, raw string) int {
	cut := len(raw)
	for _, sep := range []string{",", "(", " - "} {
		if i := strings.Index(raw, sep); i >= 0 && i < cut {
			cut = i
		}
	}
	for i := len(name) - 1; i >= 0; i-- {
		w := name[i]
		if w.End > cut || w.Num || len(w.Norm) < 2 || i > 0 && name[i-1].Num && isUnit(w.Norm) {
			continue
		}
		return i
	}
	return -1
}

// headStem is the stem of the head noun of a name ("" when there is none).
func headStem(raw string) string {
	name := lang.Words(raw)
	if h := headIndex(name, raw); h >= 0 {
		return name[h].Stem
	}
	return ""
}

// itemConcepts weighs a product's concepts: those of its category and of its head noun (the
// last word of its name before a size or comma: "Oval Wire Nails 40 mm" -> "nails") are what it
// is, 1; those of other words (the "wire") only describe it, 0.5. raw is the name's text.
func itemConcepts(name []lang.Word, raw, category string) map[uint16]float32 {
	out := map[uint16]float32{}
	for _, c := range conceptsOfWords(name) {
		out[c] = 0.5
	}
	head := headIndex(name, raw)
	if head >= 0 {
		for _, c := range lang.Concepts(name[head].Stem) {
			out[c] = 1
		}
		if head > 0 {
			for _, c := range lang.Concepts(name[head-1].Stem + " " + name[head].Stem) {
				out[c] = 1
			}
		}
	}
	for _, c := range conceptsOf(category) {
		out[c] = 1
	}
	return out
}
