package synth

import "strings"

// tmpl is a phrasing with the tags it adds ("{p} price? #word_order").
type tmpl struct {
	text string
	tags []string
}

func tmpls(lines ...string) []tmpl {
	out := make([]tmpl, len(lines))
	for i, l := range lines {
		parts := strings.Split(l, " #")
		out[i] = tmpl{text: strings.TrimSpace(parts[0])}
		for _, t := range parts[1:] {
			out[i].tags = append(out[i].tags, strings.TrimSpace(t))
		}
	}
	return out
}

var availTmpls = tmpls(
	"do you have {p}?", "do you have any {p}?", "is {p} in stock?", "any {p} left?", "got {p}?",
	"{p} in stock? #word_order", "are there any {p} on the shelf?", "is there still {p}?", "have you got {p}?",
	"do you sell {p}?", "can i get {p} here?", "{p} available? #word_order #terse", "i'm looking for {p}, do you have it?",
	"how many {p} do you have?", "is the {p} available today?", "still got {p}?", "are you out of {p}?",
	"{p}?? in stock #word_order", "need {p} - do you have any?", "do you carry {p}?", "is {p} available?",
	"any {p} in stock at the moment?", "{p} - any left? #word_order", "hi, do you have {p} in stock? #greeting_prefix",
	"do you still have {p}", "{p}? #terse",
)

var priceTmpls = tmpls(
	"how much is {p}?", "how much are {p}?", "price of {p}?", "{p} price? #word_order #terse", "what does {p} cost?",
	"how much for {p}?", "what's the price of {p}?", "{p} how much #word_order", "cost of {p}?", "how expensive is {p}?",
	"what do you charge for {p}?", "price for {p} please", "how much do {p} cost?", "{p} - how much? #word_order",
	"can you tell me the price of {p}?", "whats {p} cost", "how much is the {p}?", "price check on {p}",
	"what's {p} going for?", "hey, how much is {p}? #greeting_prefix", "how much does {p} cost?", "{p} price #word_order #terse",
)

var locTmpls = tmpls(
	"where is {p}?", "where can i find {p}?", "which aisle is {p} in?", "where are the {p}?", "{p} aisle? #word_order #terse",
	"where do you keep {p}?", "can't find {p}, where is it?", "where's {p}?", "{p} where? #word_order #terse",
	"which shelf is {p} on?", "in which aisle do i find {p}?", "i'm looking for {p}, where is it?", "where would {p} be?",
	"whereabouts is {p}?", "which aisle for {p}?", "where are you keeping {p}?", "where can i get {p} in the store?",
	"excuse me, where is {p}? #greeting_prefix", "where do i find {p}", "{p} which aisle #word_order",
)

// codeTmpls ask about a SKU or barcode with a clear intent.
var codeTmpls = map[string][]tmpl{
	"availability": tmpls("is {p} in stock?", "stock for {p}?", "{p} available?", "do you have {p}?", "{p} in stock? #word_order"),
	"price":        tmpls("price of {p}?", "how much is {p}?", "{p} price #word_order", "what does {p} cost?", "{p} how much? #word_order"),
	"location":     tmpls("where is {p}?", "which aisle is {p}?", "{p} aisle? #word_order", "where do i find {p}?"),
}

var bareCodeTmpls = tmpls("{p}", "{p}?", "{p} ?", "item {p}", "scanned {p}")

var needForTmpls = tmpls(
	"what do you have {n}?", "i need something {n}", "something {n}?", "can you recommend something {n}?",
	"what's good {n}?", "what would you recommend {n}?", "anything {n}?", "looking for something {n}",
	"any suggestions {n}?", "what can i get {n}?", "need something {n} pls", "what do you recommend {n}",
	"what have you got {n}?", "hi, i need something {n} #greeting_prefix",
)

var needToTmpls = tmpls(
	"i need something {n}", "something {n}?", "what can i use {n}?", "what do i need {n}?", "anything {n}?",
	"looking for something {n}", "what would you recommend {n}?", "what do you have {n}?", "i want something {n}",
	"what's the best thing {n}?",
)

var needOtherTmpls = tmpls("something {n}?", "i want something {n}", "got anything {n}?", "looking for something {n}", "anything {n}?")

