package assistant

import (
	"sort"
	"strconv"
	"strings"

	"aisle/worker/assistant/lang"
)

// cue is a kind of phrase that signals what the customer wants.
type cue int

const (
	cuePrice        cue = iota
	cueAvailability     // specific: "in stock", "available", "any left", "sold out"
	cueHave             // generic: "do you have", "looking for", "need"
	cueLocation
	cueRecommend
	cueCheaper
	cueCheap // "cheap", "budget": a low price wanted, not a comparison
	cueDearer
	cueBigger
	cueSmaller
	cueBig   // "the big one", "large": a size picked, not a comparison asked
	cueSmall // "the small one", "mini"
	cueCompare
	cuePromotion
	cueStaffBackroom
	cueStaffSupplier
	cueStaffCost
	cueStaffNotes
	cueGreeting
	cueThanks
	cueGoodbye
	cueOffTopic
	cuePolicy // words of store policies and services (hours, returns, payment, parking ...)
	cueGeneric
	numCues
)

// cuePhrases lists the phrases of each cue as words (Norm or Stem forms, space separated).
// Matched words are not product words: "how much is the milk" leaves "milk".
var cuePhrases = [numCues][]string{
	cuePrice: {"how much", "price", "prices", "priced", "pricing", "cost", "costs", "costing", "how expensive",
		"what do i pay", "pay for", "what does it go for", "how pricey", "the damage", "price check",
		"what do you charge", "what do you charge for", "charge for", "how much do you charge", "how much is",
		"how much are", "hw much", "how mch", "go for", "goes for", "going for", "sell for", "selling for",
		"howmuch", "how much for"},
	cueAvailability: {"in stock", "instock", "on stock", "stock", "stocked", "available", "availability",
		"any left", "left", "sold out", "out of stock", "run out", "ran out", "back in stock", "restock",
		"restocked", "any more", "anymore", "how many", "still have", "do you still", "still got", "in store",
		"on the shelf", "on shelf", "on the shelves", "on the floor", "on the shop floor", "out front", "out the front"},
	cueHave: {"do you have", "have you got", "you got", "got any", "do you sell", "do you carry", "do you stock",
		"is there", "are there", "have any", "looking for", "look for", "carry", "sell", "selling", "sells",
		"can i get", "can i buy", "i need", "i want", "i would like", "id like", "searching for", "have", "got",
		"buy", "get", "need", "want", "hunting for", "trying to find"},
	cueLocation: {"where", "which aisle", "what aisle", "aisle", "aisles", "which shelf", "what shelf", "section",
		"located", "location", "find", "can not find", "cant find", "direction", "directions", "which way",
		"what part of the store", "row", "department", "dept", "which section", "do you keep", "is it kept",
		"are they kept", "kept", "where abouts", "whereabouts", "which bay", "what bay", "in bay"},
	cueRecommend: {"what have you got for", "what have you for", "got anything for", "have anything for",
		"anything good for", "what is good for", "whats good for", "best for", "list", "list your", "show me",
		"what kind of", "what kinds of", "what sort of", "what sorts of", "what type of", "what types of",
		"which kind of", "what options", "what brands", "which brands", "what do you stock", "what do you sell",
		"what do you carry", "what do you have",
		"recommend", "recommendation", "recommendations", "suggest", "suggestion", "suggestions",
		"advice", "advise", "good for", "something for", "something to", "anything for", "anything to",
		"what do you have for", "what can i use", "what should i", "what would you", "idea", "ideas",
		"gift", "gifts", "present", "help me choose", "help me find", "options", "option", "what is good",
		"whats good", "which one should", "best", "for my", "something that", "stuff for", "products for",
		"what works", "what helps", "helps with", "help with", "to help", "for treating", "for cleaning",
		"for fixing", "that can", "i can use", "need something", "looking for something", "what can i take",
		"what should i take", "what do i take", "what can i use", "what should i use", "what should i get",
		"what do i need", "what would help", "what helps with", "suffering from", "i have a", "ive got a",
		"i have got a", "i got a", "something with", "something high", "want something", "something else",
		"anything else", "ideas for", "any ideas"},
	cueCheaper: {"cheaper", "cheapest", "less expensive", "more affordable", "lower price", "lower priced",
		"better price", "better value", "least expensive", "costs less", "cost less", "costing less",
		"too expensive", "too pricey", "too dear", "cheaper option", "cheaper one", "save money", "less money"},
	cueCheap: {"cheap", "budget", "inexpensive", "affordable", "bargain", "low cost", "value"},
	cueDearer: {"more expensive", "pricier", "premium", "higher end", "best quality", "better quality",
		"most expensive", "fancier"},
	cueBigger: {"bigger", "biggest", "larger", "largest", "more of it", "bigger size", "larger size", "bigger pack",
		"bulk", "longer", "longest", "taller", "wider", "heavier", "bigger one", "larger one"},
	cueSmaller: {"smaller", "smallest", "smaller size", "smaller pack", "less of it", "shorter", "shortest",
		"narrower", "lighter", "smaller one"},
	cueBig:   {"big", "large", "big one", "large one", "the big", "the large", "xl", "jumbo", "family size", "maxi", "long", "long one", "tall"},
	cueSmall: {"small", "little", "mini", "small one", "the small", "travel size", "the little", "short", "short one"},
	cueCompare: {"compare", "comparison", "difference", "differences", "vs", "versus", "which is", "which one is",
		"alternative", "alternatives", "instead", "other brand", "another brand", "different brand",
		"something similar", "similar", "other option", "other options"},
	cuePromotion: {"offer", "offers", "deal", "deals", "promotion", "promotions", "promo", "promos", "discount",
		"discounts", "on sale", "sale", "sales", "special offer", "specials", "coupon", "coupons", "reduced"},
	cueStaffBackroom: {"back room", "backroom", "in the back", "out back", "out the back", "storeroom",
		"store room", "stock room", "stockroom", "warehouse", "in reserve", "reserve stock", "back stock",
		"backstock", "how many in the back", "in back", "in storage", "left in storage", "check the back",
		"the back", "back store", "overstock", "stock room qty", "backroom count", "backroom qty"},
	cueStaffSupplier: {"supplier", "suppliers", "supplied by", "who supplies", "vendor", "vendors",
		"distributor", "wholesaler", "order from", "reorder from", "who do we order", "sourced",
		"get it from", "get them from", "buy it from", "buy them from", "who makes it for us", "who do we buy",
		"where do we get", "where do you get", "where do we buy", "where do you buy", "who do we get",
		"who do you get", "who do we order", "who do you order"},
	cueStaffCost: {"cost price", "our cost", "unit cost", "buying price", "purchase price", "wholesale price",
		"wholesale", "margin", "markup", "mark up", "what do we pay", "we pay", "cost us", "costs us",
		"landed cost", "net cost", "what did we pay", "how much do you buy", "how much do we buy",
		"buy it for", "buy them for", "cost to us", "trade price", "what do you pay", "what do you pay for",
		"what do we pay for", "how much do we pay", "how much do you pay", "your cost", "ur cost", "our price"},
	cueStaffNotes: {"staff notes", "any notes", "notes on", "notes for", "product notes", "stock notes",
		"internal notes", "remarks on", "what do the notes say", "the notes", "notes say", "anything i should know",
		"should i know about", "anything to know", "anything special about"},
	cueGreeting: {"hi", "hello", "hey", "good morning", "good afternoon", "good evening", "greetings",
		"yo", "howdy", "bonjour", "hola", "morning", "evening", "hi there", "hello there", "hey there",
		"hiya", "heya", "hallo", "guten tag", "buongiorno", "salut", "ciao", "hei", "hej", "sup", "whats up",
		"howya", "how are you", "how are ya", "good day", "gday", "afternoon"},
	cueThanks: {"thanks", "thank you", "thank", "cheers", "appreciate", "appreciated", "much appreciated",
		"great thanks", "perfect", "awesome", "great", "brilliant", "lovely", "super", "helpful", "many thanks",
		"thanks a lot", "thanks so much", "thank you so much", "danke", "merci", "gracias", "grazie", "ty",
		"nice one", "that helps", "thats helpful", "that is helpful", "very helpful", "kind", "excellent",
		"fantastic", "wonderful", "amazing", "good to know", "noted", "got it", "understood"},
	cueGoodbye: {"bye", "goodbye", "good bye", "see you", "see ya", "have a nice day", "have a good day",
		"good night", "later", "that is all", "thats all", "that is it", "thats it", "nothing else", "all good",
		"done", "take care", "bye bye", "byebye", "cya", "im off", "i am off", "thats everything", "have a good one",
		"have a nice one", "have a great day", "catch you later", "see you later", "so long",
		"that is everything", "all for now", "im done", "i am done", "auf wiedersehen", "tschuss", "adieu"},
	cueOffTopic: {"this year", "of all time", "in the world", "ever made", "next door", "near here", "around here",
		"how do i get to", "station", "airport", "bus stop", "percent of", "divided by", "square root", "reset my",
		"my router", "my computer crashed", "vet", "doctor", "hospital", "play", "sing", "write", "draw", "invent", "invented", "how tall", "how far", "how old",
		"how do you say", "in german", "in french", "in spanish", "in italian", "essay", "restaurant",
		"restaurants", "nearby", "real person", "human", "robot", "are you ai", "ai", "chatgpt", "translate",
		"crypto", "lottery", "sports score", "who is", "who was", "when was", "why is the sky", "universe",
		"planet", "everest", "capital", "population", "recipe", "cook me", "marry", "dating", "tax return",
		"weather", "joke", "jokes", "news", "president", "election", "politics", "poem", "song",
		"lyrics", "capital of", "meaning of life", "homework", "math", "recipe for", "horoscope", "score",
		"who won", "movie", "movies", "tell me about yourself", "your name", "who are you", "are you human",
		"are you a robot", "are you real", "write me", "story", "bitcoin", "stock market", "translate",
		"football", "soccer", "basketball", "temperature outside", "rain tomorrow", "what time is it",
		"what day is it", "love you", "date me", "girlfriend", "boyfriend"},
	cuePolicy: {"open", "opening", "opens", "close", "closing", "closes", "closed", "hours", "hour",
		"return", "returns", "refund", "refunds", "exchange", "receipt", "pay", "paying", "payment",
		"payments", "card", "cards", "cash", "contactless", "parking", "park", "wifi", "wi fi", "internet",
		"toilet", "toilets", "restroom", "restrooms", "bathroom", "bathrooms", "loo", "delivery", "deliver",
		"deliveries", "shipping", "click and collect", "collect", "pickup", "pick up", "loyalty", "points",
		"membership", "member", "wheelchair", "accessible", "accessibility", "dogs allowed", "dog", "dogs",
		"pets", "pet", "phone number", "contact", "address", "email", "policy", "policies", "warranty",
		"guarantee", "bag", "bags", "when", "today", "tomorrow", "weekend", "sunday", "saturday", "monday",
		"tuesday", "wednesday", "thursday", "friday", "holiday", "holidays", "late", "early", "pharmacist",
		"prescription", "prescriptions", "apple pay", "google pay", "visa", "mastercard", "amex",
		"gift card", "gift cards", "voucher", "vouchers", "staff", "manager", "complaint", "order online",
		"online", "lift", "elevator", "ramp", "baby changing", "atm", "cash machine", "price match", "access",
		"step free", "disabled", "trade account", "opening times", "times", "price promise", "promise"},
	cueGeneric: {"product", "products", "item", "items", "stuff", "thing", "things", "something", "anything",
		"one", "ones", "kind", "kinds", "type", "types", "brand", "brands", "store", "shop", "here", "you",
		"please", "any", "some", "still", "today", "right now", "now", "currently", "at the moment",
		"euros", "euro", "eur", "dollars", "dollar", "usd", "bucks", "pounds", "quid", "gbp", "chf",
		"francs", "cents", "pence", "money", "exactly", "again", "also", "too", "sir", "madam", "mate",
		"guys", "folks", "ok", "okay", "so", "just", "wondering", "quick question", "question", "tell me",
		"know", "could you", "can you", "let me know", "mind", "sorry", "excuse me", "um", "uh", "hmm", "well",
		"please help", "help", "same", "other", "another", "more", "also", "ones", "version", "size", "sizes",
		"good", "nice", "decent", "cool", "interesting", "useful", "recommended", "popular", "great value",
		"quantity", "qty", "count", "number", "amount", "remedy", "remedies", "treatment", "cure", "fine",
		"sure", "alright", "right",
		"pack", "packet", "bottle", "box", "each", "per", "total", "altogether", "currently", "available"},
}

