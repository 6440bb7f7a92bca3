// Package benchstore makes large synthetic stores and questions for the assistant's benchmarks
// (natively and in the browser).
package benchstore

import (
	"fmt"
	"math/rand/v2"

	"aisle/sync/catalog"
	"aisle/sync/replica"
)

// Data is a store of n products made of real-looking names (brand, product, size), for
// benchmarks of a large store.
func Data(n int) replica.Contents {
	r := rand.New(rand.NewPCG(1, 2))
	brands := []string{"Acme", "Nordic", "Greenfield", "Volta", "Bosch", "Makita", "Nivea", "Dawn", "Barilla", "Lavazza",
		"Philips", "Anker", "JBL", "Stanley", "Hillman", "Behr", "Cabot", "Horizon", "Oatly", "Tropicana"}
	kinds := []struct{ cat, name, unit string }{
		{"Dairy", "Whole Milk", "L"}, {"Dairy", "Greek Yogurt", "g"}, {"Cheese", "Sharp Cheddar", "g"},
		{"Pantry", "Penne Rigate", "g"}, {"Pantry", "Olive Oil", "ml"}, {"Coffee & Tea", "Ground Coffee", "g"},
		{"Household", "Dish Soap", "ml"}, {"Household", "Laundry Detergent", "L"}, {"Household", "Paper Towels", "rolls"},
		{"Power Tools", "Cordless Drill", "V"}, {"Hand Tools", "Tape Measure", "m"}, {"Hand Tools", "Claw Hammer", "oz"},
		{"Electronics", "USB-C Charger", "W"}, {"Electronics", "Bluetooth Speaker", "W"}, {"Electronics", "AA Batteries", "pack"},
		{"Paint", "Wall Paint", "L"}, {"Fasteners", "Wood Screws", "pieces"}, {"Pain Relief", "Ibuprofen Tablets", "mg"},
		{"Skin Care", "Hand Cream", "ml"}, {"Snacks", "Salted Crisps", "g"}, {"Drinks", "Sparkling Water", "L"},
		{"Baby", "Baby Wipes", "wipes"}, {"Pet", "Dry Dog Food", "kg"}, {"Garden", "Potting Soil", "L"},
	}
	adjs := []string{"Classic", "Organic", "Premium", "Value", "Extra", "Light", "Pro", "Mini", "Family", "Original"}
	d := replica.Contents{Store: catalog.Store{ID: "big", Name: "Big Store", TimeZone: "UTC"}}
	for i := 0; i < n; i++ {
		k := kinds[r.IntN(len(kinds))]
		size := []int{1, 2, 5, 10, 12, 18, 20, 25, 50, 100, 250, 500, 750, 1000}[r.IntN(14)]
		p := catalog.Product{SKU: fmt.Sprintf("SKU-%05d", i), Name: fmt.Sprintf("%s %s %d %s", adjs[r.IntN(len(adjs))], k.name, size, k.unit),
			Category: k.cat, Brand: brands[r.IntN(len(brands))], Price: int64(50 + r.IntN(20000)), Currency: "EUR", Active: true}
		d.Products = append(d.Products, p)
		d.Stock = append(d.Stock, catalog.Stock{SKU: p.SKU, Quantity: int64(r.IntN(40)), Aisle: fmt.Sprintf("%d%c", 1+r.IntN(30), 'A'+r.IntN(4))})
	}
	d.FAQs = []catalog.FAQ{
		{ID: "hours", Store: "big", Question: "When are you open?", Answer: "Every day 8:00-20:00.", Tags: []string{"hours"}},
		{ID: "returns", Question: "Can I return something?", Answer: "Within 30 days with the receipt.", Tags: []string{"returns"}},
	}
	return d
}

// Questions are the benchmark's questions, one conversation in order.
var Questions = []string{
	"how much is the organic whole milk?", "do you have SKU-00042", "where r the aa batteries",
	"something to measure a wall", "a cordless drill under 100 euros", "do you sell bicycles?",
	"when do you close tonight", "is the greek yoghurt in stock", "a cheaper one?", "thanks!",
}
