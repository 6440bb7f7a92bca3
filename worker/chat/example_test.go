package chat_test

import (
	"fmt"
	"slices"
	"testing"

	"aisle/worker/chat"
)

// A GGUF's tokenizer.chat_template selects the template; the prompt is then tokenized with
// special tokens parsed, adding BOS only when the template did not write it.
func ExampleSelect() {
	tmpl := chat.Select(`{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`)
	prompt, err := tmpl.Render([]chat.Message{
		{Role: "system", Content: "You help shoppers."},
		{Role: "user", Content: "Where is the rice?"},
	}, true)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s, emits BOS: %v, stops: %q\n%s", tmpl.Family, tmpl.EmitsBOS(), tmpl.Stops(), prompt)
	// Output:
	// chatml, emits BOS: false, stops: ["<|im_end|>" "<|endoftext|>"]
	// <|im_start|>system
	// You help shoppers.<|im_end|>
	// <|im_start|>user
	// Where is the rice?<|im_end|>
	// <|im_start|>assistant
}

func ExampleDetectStrict() {
	_, err := chat.DetectStrict("{{ messages }}")
	fmt.Println(err)
	// Output:
	// chat template not supported: no known family's markers found; using chatml
}

func FuzzDetect(f *testing.F) {
	f.Add("<|im_start|>You are Qwen, created by Alibaba Cloud<|im_end|>")
	f.Add("<|start_header_id|>Cutting Knowledge Date strftime_now<|end_header_id|>")
	f.Add("[INST] <<SYS>>")
	f.Fuzz(func(t *testing.T, template string) {
		fam, err := chat.DetectStrict(template)
		if !slices.Contains(chat.Families, fam) {
			t.Fatalf("DetectStrict(%q) = %q, not a known family", template, fam)
		}
		if err != nil && fam != chat.Fallback {
			t.Fatalf("DetectStrict(%q) = %s with error %v: errors must come with the fallback", template, fam, err)
		}
		if _, err := chat.Select(template).Render([]chat.Message{{Role: "user", Content: "hi"}}, true); err != nil {
			t.Fatalf("Render after Select(%q): %v", template, err)
		}
	})
}