// pronouns point back to what the conversation was about.
var pronouns = map[string]bool{"it": true, "that": true, "this": true, "them": true, "those": true, "these": true,
	"they": true, "one": true, "ones": true, "same": true, "its": true, "their": true, "theirs": true}

type phrase struct {
	words []string
	cue   cue
}

// phrases are the cue phrases, longest first, so "how much" wins over "much".
var phrases = func() []phrase {
	var out []phrase
	for c := cue(0); c < numCues; c++ {
		for _, p := range cuePhrases[c] {
			out = append(out, phrase{strings.Fields(p), c})
		}
	}
	// longest first; ties keep the cue order
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j].words) > len(out[j-1].words); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}()

// parsed is a question taken apart.
type parsed struct {
	raw      string
	words    []lang.Word
	cues     [numCues]int // how many words of each cue were found
	firstAt  [numCues]int // the word index where each cue first appears (len(words) when absent)
	cueAt    []cue        // the cue each word was read as, -1 for none
	content  []lang.Word  // words that may name a product, a need or a policy
	pronoun  bool         // the question refers back ("it", "that one")
	maxPrice int64        // a price limit in minor units, 0 when none
	minPrice int64
	limitRaw string // the price limit as the customer wrote it ("30", "$30")
	sizes    []Size // sizes asked for ("the 1 L one")
	and      bool   // starts with "and"/"what about"/"how about": a follow-up about something else
	staff    bool   // asked on a staff device
}

