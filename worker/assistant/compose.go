package assistant

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"unicode"
)

// compose writes the deterministic text of an answer from its facts, and returns the key
// figures it states. Wording varies with the question (several phrasings per case, picked by
// a hash of the question, so the same question always reads the same).
func (s *Store) compose(a Answer, p parsed) (string, []string) {
	w := writer{seed: hash(p.raw), store: s}
	switch a.Intent {
	case IntentGreeting:
		w.pick(
			"Hello! I'm the assistant of %[1]s. Ask me about a product's price, stock or aisle, or about the store.",
			"Hi there! Welcome to %[1]s. What can I help you find today?",
			"Hello and welcome to %[1]s! I can tell you prices, what's in stock and where to find it.",
		)
	case IntentThanks:
		w.pick("You're welcome! Anything else I can help with?", "My pleasure! Let me know if you need anything else.",
			"Glad I could help. Anything else?")
	case IntentGoodbye:
		w.pick("Goodbye, and thank you for visiting %[1]s!", "Bye! Have a great day.", "Thanks for stopping by %[1]s. See you soon!")
	case IntentOffTopic:
		w.pick("Sorry, I can only help with this store: products, prices, stock, where to find things, and store information such as opening hours.",
			"I'm the store's assistant, so I can't help with that. Ask me about a product, its price or where to find it.",
			"That's outside what I know. I can tell you about our products, prices, stock and store services.")
	case IntentFAQ:
		w.say(a.faq.Answer)
		w.key(figures(a.faq.Answer)...)
	case IntentUnknownItem:
		w.unknown(a)
	case IntentStaff:
		w.staff(a)
	case IntentRecommendation:
		w.recommendation(a)
	case IntentComparison:
		w.comparison(a)
	case IntentPromotion:
		w.promotion(a)
	default: // price, availability, location
		switch {
		case a.category != nil && len(a.aspects) <= 1 && (len(a.items) == 0 || a.items[0].Category == a.category.Name && len(a.Facts) > 0 && a.Facts[0].Type == "category"):
			w.category(a)
		case len(a.items) == 0:
			w.pick("Which product do you mean? Tell me its name or its SKU and I'll check.",
				"Sure, which product is it? Its name or SKU is enough.",
				"Could you tell me which product you mean? The name or the SKU works.")
		case a.ambiguous && len(a.items) > 1:
			w.several(a)
		default:
			w.product(a)
		}
	}
	return strings.TrimSpace(w.b.String()), w.keys
}

type writer struct {
	b     strings.Builder
	seed  uint32
	n     int // picks so far, so two picks in one answer vary independently
	store *Store
	keys  []string
}

func hash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(strings.TrimSpace(s))))
	return h.Sum32()
}

// pick writes one of the variants (fmt formats; %[1]s is the store name).
func (w *writer) pick(variants ...string) {
	v := variants[int((w.seed>>uint(w.n*3%24))+uint32(w.n))%len(variants)]
	w.n++
	if strings.Contains(v, "%[1]s") {
		v = fmt.Sprintf(v, w.store.Info.Name)
	}
	w.say(v)
}

// choose returns one of the variants without writing it.
func (w *writer) choose(variants ...string) string {
	v := variants[int((w.seed>>uint(w.n*3%24))+uint32(w.n))%len(variants)]
	w.n++
	return v
}

func (w *writer) say(s string) {
	if w.b.Len() > 0 {
		w.b.WriteByte(' ')
	}
	w.b.WriteString(s)
}

func (w *writer) key(ks ...string) { w.keys = append(w.keys, ks...) }

// Money writes an amount for a customer: "€6.95", "$12.00", "£3.50", "6.95 CHF".
func Money(minor int64, currency string) string {
	m := Amount(minor).Major()
	switch strings.ToUpper(currency) {
	case "EUR":
		return "€" + m
	case "USD":
		return "$" + m
	case "GBP":
		return "£" + m
	}
	return m + " " + currency
}

func price(it *Item) string { return Money(effectivePrice(it), it.Currency) }

