package server

import (
	"context"
	"fmt"
	"time"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// DemoStoreID is the store Seed creates.
const DemoStoreID = "demo"

// Seed fills an empty database with a demo store and catalog, and
// publishes its first checkpoint. It does nothing when any store exists.
func Seed(ctx context.Context, st store.Store, now time.Time) error {
	items, _, err := st.List(ctx, store.Stores, store.ListQuery{Limit: 1})
	if err != nil || len(items) > 0 {
		return err
	}
	var ops []store.Op
	add := func(op store.Op, err error) {
		if err == nil {
			ops = append(ops, op)
		} else {
			panic(fmt.Sprintf("seed data is invalid: %v", err)) // a bug in the literal below
		}
	}
	add(store.PutStore(catalog.Store{ID: DemoStoreID, Name: "Aisle Demo Market", TimeZone: "Europe/Paris",
		Address: "1 Rue de la Démo, 75001 Paris", NightlyAt: "02:00"}))
	type row struct {
		sku, name, cat, brand string
		price, cost           int64
		qty, back             int64
		aisle                 string
		attrs                 map[string]string
	}
	rows := []row{
		{"MILK-1L", "Semi-skimmed milk 1 L", "Dairy", "Laiterie Claire", 119, 72, 48, 120, "3A", map[string]string{"organic": "no"}},
		{"MILK-ORG-1L", "Organic whole milk 1 L", "Dairy", "Prairie Bio", 169, 101, 22, 40, "3A", map[string]string{"organic": "yes"}},
		{"BUTTER-250", "Salted butter 250 g", "Dairy", "Laiterie Claire", 289, 180, 30, 60, "3B", nil},
		{"CREME-20", "Crème fraîche 20 cl", "Dairy", "Laiterie Claire", 149, 80, 18, 36, "3B", nil},
		{"YOG-NAT-4", "Plain yogurt 4 x 125 g", "Dairy", "Prairie Bio", 199, 110, 25, 50, "3C", nil},
		{"COMTE-200", "Comté 18 months 200 g", "Cheese", "Fromagerie du Jura", 549, 360, 12, 24, "4A", nil},
		{"BRIE-300", "Brie de Meaux 300 g", "Cheese", "Fromagerie Royale", 459, 290, 9, 20, "4A", nil},
		{"BAGUETTE", "Baguette tradition", "Bakery", "Maison", 125, 40, 60, 0, "1A", nil},
		{"CROISSANT-4", "Butter croissants x4", "Bakery", "Maison", 390, 150, 16, 0, "1A", nil},
		{"PASTA-500", "Penne rigate 500 g", "Pantry", "Campo d'Oro", 129, 60, 80, 200, "6A", nil},
		{"RICE-1K", "Basmati rice 1 kg", "Pantry", "Himal", 319, 190, 35, 90, "6B", nil},
		{"OIL-OLIVE-75", "Extra virgin olive oil 75 cl", "Pantry", "Oliveraie", 899, 610, 20, 48, "6C", nil},
		{"TOMATO-CAN", "Crushed tomatoes 400 g", "Pantry", "Campo d'Oro", 99, 45, 70, 150, "6A", nil},
		{"COFFEE-250", "Ground coffee arabica 250 g", "Breakfast", "Torréfaction Nord", 479, 300, 26, 60, "7A", nil},
		{"TEA-GREEN-20", "Green tea 20 bags", "Breakfast", "Jardin de Thé", 289, 150, 14, 30, "7A", nil},
		{"APPLE-KG", "Gala apples (per kg)", "Produce", "Vergers de Loire", 249, 140, 55, 0, "2A", map[string]string{"origin": "France"}},
		{"BANANA-KG", "Bananas (per kg)", "Produce", "Tropica", 199, 110, 40, 80, "2A", map[string]string{"origin": "Ecuador"}},
		{"AVOCADO", "Avocado ready to eat", "Produce", "Tropica", 129, 70, 0, 30, "2B", nil},
		{"SALAD-MIX", "Mixed salad 200 g", "Produce", "Potager", 199, 90, 12, 0, "2C", nil},
		{"WATER-6X1.5", "Still water 6 x 1.5 L", "Drinks", "Source Claire", 299, 150, 40, 120, "8A", nil},
		{"JUICE-ORANGE-1L", "Orange juice 1 L", "Drinks", "Soleil", 259, 140, 24, 48, "8B", nil},
		{"WINE-BDX-75", "Bordeaux red 75 cl", "Drinks", "Château Démo", 1290, 700, 18, 36, "9A", nil},
		{"SOAP-LIQ", "Liquid hand soap 300 ml", "Household", "Douce", 249, 120, 20, 40, "10A", nil},
		{"DETERGENT-2L", "Laundry detergent 2 L", "Household", "Lavande", 899, 520, 10, 30, "10B", nil},
		{"BATTERY-AA-4", "AA batteries x4", "Household", "Volta", 599, 300, 15, 50, "10C", nil},
	}
	for _, r := range rows {
		add(store.PutProduct(catalog.ProductRecord{
			Product: catalog.Product{SKU: r.sku, Name: r.name, Category: r.cat, Brand: r.brand, Price: r.price,
				Currency: "EUR", Attributes: r.attrs, Active: true, Description: r.name + " from " + r.brand + "."},
			Staff: catalog.ProductStaff{Cost: r.cost, Supplier: r.brand + " wholesale", Notes: "reorder at 10"},
		}))
		add(store.PutStock(DemoStoreID, catalog.StockRecord{
			Stock: catalog.Stock{SKU: r.sku, Quantity: r.qty, Aisle: r.aisle, UpdatedAt: now.UTC()},
			Staff: catalog.StockStaff{Backroom: r.back},
		}))
	}
	faqs := []catalog.FAQ{
		{ID: "hours", Store: DemoStoreID, Question: "What are the opening hours?", Answer: "Monday to Saturday 8:00-21:00, Sunday 9:00-13:00.", Tags: []string{"hours"}},
		{ID: "parking", Store: DemoStoreID, Question: "Is there parking?", Answer: "Yes, free for 90 minutes in the underground car park.", Tags: []string{"parking"}},
		{ID: "toilets", Store: DemoStoreID, Question: "Where are the toilets?", Answer: "Next to the customer service desk, by the entrance.", Tags: []string{"facilities"}},
		{ID: "returns", Question: "Can I return a product?", Answer: "Unopened products can be returned within 30 days with the receipt.", Tags: []string{"returns", "policy"}},
		{ID: "bags", Question: "Do you sell bags?", Answer: "Reusable bags are sold at every checkout.", Tags: []string{"checkout"}},
	}
	for _, f := range faqs {
		add(store.PutFAQ(f))
	}
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	add(store.PutPromotion(catalog.Promotion{ID: "dairy-week", Store: DemoStoreID, Title: "Dairy week",
		Description: "20% off selected dairy products.", SKUs: []string{"MILK-1L", "BUTTER-250", "YOG-NAT-4"},
		DiscountPercent: 20, Starts: start, Ends: start.AddDate(0, 2, 0)}))
	seed := store.Actor{Name: "seed", Role: store.RoleAdmin}
	if _, err := st.Write(ctx, seed, ops); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	_, _, err = st.Publish(ctx, seed, DemoStoreID, wire.ReasonInitial, "")
	return err
}