func (p *parsed) has(c cue) bool { return p.cues[c] > 0 }

// parse splits a question into cues, a price limit, sizes and content words.
func parse(q string, inCatalog func(norm string) bool, staff bool) parsed {
	p := parsed{raw: q, words: lang.Words(q), staff: staff}
	correctTypos(p.words, inCatalog)
	used := make([]bool, len(p.words))
	p.cueAt = make([]cue, len(p.words))
	for i := range p.cueAt {
		p.cueAt[i] = -1
	}
	for c := range p.firstAt {
		p.firstAt[c] = len(p.words)
	}
	for i := 0; i+1 < len(p.words); i++ { // "triple a" batteries
		switch {
		case p.words[i].Norm == "triple" && p.words[i+1].Norm == "a":
			p.words[i].Norm, p.words[i].Stem, p.words[i].End = "aaa", "aaa", p.words[i+1].End
			p.words = append(p.words[:i+1], p.words[i+2:]...)
		case p.words[i].Norm == "double" && p.words[i+1].Norm == "a":
			p.words[i].Norm, p.words[i].Stem, p.words[i].End = "aa", "aa", p.words[i+1].End
			p.words = append(p.words[:i+1], p.words[i+2:]...)
		}
	}
	used = used[:len(p.words)]
	p.cueAt = p.cueAt[:len(p.words)]
	p.readPriceLimit(used)
	// a unit after a number is part of a size ("55 inch", "10 litre"), not a product word
	for i := 0; i+1 < len(p.words); i++ {
		if p.words[i].Num && !used[i] {
			if _, ok := unitAt(p.words, i+1); ok {
				used[i+1] = true
			}
		}
	}
	// phrases, longest first, on words not used yet
	for _, ph := range phrases {
		n := len(ph.words)
		for i := 0; i+n <= len(p.words); i++ {
			ok := true
			for k := 0; k < n; k++ {
				w := p.words[i+k]
				if used[i+k] || (w.Norm != ph.words[k] && w.Stem != lang.Stem(ph.words[k])) {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			p.cues[ph.cue] += n
			p.firstAt[ph.cue] = min(p.firstAt[ph.cue], i)
			for k := 0; k < n; k++ {
				if p.cueAt[i+k] < 0 {
					p.cueAt[i+k] = ph.cue
				}
			}
			if ph.cue != cuePolicy && ph.cue != cueOffTopic { // they may still name a product ("dog food", "play mat")
				for k := 0; k < n; k++ {
					used[i+k] = true
				}
			}
		}
	}
	if len(p.words) > 0 {
		first := p.words[0].Norm
		second := ""
		if len(p.words) > 1 {
			second = p.words[1].Norm
		}
		p.and = first == "and" || first == "also" || first == "plus" || (first == "what" && second == "about") ||
			(first == "how" && second == "about") || first == "or"
	}
	for i, w := range p.words {
		switch {
		case used[i]:
		case pronouns[w.Norm]:
			p.pronoun = true
		case lang.IsFunctionWord(w.Norm), len(w.Norm) == 1 && !w.Num:
		default:
			p.content = append(p.content, w)
		}
	}
	p.sizes = sizes(p.sizeText(used))
	return p
}

// sizeText is the question without price-limit words, for reading sizes.
func (p *parsed) sizeText(used []bool) string {
	var b strings.Builder
	for i, w := range p.words {
		if used[i] && w.Num {
			continue
		}
		b.WriteString(p.raw[w.Start:w.End])
		b.WriteByte(' ')
	}
	return b.String()
}

// limit words before an amount ("under 30") and after one ("30 or less").
var (
	maxBefore = []string{"under", "below", "less than", "cheaper than", "max", "maximum", "up to", "no more than",
		"at most", "within", "budget of", "budget", "for less than", "not more than", "beneath", "lower than",
		"for under", "less then", "under than", "below than", "upto", "around", "about", "roughly", "for"}
	minBefore = []string{"over", "more than", "at least", "above", "minimum", "min", "higher than"}
	maxAfter  = []string{"or less", "or under", "max", "maximum", "tops", "or cheaper", "at most", "or below"}
)

var currencyWords = map[string]bool{"euro": true, "euros": true, "eur": true, "dollar": true, "dollars": true,
	"usd": true, "bucks": true, "buck": true, "pound": true, "pounds": true, "quid": true, "gbp": true,
	"chf": true, "franc": true, "francs": true, "frank": true, "franks": true, "fr": true, "sfr": true, "eu": true,
	"p": true, "pence": true, "cents": true, "kr": true, "sek": true, "nok": true,
	"dkk": true, "zl": true, "pln": true, "yen": true, "jpy": true, "aud": true, "cad": true}

// amountWords are amounts written as words ("under a tenner", "no more than fifty quid").
var amountWords = map[string]int64{"fiver": 5, "tenner": 10, "ten": 10, "twenty": 20, "thirty": 30,
	"forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
	"grand": 1000, "five": 5, "fifteen": 15}

// readPriceLimit finds "under 30", "below $30", "30 euros or less", "max 30" and marks the words used.
func (p *parsed) readPriceLimit(used []bool) {
	ws := p.words
	matchAt := func(i int, phrase string) int {
		f := strings.Fields(phrase)
		if i+len(f) > len(ws) {
			return 0
		}
		for k, x := range f {
			if ws[i+k].Norm != x {
				return 0
			}
		}
		return len(f)
	}
	amountAt := func(i int) (int64, int, bool) { // value in minor units, words used
		if i < len(ws) && !ws[i].Num { // "a tenner", "a hundred", "fifty quid"
			n := 0
			if ws[i].Norm == "a" {
				n = 1
			}
			v := amountWords[ws[min(i+n, len(ws)-1)].Norm]
			if i+n >= len(ws) || v == 0 {
				return 0, 0, false
			}
			n++
			if i+n < len(ws) && currencyWords[ws[i+n].Norm] {
				n++
			}
			return v * 100, n, true
		}
		if i >= len(ws) || !ws[i].Num {
			return 0, 0, false
		}
		// a size ("under 1 L") is not a price
		if i+1 < len(ws) && isUnit(ws[i+1].Norm) {
			return 0, 0, false
		}
		v, err := strconv.ParseFloat(ws[i].Norm, 64)
		if err != nil || v <= 0 {
			return 0, 0, false
		}
		n := 1
		if i+1 < len(ws) && currencyWords[ws[i+1].Norm] {
			n++
		}
		return int64(v*100 + 0.5), n, true
	}
	hasCurrencyNear := func(i int) bool {
		if i > 0 {
			between := p.raw[ws[i-1].End:ws[i].Start]
			if strings.ContainsAny(between, "$€£") {
				return true
			}
		} else if strings.ContainsAny(p.raw[:ws[i].Start], "$€£") {
			return true
		}
		return i+1 < len(ws) && currencyWords[ws[i+1].Norm]
	}
	for i := 0; i < len(ws); i++ {
		for _, group := range []struct {
			words []string
			max   bool
		}{{maxBefore, true}, {minBefore, false}} {
			for _, ph := range group.words {
				n := matchAt(i, ph)
				if n == 0 {
					continue
				}
				// "for" and "around" only count when a currency marks the amount
				weak := ph == "for" || ph == "around" || ph == "about" || ph == "roughly" || ph == "budget"
				v, m, ok := amountAt(i + n)
				if !ok || (weak && !hasCurrencyNear(i+n)) {
					continue
				}
				if ph == "around" || ph == "about" || ph == "roughly" {
					v = v * 12 / 10
				}
				for k := i; k < i+n+m; k++ {
					used[k] = true
				}
				p.limitRaw = p.raw[ws[i+n].Start:ws[i+n+m-1].End]
				if group.max {
					p.maxPrice = v
				} else {
					p.minPrice = v
				}
				i += n + m - 1
				goto next
			}
		}
		if v, m, ok := amountAt(i); ok {
			for _, ph := range maxAfter {
				if n := matchAt(i+m, ph); n > 0 {
					for k := i; k < i+m+n; k++ {
						used[k] = true
					}
					p.maxPrice = v
					p.limitRaw = p.raw[ws[i].Start:ws[i+m-1].End]
					i += m + n - 1
					goto next
				}
			}
		}
	next:
	}
}

// cueWords are the words of every cue phrase.
var cueWords = func() map[string]bool {
	m := map[string]bool{}
	for _, ps := range cuePhrases {
		for _, p := range ps {
			for _, w := range strings.Fields(p) {
				m[w] = true
			}
		}
	}
	return m
}()

// known reports whether a word is a common word (the lexicon's, a function word or a cue word):
// such a word is meant as written and is never read as a typo.
func known(norm string) bool { return cueWords[norm] || lang.Known(norm) || english[norm] }

// english is englishWords as a set.
var english = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(englishWords) {
		m[w] = true
	}
	return m
}()

// correctionTargets are the words a typo may be corrected to before cues are read: the cue
// words, function words and currency words ("thannks" -> "thanks", "hzve" -> "have").
var correctionTargets = func() []string {
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		if len(w) >= 3 && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	for w := range cueWords {
		add(w)
	}
	for w := range currencyWords {
		add(w)
	}
	for _, w := range []string{"what", "where", "which", "when", "have", "does", "something", "anything",
		"please", "thanks", "hello", "there", "would", "could", "should"} {
		add(w)
	}
	sort.Strings(out)
	return out
}()

// correctTypos replaces words that are neither common words nor words of the catalog by the
// cue or function word they are one typo away from (two for long words), when exactly one is
// closest. Catalog words are left to the index's own typo tolerance.
func correctTypos(words []lang.Word, inCatalog func(string) bool) {
	for i, w := range words {
		n := len(w.Norm)
		if w.Num || n < 3 || n > maxWordLen || known(w.Norm) || (inCatalog != nil && inCatalog(w.Norm)) {
			continue
		}
		maxd := maxTypos(n)
		if n == 3 {
			maxd = 1 // a 3-letter word may only have lost a letter: "bes" -> "best", "nee" -> "need"
		}
		best, bestD, tie := "", maxd+1, false
		for _, t := range correctionTargets {
			if d := len(t) - n; d > maxd || -d > maxd {
				continue
			}
			if n <= 5 && t[0] != w.Norm[0] {
				continue
			}
			if n == 3 && len(t) != 4 {
				continue
			}
			d := editDistance(w.Norm, t, maxd)
			switch {
			case d < bestD:
				best, bestD, tie = t, d, false
			case d == bestD && cueOfWord[t] != cueOfWord[best]:
				tie = true // two different meanings are as close: leave the word
			case d == bestD && singleCue[t] && !singleCue[best]:
				best = t // "suppliee": "supplier" says it alone, "supplied" needs "by"
			}
		}
		if best != "" && !tie {
			words[i].Norm = best
			words[i].Stem = lang.Stem(best)
		}
	}
}

// policyWords are the one-word phrases of store policies and services (cuePolicy): "price" of
// "price match" is not one.
var policyWords = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range cuePhrases[cuePolicy] {
		if !strings.Contains(p, " ") {
			m[p] = true
		}
	}
	return m
}()