// aislePhrase is where an aisle is: "aisle 2A", "Aisle 7", "the Garden Centre section".
func aislePhrase(a string) string {
	switch {
	case a == "":
		return ""
	case strings.HasPrefix(strings.ToLower(a), "aisle"):
		return a
	case hasDigit(a) && !strings.Contains(a, " "):
		return "aisle " + a
	case hasDigit(a):
		return a
	}
	return "the " + a + " section"
}

// stockClause describes the shelf: "14 in stock", "only 2 left", "out of stock".
func stockClause(it *Item) string {
	switch {
	case it.Quantity <= 0:
		return "out of stock"
	case it.Quantity <= FewLeft:
		return "only " + strconv.FormatInt(it.Quantity, 10) + " left"
	}
	return strconv.FormatInt(it.Quantity, 10) + " in stock"
}

func (w *writer) stockKey(it *Item) {
	if it.Quantity > 0 {
		w.key(strconv.FormatInt(it.Quantity, 10))
	} else {
		w.key("out of stock")
	}
}

func (w *writer) priceKey(it *Item) { w.key(Amount(effectivePrice(it)).Major()) }

// promoNote mentions a running promotion: " (20% off this week, normally €2.49)".
func promoNote(it *Item) string {
	if it.Promotion == nil {
		return ""
	}
	return fmt.Sprintf(" (%d%% off: %s, normally %s)", it.Promotion.DiscountPercent, it.Promotion.Title, Money(it.Price, it.Currency))
}

// product writes the answer about one item for the asked aspects.
func (w *writer) product(a Answer) {
	it := a.items[0]
	if len(a.aspects) > 1 {
		var parts []string
		for _, as := range a.aspects {
			switch as {
			case IntentPrice:
				parts = append(parts, "costs "+price(it)+promoNote(it))
				w.priceKey(it)
			case IntentLocation:
				if it.Aisle != "" {
					parts = append(parts, "is in "+aislePhrase(it.Aisle))
					w.key(it.Aisle)
				} else {
					parts = append(parts, "has no aisle on file (a member of staff can show you)")
				}
			case IntentAvailability:
				if it.Quantity > 0 {
					parts = append(parts, "has "+stockClause(it))
				} else {
					parts = append(parts, "is out of stock right now")
				}
				w.stockKey(it)
			}
		}
		w.say(it.Name + " " + joinAnd(parts) + ".")
		w.staffStockNote(it)
		return
	}
	switch a.aspects[0] {
	case IntentPrice:
		w.priceKey(it)
		if it.Promotion != nil {
			w.say(fmt.Sprintf("%s is %s at the moment instead of %s (%s, %d%% off).", it.Name, price(it),
				Money(it.Price, it.Currency), it.Promotion.Title, it.Promotion.DiscountPercent))
		} else {
			w.say(fmt.Sprintf(w.choose("%s costs %s.", "%s is %s.", "The price of %s is %s.", "%s sells for %s."), it.Name, price(it)))
		}
		switch {
		case it.Quantity == 0:
			w.say(w.choose("It's out of stock right now, though.", "Note that it's sold out at the moment."))
		case it.Quantity <= FewLeft:
			w.say(fmt.Sprintf("Only %d left on the shelf%s.", it.Quantity, inAisle(it)))
		case it.Aisle != "":
			w.say(fmt.Sprintf(w.choose("You'll find it in %s.", "It's in %s."), aislePhrase(it.Aisle)))
		}
	case IntentLocation:
		if it.Aisle == "" {
			w.say(fmt.Sprintf("I don't have an aisle on file for %s; a member of staff can show you where it is.", it.Name))
		} else {
			w.key(it.Aisle)
			w.say(fmt.Sprintf(w.choose("%[1]s is in %[2]s.", "You'll find %[1]s in %[2]s.", "%[1]s is kept in %[2]s.",
				"Head to %[2]s for %[1]s."), it.Name, aislePhrase(it.Aisle)))
		}
		switch {
		case it.Quantity == 0:
			w.say("It's out of stock right now, though.")
		case it.Quantity <= FewLeft:
			w.say(fmt.Sprintf("Only %d left, so hurry.", it.Quantity))
		}
	default: // availability
		w.stockKey(it)
		switch {
		case it.Quantity == 0:
			w.say(fmt.Sprintf(w.choose("Sorry, %s is out of stock right now.", "I'm afraid %s is sold out at the moment.",
				"Sorry, we've run out of %s for now."), it.Name))
			if alt := a.ref; alt != nil {
				w.say(fmt.Sprintf("We do have %s in stock (%s%s) at %s.", alt.Name, stockClause(alt), commaAisle(alt), price(alt)))
			}
		case it.Quantity <= FewLeft:
			w.say(fmt.Sprintf(w.choose("Yes, but only %[2]d left: %[1]s%[3]s, at %[4]s.", "We have just %[2]d of %[1]s left%[3]s, at %[4]s."),
				it.Name, it.Quantity, inAisle(it), price(it)))
		default:
			w.say(fmt.Sprintf(w.choose("Yes, we have %[1]s in stock: %[2]d on the shelf%[3]s, at %[4]s.",
				"Yes! %[1]s is in stock (%[2]d available%[5]s) and costs %[4]s.",
				"We do: %[2]d of %[1]s on the shelf%[3]s, %[4]s each."),
				it.Name, it.Quantity, inAisle(it), price(it), commaAisle(it)))
		}
		w.staffStockNote(it)
	}
}

