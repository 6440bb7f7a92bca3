package synth

// faqTopic is one subject of a store's FAQ. A store words the question and the answer in its
// own way (one of Questions and Answers, with {slots} filled from the store), and customers ask
// about it in many ways (Asks).
type faqTopic struct {
	Key       string
	Tags      []string
	Questions []string
	Answers   []string
	Asks      []string
}

// commonTopics apply to every kind of store; a kind adds its own (kindSpec.Topics).
var commonTopics = []string{"hours", "returns", "payment", "parking", "wifi", "toilets", "delivery",
	"loyalty", "accessibility", "pets", "gift_cards"}

// requiredTopics are in every store's FAQ.
var requiredTopics = []string{"hours", "returns", "payment"}

var faqTopics = map[string]*faqTopic{
	"hours": {Key: "hours", Tags: list("hours, opening times"),
		Questions: semi("When are you open?; Opening hours; What are your opening times?; When is the shop open?"),
		Answers: []string{
			"Monday to Friday {open}-{close}, Saturday {satopen}-{satclose}, {sunday}.",
			"We are open Mon-Fri from {open} to {close} and on Saturdays from {satopen} to {satclose}; {sunday}.",
			"Weekdays {open}-{close}. Saturday {satopen}-{satclose}. {Sunday}.",
		},
		Asks: semi("when are you open?; what time do you close today?; are you open on sunday?; opening hours?; what time do you open tomorrow?; how late are you open tonight?; are you open on saturday afternoon?; when do you shut?; what are your hours; are you open right now?; till what time are you open?; what time do you open on saturdays?; when do you close on saturday?")},
	"returns": {Key: "returns", Tags: list("returns, refunds, exchange"),
		Questions: semi("Can I return an item?; What is your returns policy?; Can I get a refund?; Returns and exchanges"),
		Answers: []string{
			"Unused items can be returned within {days} days with the receipt for a full refund.",
			"You can return or exchange unopened products within {days} days; please bring your receipt.",
			"Returns are accepted within {days} days of purchase with proof of purchase. {returnsnote}",
		},
		Asks: semi("can i return something?; what's your return policy; can i get a refund?; i lost the receipt, can i still return it?; how many days do i have to return an item; can i exchange a present?; bought the wrong one, can i bring it back?; do you do refunds?; is there a returns policy?")},
	"payment": {Key: "payment", Tags: list("payment, cards, cash"),
		Questions: semi("Do you take card payments?; Which payment methods do you accept?; Can I pay by card?; Payment options"),
		Answers: []string{
			"Yes, debit and credit cards and phone payments; no minimum amount.",
			"We accept cash, all major debit and credit cards, Apple Pay and Google Pay. Card payments from {cardmin}.",
			"Cash, cards and contactless are all fine; we don't accept cheques.",
		},
		Asks: semi("do you take card?; can i pay with apple pay?; do you accept credit cards?; cash only?; can i pay contactless?; is there a minimum for card payments?; do you take amex?; can i pay with my phone?; what payment methods do you take?")},
	"parking": {Key: "parking", Tags: list("parking, car park"),
		Questions: semi("Is there parking?; Where can I park?; Do you have a car park?"),
		Answers: []string{
			"Free customer parking behind the store for up to {parkhours} hours.",
			"Our car park has {parkspaces} spaces; the first {parkhours} hours are free for customers.",
			"There is no private car park, but the public garage on the corner is free for {parkhours} hours with a receipt from us.",
		},
		Asks: semi("is there parking?; where can i park?; do you have a car park?; is parking free?; can i park outside the shop?; how long can i park for?; any parking nearby?")},
	"wifi": {Key: "wifi", Tags: list("wifi, internet"),
		Questions: semi("Do you have Wi-Fi?; Is there free Wi-Fi?; Wi-Fi for customers"),
		Answers: []string{
			"Yes, free Wi-Fi: network {network}, no password needed.",
			"Free Wi-Fi for customers: join {network}; the password is printed on your receipt.",
			"Connect to {network} and accept the terms; it's free for {wifimins} minutes.",
		},
		Asks: semi("do you have wifi?; what's the wifi password; is there free wifi?; wifi?; can i get on your wifi; how do i connect to the internet here?; free wi-fi?")},
	"toilets": {Key: "toilets", Tags: list("toilets, restrooms"),
		Questions: semi("Do you have customer toilets?; Is there a toilet?; Where are the toilets?"),
		Answers: []string{
			"Customer toilets are at the back of the store, next to the {toiletnear}.",
			"Yes, there is a customer toilet with baby changing on the first floor.",
			"Sorry, we don't have public toilets; the nearest ones are in the {toiletpublic}.",
		},
		Asks: semi("do you have a toilet?; where are the toilets?; is there a bathroom i can use?; where's the loo; restroom?; do you have baby changing?; can i use the toilet please?")},
	"delivery": {Key: "delivery", Tags: list("delivery, shipping"),
		Questions: semi("Do you deliver?; Home delivery; Can you deliver my order?"),
		Answers: []string{
			"We deliver within {radius} km for {delivfee}; free for orders over {delivfree}.",
			"Yes, same-day delivery within {radius} km if you order before {cutoff}. Delivery costs {delivfee}.",
			"Home delivery is available Monday to Saturday; {delivfee} per order, free above {delivfree}.",
		},
		Asks: semi("do you deliver?; can you deliver to my house?; how much is delivery?; do you do home delivery; is delivery free?; can i get it delivered today?; do you ship?; how far do you deliver?")},
	"loyalty": {Key: "loyalty", Tags: list("loyalty, points, membership"),
		Questions: semi("Do you have a loyalty card?; Is there a loyalty programme?; Loyalty points"),
		Answers: []string{
			"Yes: collect 1 point per {unit} spent with the {loyaltyname} card; {points} points give you {reward} off.",
			"Our free {loyaltyname} card gives members {percent}% off every {loyaltyday} and birthday vouchers.",
			"Sign up for {loyaltyname} at the till: every {points} points earn you a {reward} voucher.",
		},
		Asks: semi("do you have a loyalty card?; is there a rewards program?; can i collect points?; how does the loyalty card work; do members get a discount?; how do i sign up for the points card?; any membership discounts?")},
	"accessibility": {Key: "accessibility", Tags: list("accessibility, wheelchair"),
		Questions: semi("Is the store wheelchair accessible?; Accessibility; Do you have step-free access?"),
		Answers: []string{
			"Yes, step-free entrance, wide aisles and a lift to the first floor; ask staff for help reaching high shelves.",
			"The main entrance has a ramp and automatic doors; assistance dogs are welcome.",
			"Step-free access through the side entrance on {street}; a wheelchair-accessible toilet is available.",
		},
		Asks: semi("is the shop wheelchair accessible?; do you have step free access?; is there a ramp?; can i get in with a wheelchair?; do you have a lift?; accessible entrance?; can i get in with a pram?")},
	"pets": {Key: "pets", Tags: list("pets, dogs"),
		Questions: semi("Can I bring my dog?; Are pets allowed?; Are dogs allowed in the store?"),
		Answers: []string{
			"Dogs on a lead are welcome; we keep a water bowl by the entrance.",
			"Only assistance dogs are allowed inside, sorry.",
			"Well-behaved dogs on a short lead are welcome in the store.",
		},
		Asks: semi("can i bring my dog in?; are dogs allowed?; is it ok to come in with my dog; pets allowed?; can my dog come inside?; are you dog friendly?")},
	"gift_cards": {Key: "gift_cards", Tags: list("gift cards, vouchers"),
		Questions: semi("Do you sell gift cards?; Gift vouchers; Can I buy a gift card?"),
		Answers: []string{
			"Gift cards are available at the till from {giftmin} to {giftmax} and are valid for {giftyears} years.",
			"Yes, we sell gift vouchers in any amount from {giftmin}; they never expire.",
		},
		Asks: semi("do you sell gift cards?; can i buy a voucher?; do you do gift vouchers; how long is a gift card valid?; can i get a gift card for my mum?; gift card?")},
	"click_collect": {Key: "click_collect", Tags: list("click and collect, pickup"),
		Questions: semi("Do you offer click and collect?; Can I order online and pick up?"),
		Answers: []string{
			"Order online and collect in store from {collecthours} hours later; we keep orders for {collectdays} days.",
			"Yes, click and collect is free: order on our website and pick up at the service desk within {collectdays} days.",
		},
		Asks: semi("can i order online and pick up?; do you do click and collect?; can i reserve something and collect it later?; how long do you keep click and collect orders?; can i pick up an online order here?")},
	"price_match": {Key: "price_match", Tags: list("price match"),
		Questions: semi("Do you price match?; Price promise"),
		Answers: []string{
			"We match the price of any local store on identical items; just show us the offer.",
			"Price promise: if you find it cheaper within {days} days, we refund the difference.",
		},
		Asks: semi("do you price match?; if i find it cheaper elsewhere will you match it?; do you have a price promise?; can you match the price of the shop down the road?")},
	"bags": {Key: "bags", Tags: list("bags"),
		Questions: semi("Do you charge for bags?; Carrier bags"),
		Answers: []string{
			"Paper bags cost {bagprice}; please bring your own bag if you can.",
			"Reusable bags are {bagprice} at the till.",
		},
		Asks: semi("do bags cost extra?; do i need to bring my own bag?; how much is a bag?; can i get a bag?; are carrier bags free?")},
	"deli_orders": {Key: "deli_orders", Tags: list("orders, catering"),
		Questions: semi("Can I pre-order platters?; Catering orders"),
		Answers: []string{
			"Party platters can be ordered {noticedays} days in advance at the counter or by phone on {phone}.",
			"Yes, order cheese and cold-cut platters at least {noticedays} days ahead; platters start at {platterprice}.",
		},
		Asks: semi("can i order a party platter?; do you do catering?; how far in advance do i need to order a platter?; can i pre-order for a party?")},
	"key_cutting": {Key: "key_cutting", Tags: list("key cutting, services"),
		Questions: semi("Do you cut keys?; Key cutting"),
		Answers: []string{
			"Yes, key cutting while you wait at the trade counter, from {keyprice} per key.",
			"We cut standard house keys in about {keymins} minutes; security keys need the owner's card.",
		},
		Asks: semi("do you cut keys?; can i get a key copied?; how much to cut a key?; key cutting?; can you copy my house key?")},
	"tool_hire": {Key: "tool_hire", Tags: list("tool hire, rental"),
		Questions: semi("Can I hire tools?; Tool hire"),
		Answers: []string{
			"Yes, we hire out drills, sanders and carpet cleaners from {hireprice} per day; a {deposit} deposit applies.",
			"Tool hire is available for trade and private customers; bring photo ID. Prices start at {hireprice} a day.",
		},
		Asks: semi("can i rent a tool?; do you hire out carpet cleaners?; tool hire?; can i borrow a drill for the weekend?; how much is it to hire a sander?")},
	"repairs": {Key: "repairs", Tags: list("repairs, services"),
		Questions: semi("Do you repair phones?; Repairs"),
		Answers: []string{
			"We replace phone screens and batteries; most repairs take {repairhours} hours. Ask at the service desk for a quote.",
			"Repairs of small electricals are sent to our partner workshop; expect about {repairdays} working days.",
		},
		Asks: semi("can you fix my phone screen?; do you do repairs?; my headphones broke can you repair them?; do you repair phones?; how long does a repair take?")},
	"trade_account": {Key: "trade_account", Tags: list("trade, accounts"),
		Questions: semi("Do you offer trade accounts?; Trade discount"),
		Answers: []string{
			"Registered tradespeople get {percent}% off with a free trade account; apply at the trade counter.",
		},
		Asks: semi("do you have a trade account?; is there a trade discount?; i'm a builder, do i get a discount?")},
	"prescriptions": {Key: "prescriptions", Tags: list("prescriptions"),
		Questions: semi("Can I collect my prescription here?; Prescriptions"),
		Answers: []string{
			"Yes, hand in your prescription at the counter; most medicines are ready within {rxhours} hours.",
			"We dispense prescriptions Monday to Saturday; repeat prescriptions can be ordered online and collected after {rxdays} working days.",
		},
		Asks: semi("can i drop off a prescription?; how long does a prescription take?; can i collect my prescription here; do you fill prescriptions?; is my prescription ready?")},
	"consultation": {Key: "consultation", Tags: list("advice, consultation"),
		Questions: semi("Can I get advice from a pharmacist?; Consultations"),
		Answers: []string{
			"Our pharmacists give free advice at the counter; private consultations take place in our consultation room.",
			"Free skin and product consultations by appointment; book at the counter or call {phone}.",
		},
		Asks: semi("can i talk to a pharmacist?; can someone give me advice?; do you do consultations?; can i get advice about my skin?")},
	"blood_pressure": {Key: "blood_pressure", Tags: list("health checks"),
		Questions: semi("Do you measure blood pressure?; Health checks"),
		Answers: []string{
			"Free blood pressure checks every day, no appointment needed; it takes about {bpmins} minutes.",
		},
		Asks: semi("can you check my blood pressure?; do you do blood pressure checks?; health check?")},
	"grooming": {Key: "grooming", Tags: list("grooming, services"),
		Questions: semi("Do you offer dog grooming?; Grooming salon"),
		Answers: []string{
			"Our grooming salon is open Tuesday to Saturday; a full groom starts at {groomprice}. Book at the till.",
		},
		Asks: semi("do you do dog grooming?; can i book a groom for my dog?; how much is a dog wash?; grooming?")},
	"plant_guarantee": {Key: "plant_guarantee", Tags: list("guarantee, plants"),
		Questions: semi("Do plants come with a guarantee?; Plant guarantee"),
		Answers: []string{
			"All hardy plants are guaranteed for {guaranteeyears} years; bring the plant and the receipt back if it fails.",
		},
		Asks: semi("what if my plant dies?; is there a guarantee on plants?; do your plants have a warranty?")},
	"delivery_bulky": {Key: "delivery_bulky", Tags: list("delivery"),
		Questions: semi("Do you deliver compost and large items?"),
		Answers: []string{
			"Bulky items such as compost, sheds and furniture are delivered within {radius} km for {delivfee}.",
		},
		Asks: semi("can you deliver compost?; do you deliver big items?; can you bring the bags of compost to my house?")},
	"cafe": {Key: "cafe", Tags: list("cafe"),
		Questions: semi("Is there a café?"),
		Answers: []string{
			"Our café serves breakfast from {open}, lunch until 15:00 and cake all day.",
		},
		Asks: semi("do you have a cafe?; can i get a coffee here?; is the cafe open?")},
	"book_orders": {Key: "book_orders", Tags: list("orders, books"),
		Questions: semi("Can you order a book for me?"),
		Answers: []string{
			"Yes, any book in print can be ordered; most arrive within {orderdays} working days and there is no extra charge.",
		},
		Asks: semi("can you order a book in for me?; how long does it take to order a book?; can i order a book that's not on the shelf?")},
	"gift_wrap": {Key: "gift_wrap", Tags: list("gift wrap"),
		Questions: semi("Do you gift wrap?"),
		Answers: []string{
			"Gift wrapping is free for purchases over {wrapmin}; otherwise {wrapprice} per item.",
		},
		Asks: semi("can you gift wrap it?; do you do gift wrapping?; is gift wrapping free?")},
	"events": {Key: "events", Tags: list("events"),
		Questions: semi("Do you hold events?"),
		Answers: []string{
			"Story time for children every Saturday at {eventtime}; author evenings are announced in store.",
		},
		Asks: semi("do you have any events?; is there a story time for kids?; when is story time?")},
	"birthday_lists": {Key: "birthday_lists", Tags: list("gift lists"),
		Questions: semi("Can I make a birthday list?"),
		Answers: []string{
			"Yes, we keep birthday wish lists at the till for up to {listweeks} weeks; guests can buy from the list in store.",
		},
		Asks: semi("can i set up a birthday list?; do you do wish lists for kids birthdays?; can my son make a birthday list here?")},
	"bike_service": {Key: "bike_service", Tags: list("repairs, services"),
		Questions: semi("Do you service bikes?"),
		Answers: []string{
			"Bike services start at {bikeprice}; book in and collect within {repairdays} working days.",
		},
		Asks: semi("can you service my bike?; how much is a bike service?; do you fix bikes?")},
	"racket_stringing": {Key: "racket_stringing", Tags: list("services"),
		Questions: semi("Do you restring rackets?"),
		Answers: []string{
			"Racket stringing from {stringprice}, ready in {repairdays} days.",
		},
		Asks: semi("can you restring my tennis racket?; do you do racket stringing?")},
	"cakes": {Key: "cakes", Tags: list("orders, cakes"),
		Questions: semi("Do you make custom cakes?; Celebration cakes"),
		Answers: []string{
			"Celebration cakes can be ordered {noticedays} days in advance; prices start at {cakeprice}.",
		},
		Asks: semi("can i order a birthday cake?; do you make custom cakes?; how far ahead do i need to order a cake?; can you do a cake for 20 people?")},
	"allergens": {Key: "allergens", Tags: list("allergens, allergies"),
		Questions: semi("Do you have allergen information?; Allergies"),
		Answers: []string{
			"Allergen information for every product is in the folder at the counter; ask staff before ordering if you have an allergy.",
			"All our breads are baked in a kitchen that handles nuts, sesame and gluten; we cannot guarantee any product is allergen-free.",
		},
		Asks: semi("do you have allergen info?; is the bread nut free?; i have a nut allergy, what can i eat?; do your cakes contain gluten?")},
	"alterations": {Key: "alterations", Tags: list("alterations, services"),
		Questions: semi("Do you do alterations?"),
		Answers: []string{
			"Trouser hems are shortened free of charge; other alterations from {alterprice}, ready in {repairdays} days.",
		},
		Asks: semi("can you take up my trousers?; do you do alterations?; can you shorten these jeans?")},
	"sizes": {Key: "sizes", Tags: list("sizes"),
		Questions: semi("How do your sizes fit?"),
		Answers: []string{
			"Our sizes run true to size; the size guide is on each hanger and staff can order other sizes within {orderdays} days.",
		},
		Asks: semi("do your sizes run small?; can you order a different size?; how do the sizes fit?")},
	"testers": {Key: "testers", Tags: list("testers, samples"),
		Questions: semi("Can I try products before buying?"),
		Answers: []string{
			"Testers are available for all make-up and fragrances; ask for free samples of skincare at the counter.",
		},
		Asks: semi("can i try the perfume?; are there testers?; can i get a sample?")},
}