var recCatTmpls = tmpls(
	"what {c} do you have?", "show me your {c}", "which {c} do you sell?", "what kind of {c} have you got?",
	"what {c} can you recommend?", "list your {c} please", "what are my options for {c}?", "recommend some {c}",
	"what {c} do you carry?", "{c} - what do you have? #word_order", "what sort of {c} do you stock?", "can you suggest some {c}?",
)

var recPriceTmpls = tmpls(
	"any {c} under {m}?", "{c} under {m}? #terse", "what {c} do you have for less than {m}?", "cheap {c} below {m}?",
	"what {c} can i get for under {m}?", "i need {c}, budget {m}", "{c} for under {m} please",
	"something from your {c} under {m}?", "whats the best {c} under {m}", "{c} up to {m}? #terse",
)

var giftTmpls = tmpls(
	"a gift under {m}?", "gift ideas under {m}", "i need a present for under {m}", "something nice as a gift for less than {m}?",
	"birthday present ideas, max {m}", "what can i buy as a gift for {m} or less?", "present for my dad under {m}",
	"any gift ideas below {m}?",
)

var cmpTwoTmpls = tmpls(
	"which is cheaper, {a} or {b}?", "{a} or {b}, which one is cheaper?", "is {a} cheaper than {b}?",
	"whats cheaper {a} or {b}", "cheaper one: {a} or {b}?", "which costs less, {a} or {b}?", "{a} vs {b} - which is cheaper?",
	"what's the cheaper option, {a} or {b}?",
)

var cmpCheaperTmpls = tmpls(
	"anything cheaper than {p}?", "do you have a cheaper alternative to {p}?", "is there something cheaper than {p}?",
	"{p} is too expensive, anything cheaper?", "cheaper option than {p}?", "got anything cheaper than the {p}?",
	"is there a cheaper version of {p}?",
)

var cmpBiggerTmpls = tmpls(
	"do you have {p} in a bigger size?", "is there a bigger pack of {p}?", "{p} in a larger size?", "bigger {p}?",
	"do you have a larger {p}?", "is {p} available in a bigger size?", "got {p} in a bigger one?",
)

var cmpSmallerTmpls = tmpls(
	"do you have {p} in a smaller size?", "is there a smaller pack of {p}?", "smaller {p}?", "{p} in a smaller size?",
	"got a smaller {p}?",
)

var unknownTmpls = tmpls(
	"do you have {x}?", "do you sell {x}?", "where can i find {x}? #asked_location", "how much is {x}? #asked_price", "any {x}?",
	"i need {x}", "got {x}?", "where are the {x}? #asked_location", "is {x} in stock?", "do you stock {x}?", "looking for {x}",
	"have you got any {x}?", "price of {x}? #asked_price", "do u have {x}",
)

// staffTmpls: staff-device phrasings by staff field.
var staffTmpls = map[string][]tmpl{
	"backroom": tmpls("how many {p} in the back?", "backroom count for {p}?", "any {p} in the stockroom?", "do we have more {p} in the back?",
		"stockroom qty {p}", "how many {p} left in storage?", "{p} backroom? #word_order", "check back stock for {p}",
		"how many {p} have we got out back?"),
	"supplier": tmpls("who supplies {p}?", "supplier for {p}?", "who do we order {p} from?", "{p} supplier? #word_order",
		"which wholesaler do we use for {p}?", "where do we get {p} from?"),
	"cost": tmpls("what's our cost on {p}?", "cost price of {p}?", "what do we pay for {p}?", "{p} cost price? #word_order",
		"purchase price {p}?", "how much does {p} cost us?"),
	"notes": tmpls("any notes on {p}?", "staff notes for {p}?", "anything i should know about {p}?", "{p} notes? #word_order",
		"what do the notes say for {p}?"),
}

