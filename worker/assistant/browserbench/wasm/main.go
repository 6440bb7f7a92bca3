//go:build js && wasm

// Command wasm is the assistant's browser benchmark: in a dedicated Worker it indexes a
// 5,000-product store (with the server's vectors, as a synced device has them, and without) and
// times questions to structured answers and question embeddings, then posts the figures.
package main

import (
	"fmt"
	"sort"
	"syscall/js"
	"time"

	"aisle/sync/catalog"
	"aisle/worker/assistant"
	"aisle/worker/assistant/embed"
	"aisle/worker/assistant/internal/benchstore"
)

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func quantiles(ds []time.Duration) (median, p95 float64) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ms(ds[len(ds)/2]), ms(ds[len(ds)*95/100])
}

func main() {
	defer func() {
		if r := recover(); r != nil {
			js.Global().Call("postMessage", js.ValueOf(map[string]any{"error": fmt.Sprint(r)}))
		}
	}()
	data := benchstore.Data(5000)
	// without vectors: the device computes every product's (a STORE.json, or an old server)
	start := time.Now()
	assistant.NewStore(data, time.Now())
	indexNoVectors := time.Since(start)
	// with the server's vectors, as after a sync
	data.Vectors = map[string]catalog.Vector{}
	for _, p := range data.Products {
		data.Vectors["product:"+p.SKU] = embed.Encode(embed.Product(p))
	}
	start = time.Now()
	s := assistant.NewStore(data, time.Now())
	index := time.Since(start)

	var asks, embeds []time.Duration
	conv := s.NewConversation()
	for round := 0; round < 20; round++ {
		for _, q := range benchstore.Questions {
			t0 := time.Now()
			conv.Ask(q)
			asks = append(asks, time.Since(t0))
			// a browser's clock ticks in 0.1 ms or coarser: time 100 embeddings at once
			t0 = time.Now()
			for k := 0; k < 100; k++ {
				embed.Text(q)
			}
			embeds = append(embeds, time.Since(t0)/100)
		}
	}
	askMed, askP95 := quantiles(asks)
	embMed, embP95 := quantiles(embeds)
	js.Global().Call("postMessage", js.ValueOf(map[string]any{
		"products": len(s.Items), "index_ms": ms(index), "index_no_vectors_ms": ms(indexNoVectors),
		"ask_median_ms": askMed, "ask_p95_ms": askP95, "embed_median_ms": embMed, "embed_p95_ms": embP95,
		"questions": len(asks),
	}))
}