// offTopic are questions no store's data answers.
var offTopic = semi("what's the weather like tomorrow?; who won the football last night?; tell me a joke; what's the capital of australia?; can you write my essay for me?; how old is the universe?; what's 17 times 23?; who is the president of france?; recommend me a good movie; what is the meaning of life?; can you help me with my maths homework?; translate good morning into spanish; what's bitcoin trading at today?; play some music; what time is it in tokyo?; how tall is mount everest?; write a poem about the sea; what's the best phone to buy this year?; who invented the telephone?; how many planets are there?; can you book me a taxi?; what's the score in the tennis?; do you think it will rain on saturday?; what's your favourite colour?; how do i get a mortgage?; who wrote hamlet?; what's trending on tiktok; explain quantum physics; how far away is the moon?; is the train on time?; whats 2+2; are you a robot?; how do you say thank you in german?; who's going to win the election?")

var greetings = semi("hi; hello; hey; good morning; hi there!; hello :); hey there; good evening; hiya; morning!; hallo; hi, anyone there?; hello, can you help me?; hey, quick question; good afternoon; hi!!; yo; helloooo; heya; hi, i need some help")

var thanks = semi("thanks; thank you; thx; ty; thanks a lot!; cheers; great, thanks; perfect thank you; thank u so much; ok thanks; many thanks; brilliant, thanks!; thanks for your help; ta; that's helpful, thanks; super, danke")

var goodbyes = semi("bye; goodbye; see you; bye bye; cya; that's all, bye; have a nice day, bye; ok bye; see ya later; good night; bye for now; that's everything, see you; thats it bye; i'm off, bye")

// thanksBye are both a thanks and a goodbye.
var thanksBye = semi("thx bye; thanks, bye!; thank you, goodbye; cheers, see you; ta, bye; thanks that's all, bye")
