// Package synth generates synthetic stores (STORE.json) and the questions customers and staff
// ask about them, each with the expectation a correct answer must meet (package
// aisle/worker/assistant/eval scores answers against it). It makes the committed evaluation
// set (worker/assistant/testdata/eval, see [EvalSet]) and, later, training data: thousands of
// stores whose vocabulary never overlaps the evaluation stores'.
//
// Everything is deterministic: the same [StoreSpec] gives the same store and the same
// [QuestionSpec] the same questions, byte for byte, on every machine (a local SplitMix64
// generator, integer arithmetic for every figure, no map iteration in the output path).
//
// # Stores
//
// [NewStore] draws a store of one kind ([Kinds]: grocery, hardware (hardware and electronics),
// pharmacy (pharmacy and household), pet, garden, books (bookshop and stationery), sports,
// toys, bakery (bakery and deli), clothing, cosmetics) from its vocabulary (vocab_*.go):
// departments with the words customers use for them and the needs they answer; product
// families with aliases, size variants ordered from small to large ("200 g" < "400 g",
// "4 x 125 g", "20 tablets"), needs ("to measure a wall") and a gift flag; brands; store names;
// suppliers. Each store draws its own style: currency (EUR, USD, GBP, CHF, SEK, PLN) with its
// price endings (4.99, 3.90), time zone and address; product naming ("Name 200 g",
// "Name, 200 g", "Brand Name 200 g", "Name (200 g)"); SKUs ("PH-0101", "XY1234",
// "HW-CDD-18V", "204518"); aisles ("2A", "Aisle 7", "B12", "Bay 14"); how many products carry
// an EAN-13 (or UPC-A) barcode; sometimes a house brand sold beside a name brand. Shelf stock
// is 0 for about one product in eight and 1 to 3 for one in seven; most products carry staff
// data (back-room count, supplier, cost, sometimes notes). The FAQ (8 to 12 entries, in the
// store's own words, with tags; some with explicit IDs, the rest "<store id>.faq-<n>") always
// covers hours, returns and payment, then topics common to every store (parking, Wi-Fi,
// toilets, delivery, loyalty, accessibility, pets, gift cards) and some of the kind's own
// (prescriptions, key cutting, repairs, grooming, cakes, ...). [Store.JSON] writes STORE.json;
// every store parses with catalog.ParseStoreFile (the tests check every kind).
//
// # Questions
//
// [Store.Questions] asks, per intent of the answer contract, as many stand-alone questions as
// [QuestionSpec.Counts] says, plus multi-turn conversations (a product question, then "how
// much is it?", "where is it?", "and the bigger one?", "a cheaper one?", staff follow-ups,
// FAQ follow-ups, thanks and goodbyes). A product is named as customers name it: its alias
// ("painkillers"), its family without the size, brand and alias, the brand alone, alias and
// size ("cheddar 400g"), singular or plural, the full name, the SKU or the barcode; the
// expected SKUs are every product those words can denote (several when the words are
// genuinely ambiguous, tagged "ambiguous"). Noise follows real phone typing: typos in product
// words (swaps, drops, doubled letters, neighbouring keys), chat speak ("u", "r", "pls"),
// dropped accents, case, missing punctuation, greetings in front. Unknown items come from the
// other kinds' vocabularies (of the same split) and match none of the store's products; their
// expectation names the store's category of the same department group when there is exactly
// one. Staff questions are asked on staff devices (Staff: true) and, worded for customers, on
// customer devices. Every question carries tags naming what it shows, so results can be split
// by phenomenon.
//
// # Held-out vocabulary
//
// See [Split] and [HeldOut]: about a third of the product families, brands and store names is
// held out by a hash of the entry's own text. [SplitEval] stores use only held-out entries (and
// their unknown items come from held-out entries of the other kinds); [SplitTrain] stores
// never use them. Training data must be generated with SplitTrain, for example
//
//	go run ./worker/assistant/synth/cmd/aisle-synth stores -split train -n 1000 -out DIR
//
// and no product family, brand or store name of the evaluation set can appear in it.
//
// # API for training data
//
//	s, err := synth.NewStore(synth.StoreSpec{Kind: "pet", Seed: 42, Split: synth.SplitTrain})
//	storeJSON := s.JSON()                                   // STORE.json
//	qs := s.Questions(synth.DefaultQuestionSpec(42))        // []eval.Question with expectations
//	gen, _ := synth.Generate([]synth.SetStore{...})         // many stores at once
//	files, _ := synth.Files(gen)                            // "<id>.json", "<id>.questions.jsonl"
//	synth.WriteFiles(dir, files)
//
// [Store] also exposes each [Product]'s family, size order, aliases, needs and staff data, so
// that a training pipeline can compose target answers from the same data the expectation
// was computed from.
package synth