// cueOfWord is the cue a word first belongs to (for breaking ties between corrections).
var cueOfWord = func() map[string]cue {
	m := map[string]cue{}
	for c := cue(0); c < numCues; c++ {
		for _, p := range cuePhrases[c] {
			for _, w := range strings.Fields(p) {
				if _, ok := m[w]; !ok {
					m[w] = c
				}
			}
		}
	}
	return m
}()

// something reports a request for "something"/"anything" (a recommendation when no product is
// named): "i want smth high in protein".
func (p *parsed) something() bool {
	for _, w := range p.words {
		if w.Norm == "something" || w.Norm == "anything" {
			return true
		}
	}
	return false
}

// singleCue are the words that are a cue phrase on their own.
var singleCue = func() map[string]bool {
	m := map[string]bool{}
	for _, ps := range cuePhrases {
		for _, p := range ps {
			if !strings.Contains(p, " ") {
				m[p] = true
			}
		}
	}
	return m
}()

// policyPhrases are the multi-word phrases of store policies ("price match", "apple pay").
var policyPhrases = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range cuePhrases[cuePolicy] {
		if strings.Contains(p, " ") {
			m[p] = true
		}
	}
	return m
}()

// splitFor splits "X for Y" at its last "for": the thing wanted and what it is for; both empty
// when there is no such "for".
func (p *parsed) splitFor() (head, rest string) {
	for i := len(p.words) - 2; i > 0; i-- {
		if p.words[i].Norm != "for" {
			continue
		}
		switch p.words[i-1].Norm {
		case "looking", "look", "searching", "search", "hunting", "shopping", "ask", "asking", "pay", "paying",
			"go", "goes", "going", "sell", "selling", "charge", "something", "anything", "stuff", "thing", "things",
			"good", "best", "have", "got", "recommend", "suggest", "use", "get", "much", "options", "ideas", "idea":
			return "", "" // "looking for", "something for": not a product for a use
		}
		return strings.TrimSpace(p.raw[:p.words[i].Start]), strings.TrimSpace(p.raw[p.words[i].End:])
	}
	return "", ""
}

// problem reports a customer describing a need rather than naming a product: "my dog keeps
// scratching", "my laptop won't charge", "i'm thirsty", "what should i feed my puppy".
func (p *parsed) problem() bool {
	ws := p.words
	if len(ws) > 0 {
		switch ws[0].Norm { // a question to the store ("can i bring my dog?"), not a need described
		case "can", "could", "may", "do", "does", "is", "are", "will", "would", "where", "when", "who", "how":
			return false
		}
	}
	for i, w := range ws {
		switch w.Norm {
		case "my", "our", "im":
			return true
		case "i", "we":
			if i+1 < len(ws) {
				switch ws[i+1].Norm {
				case "have", "am", "keep", "feel", "cant", "cannot":
					return true
				}
			}
		case "should", "do":
			if i+1 < len(ws) && ws[i+1].Norm == "i" && i > 0 && (ws[i-1].Norm == "what" || ws[i-1].Norm == "which") {
				return true // "what should i", "what do i"
			}
		}
	}
	return false
}