// staffStockNote adds the back room on staff devices to stock answers.
func (w *writer) staffStockNote(it *Item) {
	if it.Staff != nil && it.Staff.Backroom > 0 {
		w.say(fmt.Sprintf("Staff: %d more in the back room.", it.Staff.Backroom))
	}
}

func inAisle(it *Item) string {
	if it.Aisle == "" {
		return ""
	}
	return " in " + aislePhrase(it.Aisle)
}

func commaAisle(it *Item) string {
	if it.Aisle == "" {
		return ""
	}
	return ", " + aislePhrase(it.Aisle)
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// several lists the items that fit a question equally and asks which one.
func (w *writer) several(a Answer) {
	var parts []string
	for _, it := range a.items {
		var d string
		switch a.aspects[0] {
		case IntentPrice:
			d = price(it)
			w.priceKey(it)
		case IntentLocation:
			d = aislePhrase(it.Aisle)
			if d == "" {
				d = "no aisle on file"
			} else {
				w.key(it.Aisle)
			}
		default:
			d = stockClause(it) + ", " + price(it)
			w.stockKey(it)
		}
		parts = append(parts, it.Name+" ("+d+")")
	}
	switch a.aspects[0] {
	case IntentAvailability:
		w.say(fmt.Sprintf(w.choose("We have several that match: %s.", "There are a few options: %s."), joinAnd(parts)))
	default:
		w.say(fmt.Sprintf(w.choose("Several products match: %s. Which one do you mean?", "I found a few options: %s. Which one would you like?"),
			joinAnd(parts)))
	}
}

// category answers about a whole category.
func (w *writer) category(a Answer) {
	c := a.category
	where := ""
	if len(c.Aisles) > 0 {
		var ps []string
		for _, x := range c.Aisles {
			ps = append(ps, aislePhrase(x))
		}
		where = joinAnd(ps)
		w.key(c.Aisles...)
	}
	var ex []string
	for _, it := range a.items {
		ex = append(ex, it.Name+" ("+price(it)+")")
	}
	in := a.Intent
	switch in {
	case IntentLocation:
		if where == "" {
			w.say(fmt.Sprintf("I don't have an aisle on file for %s; a member of staff can show you.", c.Name))
		} else {
			w.say(fmt.Sprintf(w.choose("%s is in %s.", "You'll find %s in %s."), c.Name, where))
		}
		if len(ex) > 0 {
			w.say("For example: " + joinAnd(ex) + ".")
		}
	case IntentPrice:
		lo, hi := a.items[0], a.items[len(a.items)-1]
		w.priceKey(lo)
		if lo == hi {
			w.say(fmt.Sprintf("In %s we have %s at %s.", c.Name, lo.Name, price(lo)))
		} else {
			w.say(fmt.Sprintf("Our %s range goes from %s (%s) to %s (%s).", c.Name, price(lo), lo.Name, price(hi), hi.Name))
		}
	default:
		inStock := 0
		for _, it := range c.Items {
			if it.Quantity > 0 {
				inStock++
			}
		}
		lead := "Yes"
		if inStock == 0 {
			lead = "Sorry, our " + c.Name + " products are all out of stock right now"
			w.say(lead + ".")
			return
		}
		loc := ""
		if where != "" {
			loc = " in " + where
		}
		w.say(fmt.Sprintf("%s, we have %s%s.", lead, c.Name, loc))
		if len(ex) > 0 {
			w.say(fmt.Sprintf(w.choose("For example %s.", "Some options: %s."), joinAnd(ex)))
		}
	}
}

// recommendation suggests up to three products.
func (w *writer) recommendation(a Answer) {
	if a.ref != nil && len(a.items) == 1 && a.items[0] == a.ref && a.limit > 0 {
		it := a.ref
		w.say(fmt.Sprintf("Sorry, I couldn't find anything within that budget. The cheapest option is %s at %s.", it.Name, price(it)))
		w.priceKey(it)
		return
	}
	var parts []string
	for _, it := range a.items {
		d := price(it)
		if it.Aisle != "" {
			d += ", " + aislePhrase(it.Aisle)
		}
		if it.Quantity == 0 {
			d += ", out of stock"
		}
		parts = append(parts, it.Name+" ("+d+")")
	}
	if len(a.items) > 0 {
		w.priceKey(a.items[0])
	}
	lead := ""
	switch {
	case a.limit > 0:
		lead = w.choose("Within your budget, I'd suggest ", "Here's what fits your budget: ", "Good options within that price: ")
	case a.purpose != "":
		lead = fmt.Sprintf(w.choose("To %s, I'd suggest ", "To %s, you could use ", "To %s, try "), a.purpose)
	case a.mention != "" && safeMention(a.mention) != "":
		lead = fmt.Sprintf(w.choose("For %s, I'd suggest ", "For %s, you could try ", "Good choices for %s: "), safeMention(a.mention))
	default:
		lead = w.choose("I'd suggest ", "You could try ", "Here are some good options: ")
	}
	if len(parts) == 1 {
		w.say(lead + parts[0] + ".")
	} else {
		w.say(lead + strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1] + ".")
	}
}

