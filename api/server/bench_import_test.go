package server_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"aisle/api/server"
)

// importCSV is a CSV bulk import of n products named by gen.
func importCSV(n int, sku, name func(i int) string, price int) string {
	var b strings.Builder
	b.WriteString("sku,name,description,category,brand,price,cost,supplier\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,%s,A typical product description of moderate length as catalogs have.,Category %d,Brand %d,%d,%d,Supplier %d\n",
			sku(i), name(i), i%40, i%300, price+i%1000, (price+i%1000)/2, i%50)
	}
	return b.String()
}

// BenchmarkImport5000 measures the write path of a 5,000-product CSV import
// through the admin API (parse, validate, vectors, one transaction):
// creating new products, renaming them (every vector changes) and changing
// only their prices (no vector changes; each is compared with the log).
//
//	go test ./api/server -run '^$' -bench Import5000 -benchtime 5x
func BenchmarkImport5000(b *testing.B) {
	const n = 5000
	for _, kind := range []dbKind{sqliteDB, postgresDB} {
		b.Run(string(kind), func(b *testing.B) {
			e := newEnv(b, kind, server.Config{ImportLimit: 64 << 20})
			round := 0
			run := func(b *testing.B, body func() string) {
				var cpu time.Duration
				for range b.N {
					round++
					csv := body()
					c0 := cpuTime()
					b.StartTimer()
					r := e.do("POST", "/v1/admin/import?entity=products", e.Admin, csv, "Content-Type", "text/csv")
					b.StopTimer()
					cpu += cpuTime() - c0
					if r.Status != 200 {
						b.Fatalf("import: %d %s", r.Status, r.Body)
					}
				}
				// The process's CPU time (server and SQLite; PostgreSQL's own
				// processes excluded): steadier than wall time on a shared machine.
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			}
			b.Run("create", func(b *testing.B) {
				b.StopTimer()
				run(b, func() string {
					return importCSV(n, func(i int) string { return fmt.Sprintf("R%d-%05d", round, i) }, func(i int) string { return fmt.Sprintf("Product number %d", i) }, 100)
				})
			})
			b.Run("rename", func(b *testing.B) {
				b.StopTimer()
				run(b, func() string {
					return importCSV(n, func(i int) string { return fmt.Sprintf("R1-%05d", i) }, func(i int) string { return fmt.Sprintf("Product %d edition %d", i, round) }, 100)
				})
			})
			b.Run("price", func(b *testing.B) {
				b.StopTimer()
				run(b, func() string {
					return importCSV(n, func(i int) string { return fmt.Sprintf("R1-%05d", i) }, func(i int) string { return fmt.Sprintf("Product number %d", i) }, 100+round)
				})
			})
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// storeFile is a STORE.json of n products (every other one with a staff
// block) and 20 FAQs.
func storeFile(id string, n int, sku func(i int) string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"store": {"id": %q, "name": "Bench %s", "timezone": "Europe/Paris"}, "products": [`, id, id)
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"sku": %q, "name": "Product number %d", "category": "Category %d", "brand": "Brand %d", "price": %d.%02d, "currency": "EUR", "stock": %d, "aisle": "%dA"`,
			sku(i), i, i%40, i%300, 1+i%90, i%100, i%50, i%30)
		if i%2 == 0 {
			fmt.Fprintf(&b, `, "staff": {"backroom": %d, "supplier": "Supplier %d", "cost": %d.50}`, i%20, i%50, i%40)
		}
		b.WriteString("}")
	}
	b.WriteString(`], "faqs": [`)
	for i := range 20 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"question": "Question number %d?", "answer": "Answer number %d.", "tags": ["t%d"]}`, i, i, i)
	}
	b.WriteString("]}")
	return b.String()
}

// BenchmarkStoreImport5000 measures POST /v1/admin/import/store with a
// 5,000-product STORE.json: a new store of new products, and the same file
// again (read, merge, nothing to write).
//
//	go test ./api/server -run '^$' -bench StoreImport5000 -benchtime 3x
func BenchmarkStoreImport5000(b *testing.B) {
	const n = 5000
	for _, kind := range []dbKind{sqliteDB, postgresDB} {
		b.Run(string(kind), func(b *testing.B) {
			e := newEnv(b, kind, server.Config{ImportLimit: 64 << 20})
			round := 0
			var last string
			measure := func(b *testing.B, body func() string) {
				var cpu time.Duration
				for range b.N {
					round++
					file := body()
					c0 := cpuTime()
					b.StartTimer()
					r := e.do("POST", "/v1/admin/import/store", e.Admin, file)
					b.StopTimer()
					cpu += cpuTime() - c0
					if r.Status != 200 {
						b.Fatalf("import: %d %.300s", r.Status, r.Body)
					}
				}
				b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			}
			b.Run("new", func(b *testing.B) {
				b.StopTimer()
				measure(b, func() string {
					id := fmt.Sprintf("bench-%d", round)
					last = storeFile(id, n, func(i int) string { return fmt.Sprintf("S%d-%05d", round, i) })
					return last
				})
			})
			b.Run("again", func(b *testing.B) {
				b.StopTimer()
				measure(b, func() string { return last })
			})
		})
	}
}
