package tokenizer_test

import (
	"fmt"
	"log"

	"aisle/worker/gguf"
	"aisle/worker/tokenizer"
)

func Example() {
	f, err := gguf.Open("../testdata/vocab/ggml-vocab-qwen2.gguf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f.Metadata)
	if err != nil {
		log.Fatal(err)
	}
	ids := tok.Encode("<|im_start|>user\nHello, world!<|im_end|>", tok.AddBOS(), true)
	fmt.Println(ids)
	fmt.Printf("%q\n", tok.Decode(ids))
	fmt.Println(tok.IsEOG(ids[len(ids)-1]))
	// Output:
	// [151644 872 198 9707 11 1879 0 151645]
	// "user\nHello, world!"
	// true
}

func ExampleTokenizer_NewStreamDecoder() {
	f, err := gguf.Open("../testdata/vocab/ggml-vocab-llama-spm.gguf")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f.Metadata)
	if err != nil {
		log.Fatal(err)
	}
	d := tok.NewStreamDecoder()
	for _, id := range tok.Encode("Llamas 🦙!", false, false) {
		fmt.Printf("%q %q\n", tok.Piece(id), d.Add(id))
	}
	fmt.Printf("%q\n", d.Flush())
	// Output:
	// " L" "L"
	// "lam" "lam"
	// "as" "as"
	// " " " "
	// "\xf0" ""
	// "\x9f" ""
	// "\xa6" ""
	// "\x99" "🦙"
	// "!" "!"
	// ""
}