// safeMention is what the customer asked for, without figures (which are not facts) and
// trimmed to a few words; "" when nothing is left.
func safeMention(m string) string {
	var keep []string
	for _, f := range strings.Fields(m) {
		if strings.IndexFunc(f, unicode.IsDigit) >= 0 {
			continue
		}
		keep = append(keep, strings.Trim(f, ".,!?;:\"'()"))
	}
	if len(keep) > 6 {
		keep = keep[:6]
	}
	return strings.TrimSpace(strings.Join(keep, " "))
}

// comparison writes the cheaper/bigger/... answer.
func (w *writer) comparison(a Answer) {
	switch a.relation {
	case "which_cheaper", "which_compare", "which_dearer", "which_bigger", "which_smaller":
		x, y := a.items[0], a.items[1]
		w.priceKey(x)
		w.priceKey(y)
		switch a.relation {
		case "which_dearer":
			w.say(fmt.Sprintf("%s is the more expensive one at %s; %s is %s.", x.Name, price(x), y.Name, price(y)))
		case "which_bigger":
			w.say(fmt.Sprintf("%s is the bigger one (%s); %s is %s.", x.Name, price(x), y.Name, price(y)))
		case "which_smaller":
			w.say(fmt.Sprintf("%s is the smaller one (%s); %s is %s.", x.Name, price(x), y.Name, price(y)))
		default:
			if effectivePrice(x) == effectivePrice(y) {
				w.say(fmt.Sprintf("They cost the same: %s for %s and for %s.", price(x), x.Name, y.Name))
			} else {
				w.say(fmt.Sprintf(w.choose("%s is cheaper at %s; %s is %s.", "%s is the cheaper one: %s, against %s for %s."),
					x.Name, price(x), y.Name, price(y)))
			}
		}
		return
	case "alternative":
		it := a.items[0]
		w.priceKey(it)
		w.say(fmt.Sprintf("You could try %s instead, at %s (%s%s).", it.Name, price(it), stockClause(it), commaAisle(it)))
		return
	}
	if strings.HasSuffix(a.relation, "_of") {
		it := a.items[0]
		w.priceKey(it)
		what := map[string]string{"cheaper_of": "cheapest", "dearer_of": "most expensive", "bigger_of": "biggest", "smaller_of": "smallest"}[a.relation]
		w.say(fmt.Sprintf("The %s option is %s at %s (%s%s).", what, it.Name, price(it), stockClause(it), commaAisle(it)))
		return
	}
	ref := a.ref
	if len(a.items) == 1 && a.items[0] == ref {
		w.priceKey(ref)
		switch a.relation {
		case "cheaper":
			w.say(fmt.Sprintf("%s is already our cheapest option in %s, at %s.", ref.Name, ref.Category, price(ref)))
		case "dearer":
			w.say(fmt.Sprintf("%s is already our most expensive option in %s, at %s.", ref.Name, ref.Category, price(ref)))
		case "bigger":
			w.say(fmt.Sprintf("%s is the largest size we carry (%s).", ref.Name, price(ref)))
		case "smaller":
			w.say(fmt.Sprintf("%s is the smallest size we carry (%s).", ref.Name, price(ref)))
		}
		return
	}
	it := a.items[0]
	w.priceKey(it)
	switch a.relation {
	case "cheaper":
		w.say(fmt.Sprintf(w.choose("%[1]s is cheaper at %[2]s (%[3]s is %[4]s).", "A cheaper option is %[1]s at %[2]s, against %[4]s for %[3]s."),
			it.Name, price(it), ref.Name, price(ref)))
	case "dearer":
		w.say(fmt.Sprintf("A step up is %s at %s (%s is %s).", it.Name, price(it), ref.Name, price(ref)))
	case "bigger":
		w.say(fmt.Sprintf(w.choose("The bigger one is %s at %s.", "We also have %s, which is bigger, at %s."), it.Name, price(it)))
	case "smaller":
		w.say(fmt.Sprintf(w.choose("The smaller one is %s at %s.", "We also have %s, which is smaller, at %s."), it.Name, price(it)))
	}
	if it.Quantity == 0 {
		w.say("It's out of stock right now, though.")
	} else if it.Aisle != "" && it.Aisle != ref.Aisle {
		w.say("It's in " + aislePhrase(it.Aisle) + ".")
	}
}

