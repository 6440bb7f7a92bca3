// Package assistant answers customers' and staff's questions from one store's own data, with or
// without a language model: the decision (which intent, which product, which fact) is plain code
// that returns data, and words come second.
//
// # Answers
//
// An [Answer] is the intent, the facts it rests on and the text. As JSON (what `slm ask --json`
// prints per question, and the `aisle` object of the chat API):
//
//	{"q": "how much is the ibuprofen", "intent": "price",
//	 "answer": "Ibuprofen 400 mg, 20 tablets costs 6.95 EUR.",
//	 "facts": [{"type": "product", "sku": "PH-0101", "name": "Ibuprofen 400 mg, 20 tablets",
//	            "brand": "Nurofen", "category": "Pain Relief", "price": 6.95, "currency": "EUR",
//	            "stock": "in_stock", "quantity": 14, "aisle": "2A"}]}
//
// Intents:
//
//	availability    "do you have X", "is X in stock", "any X left?"
//	price           "how much is X"
//	location        "where is X", "which aisle"
//	faq             the store's own answers: hours, returns, payment, parking, Wi-Fi, ...
//	recommendation  by need or category, optionally under a price: "something to measure a wall",
//	                "a gift under 30"
//	comparison      "a cheaper one?", "the bigger one?", "which is cheaper, X or Y?"
//	promotion       "any offers?"
//	unknown_item    the store does not carry what was asked (the nearest category it does carry
//	                is a fact when there is one)
//	greeting, thanks, goodbye, off_topic
//	staff           back-room stock, supplier, cost, notes: answered with staff facts on staff
//	                devices only; a customer device says it is for staff and states no staff field
//
// Facts ("type" first):
//
//	product   sku, name, brand?, category?, price (major units), currency, stock ("in_stock",
//	          "few_left" (1 to FewLeft on the shelf) or "out_of_stock"), quantity (on the shelf),
//	          aisle?, promotion? {title, percent, price}; staff? {backroom, supplier?, cost?, notes?}
//	          on staff devices only
//	faq       id, question, answer
//	category  name, aisles? (where it is shelved), products? (how many the store carries)
//	store     name, hours? (for greetings: who is answering)
//
// Every figure the text states (price, quantity, aisle, SKU, a number in a name or an FAQ
// answer) is one of the facts' values: the deterministic text is composed from the facts, and
// a model's text is held to them by constrained decoding; its words reach the customer only
// while they read as an answer, and the deterministic sentence is added when it lacks the key
// fact (see Phraser).
package assistant
