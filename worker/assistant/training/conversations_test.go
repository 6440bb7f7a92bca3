package training

import (
	"fmt"
	"sync"
	"testing"

	"aisle/worker/assistant/synth"
)

// TestConversationsAreReproducible: a store's conversations are the same every time they are
// generated, in parallel as WriteData generates them or not, so the recipe reproduces its data
// from the seed. (The assistant once summed a map's floats in the map's order, which changes
// from call to call, and named another nearest category now and then.)
func TestConversationsAreReproducible(t *testing.T) {
	spec := Spec{Stores: 40, Seed: 1, Split: synth.SplitTrain, Invent: 60}
	want := make([]string, spec.Stores)
	for i := range want {
		cs, err := StoreConversations(spec, i)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = fmt.Sprint(cs)
	}
	for range 2 {
		var wg sync.WaitGroup
		for i := range spec.Stores {
			wg.Go(func() {
				if cs, _ := StoreConversations(spec, i); fmt.Sprint(cs) != want[i] {
					t.Errorf("store %d: its conversations differ from one generation to the next", i)
				}
			})
		}
		wg.Wait()
	}
}