// unknown says the store does not carry the thing and offers the nearest category.
func (w *writer) unknown(a Answer) {
	m := a.mention
	switch {
	case a.forNeed && a.purpose != "":
		w.say(fmt.Sprintf(w.choose("Sorry, I couldn't find anything to %s in our range.", "I'm afraid we have nothing to %s."), a.purpose))
	case a.forNeed && m != "" && m == safeMention(m):
		w.say(fmt.Sprintf(w.choose("Sorry, I couldn't find anything for %s in our range.", "I'm afraid we have nothing for %s."), m))
	case m != safeMention(m) || m == "":
		// a mention with a figure in it is not repeated (the figure is not a fact), nor one
		// that is not the name of a thing
		w.say(w.choose("Sorry, I couldn't find that in our range.", "I'm afraid I can't find anything like that in our range."))
	default:
		w.say(fmt.Sprintf(w.choose("Sorry, we don't carry %s.", "Sorry, %s isn't something we sell here.", "I'm afraid we don't stock %s."), m))
	}
	if c := a.category; c != nil {
		if len(c.Aisles) > 0 {
			w.say(fmt.Sprintf(w.choose("The closest we have is our %s range in %s.", "You might find something similar in %s, in %s."),
				c.Name, aislePhrase(c.Aisles[0])))
		} else {
			w.say(fmt.Sprintf("The closest we have is our %s range.", c.Name))
		}
	}
}