// customerStaffTmpls: the same questions typed on a customer's phone.
var customerStaffTmpls = map[string][]tmpl{
	"backroom": tmpls("how many {p} do you have in the back?", "do you have more {p} in the stockroom?",
		"can you check the back for {p}? how many are there", "how many {p} are in storage?", "any {p} out the back?"),
	"supplier": tmpls("who is your supplier for {p}?", "where do you buy {p} from?", "which wholesaler supplies your {p}?",
		"who supplies your {p}?"),
	"cost": tmpls("what do you pay for {p}?", "what's your cost price on {p}?", "what's the wholesale price of {p}?",
		"how much do you buy {p} for?", "what's your margin on {p}?"),
	"notes": tmpls("any internal notes about {p}?", "what do your staff notes say about {p}?", "can i see the staff notes for {p}?"),
}

// Follow-ups that refer back to the conversation's product.
var (
	itPrice = tmpls("how much is it?", "and how much is it", "how much?", "price?", "what does it cost?",
		"how much r they", "and the price?", "how much does that cost", "whats the price", "ok how much is that")
	itLocation = tmpls("where is it?", "where can i find it?", "which aisle?", "and where is that", "where?",
		"where do i find it", "which aisle is it in", "ok where are they?")
	itAvail = tmpls("is it in stock?", "do you have it?", "any left?", "how many have you got?", "in stock?",
		"is it available?", "how many are left?", "still in stock?")
	itBigger = tmpls("and the bigger one?", "is there a bigger one?", "bigger size?", "got a larger pack?",
		"do you have it in a bigger size?", "what about the big one?")
	itSmaller = tmpls("a smaller one?", "smaller size?", "is there a smaller pack?", "do you have a smaller one",
		"and the small one?")
	itCheaper = tmpls("a cheaper one?", "anything cheaper?", "do you have something cheaper", "cheaper option?",
		"too expensive, anything cheaper?", "is there a cheaper one")
	itStaff = map[string][]tmpl{
		"backroom": tmpls("how many in the back?", "any in the stockroom?", "backroom?", "and back stock?"),
		"supplier": tmpls("who supplies it?", "supplier?", "who do we order it from?", "and the supplier?"),
		"cost":     tmpls("what's our cost?", "cost price?", "what do we pay for it?", "and our cost on it?"),
		"notes":    tmpls("any notes on it?", "anything in the notes?", "notes?"),
	}
	itCustomerStaff = map[string][]tmpl{
		"backroom": tmpls("any more in the back?", "do you have more in the stockroom?", "how many in the back?"),
		"supplier": tmpls("who's your supplier for it?", "where do you get it from?"),
		"cost":     tmpls("what do you pay for it?", "what's your cost price?"),
		"notes":    tmpls("any staff notes on it?"),
	}
	andFAQ      = tmpls("and {f}", "also, {f}", "ok and {f}", "one more thing: {f}", "{f}")
	nextProduct = tmpls("ok, what about {p}?", "do you have {p} then?", "fine, any {p}?", "what about {p}?")
)

// chat-speak substitutions, whole words (lower case), none of which adds a digit.
var chatSpeak = [][2]string{
	{"you", "u"}, {"your", "ur"}, {"are", "r"}, {"please", "pls"}, {"please", "plz"}, {"thanks", "thx"},
	{"what's", "wats"}, {"what's", "whats"}, {"tomorrow", "tmrw"}, {"okay", "ok"}, {"because", "cuz"},
	{"something", "sth"}, {"something", "smth"}, {"anything", "anythin"}, {"i am", "im"}, {"i'm", "im"},
	{"don't", "dont"}, {"can't", "cant"}, {"where is", "wheres"}, {"have you got", "got"}, {"do you have", "u got"},
	{"how much", "hw much"}, {"really", "rly"}, {"want to", "wanna"}, {"is there", "is thr"}, {"the", "da"},
}

// keyboard neighbours for substitution typos.
var neighbours = map[byte]string{
	'a': "qsz", 'b': "vn", 'c': "xv", 'd': "sf", 'e': "wr", 'f': "dg", 'g': "fh", 'h': "gj", 'i': "uo",
	'j': "hk", 'k': "jl", 'l': "k", 'm': "n", 'n': "bm", 'o': "ip", 'p': "o", 'q': "w", 'r': "et",
	's': "ad", 't': "ry", 'u': "yi", 'v': "cb", 'w': "qe", 'x': "zc", 'y': "tu", 'z': "x",
}