// staff writes staff-only answers, or the refusal on a customer device.
func (w *writer) staff(a Answer) {
	if len(a.items) == 0 {
		w.say("Which product do you mean? Tell me its name or SKU.")
		return
	}
	it := a.items[0]
	if a.refused {
		w.say("Sorry, back-room stock, suppliers and costs are only shown on staff devices.")
		if it.Quantity > 0 {
			w.say(fmt.Sprintf("On the shelf we have %d of %s%s.", it.Quantity, it.Name, inAisle(it)))
		} else {
			w.say(fmt.Sprintf("%s is out of stock on the shelf.", it.Name))
		}
		return
	}
	st := it.Staff
	switch a.staffField {
	case "backroom":
		w.key(strconv.FormatInt(st.Backroom, 10))
		w.say(fmt.Sprintf("%s: %d in the back room and %d on the shelf%s.", it.Name, st.Backroom, it.Quantity, inAisle(it)))
	case "supplier":
		if st.Supplier == "" {
			w.say(fmt.Sprintf("There is no supplier on file for %s.", it.Name))
		} else {
			w.key(st.Supplier)
			w.say(fmt.Sprintf("%s is supplied by %s.", it.Name, st.Supplier))
		}
	case "cost":
		if st.Cost <= 0 {
			w.say(fmt.Sprintf("There is no cost price on file for %s.", it.Name))
		} else {
			w.key(Amount(st.Cost).Major())
			w.say(fmt.Sprintf("%s costs us %s and sells for %s.", it.Name, Money(st.Cost, it.Currency), Money(it.Price, it.Currency)))
		}
	case "notes":
		if n := joinNotes(st.Notes, st.StockNotes); n == "" {
			w.say(fmt.Sprintf("There are no notes on %s.", it.Name))
		} else {
			w.key(n)
			w.say(fmt.Sprintf("Notes on %s: %s", it.Name, n))
		}
	}
}

func (w *writer) promotion(a Answer) {
	if len(a.items) == 0 {
		w.say("There are no special offers running at the moment.")
		return
	}
	var parts []string
	for _, it := range a.items {
		parts = append(parts, fmt.Sprintf("%s at %s (%d%% off, %s)", it.Name, price(it), it.Promotion.DiscountPercent, it.Promotion.Title))
	}
	w.say("Current offers: " + joinAnd(parts) + ".")
}

// figures returns the figure words of a text ("8:00-19:00", "14").
func figures(text string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(text, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".,:/-", r))
	}) {
		f = strings.Trim(f, ".,:/-")
		if strings.IndexFunc(f, unicode.IsDigit) >= 0 {
			out = append(out, f)
		}
	}
	return out
}

// FactFigures are the figure words an answer's facts hold, as the text writes them: prices
// ("6.95"), quantities, aisles, SKUs, barcodes, and the figures inside names, FAQ answers and
// staff fields. A text (deterministic or a model's) may state these and no others.
func FactFigures(a Answer) []string {
	var out []string
	text := func(ss ...string) {
		for _, s := range ss {
			out = append(out, figures(s)...)
		}
	}
	for _, f := range a.Facts {
		text(f.SKU, f.Name, f.Brand, f.Category, f.Aisle, f.Barcode, f.Question, f.Answer, f.Hours)
		text(f.Aisles...)
		if f.Price != nil {
			out = append(out, f.Price.Major())
		}
		if f.Quantity != nil {
			out = append(out, strconv.FormatInt(*f.Quantity, 10))
		}
		if p := f.Promotion; p != nil {
			out = append(out, p.Price.Major(), strconv.Itoa(p.Percent))
			text(p.Title)
		}
		if st := f.Staff; st != nil {
			if st.Backroom != nil {
				out = append(out, strconv.FormatInt(*st.Backroom, 10))
			}
			if st.Cost != nil {
				out = append(out, st.Cost.Major())
			}
			text(st.Supplier, st.Notes)
		}
	}
	return out
}
