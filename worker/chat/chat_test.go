package chat_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"aisle/worker/chat"
)

func TestDetectRealTemplates(t *testing.T) {
	tests := []struct {
		file       string
		want       chat.Family
		wantReason string // non-empty: the template must be reported unsupported with this in the reason
	}{
		{file: sharedTemplates + "/Qwen-Qwen2.5-7B-Instruct.jinja", want: chat.Qwen2},
		{file: sharedTemplates + "/Qwen-Qwen3-0.6B.jinja", want: chat.Qwen3},
		{file: sharedTemplates + "/meta-llama-Llama-3.2-3B-Instruct.jinja", want: chat.Llama32},
		{file: sharedTemplates + "/google-gemma-2-2b-it.jinja", want: chat.Gemma},
		{file: sharedTemplates + "/microsoft-Phi-3.5-mini-instruct.jinja", want: chat.Phi3},
		{file: sharedTemplates + "/HuggingFaceTB-SmolLM3-3B.jinja", want: chat.SmolLM3},
		{file: "testdata/meta-llama-Llama-3.1-8B-Instruct.jinja", want: chat.Llama31},
		{file: "testdata/llama-3-instruct.jinja", want: chat.Llama3},
		{file: "testdata/llama-2-chat.jinja", want: chat.Llama2},
		{file: "testdata/smollm2-instruct.jinja", want: chat.SmolLM2},
		{file: "testdata/chatml.jinja", want: chat.ChatML},
		{file: "testdata/qwen2-instruct.jinja", want: chat.ChatML},
		{file: "testdata/gemma-3-it.jinja", want: chat.Gemma},
		{file: "testdata/tinyllama-chat.jinja", want: chat.Zephyr},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[filepath.Base(tt.file)] = true
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			src, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			for name, text := range map[string]string{
				"as is":  string(src),
				"CRLF":   strings.ReplaceAll(string(src), "\n", "\r\n"),
				"edited": "{#- edited by a converter -#}\n" + strings.ReplaceAll(string(src), "{%-", "{%") + "\n",
			} {
				got, err := chat.DetectStrict(text)
				if got != tt.want {
					t.Errorf("%s: DetectStrict = %s, want %s", name, got, tt.want)
				}
				switch {
				case tt.wantReason == "" && err != nil:
					t.Errorf("%s: unexpected error %v", name, err)
				case tt.wantReason != "" && (err == nil || !errors.Is(err, chat.ErrUnsupported) || !strings.Contains(err.Error(), tt.wantReason)):
					t.Errorf("%s: error %v, want ErrUnsupported mentioning %q", name, err, tt.wantReason)
				}
			}
			if sel := chat.Select(string(src)); (sel.Unsupported != "") != (tt.wantReason != "") {
				t.Errorf("Select: Unsupported = %q", sel.Unsupported)
			}
		})
	}
	// Every template file shipped with the tests is classified here.
	files, _ := filepath.Glob(sharedTemplates + "/*.jinja")
	local, _ := filepath.Glob("testdata/*.jinja")
	for _, f := range append(files, local...) {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no detection test", f)
		}
	}
}

func TestDefaultSystemFromTemplate(t *testing.T) {
	tests := []struct {
		name, template, want string
	}{
		{"qwen2 escaped newline", "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{{'<|im_start|>' + m + '<|im_end|>'}}", "You are a helpful assistant."},
		{"real newline", "{{ '<|im_start|>system\nBe kind.<|im_end|>\n' }}<|im_start|><|im_end|>", "Be kind."},
		{"apostrophe in double quotes", `{{ "<|im_start|>system\nYou're helpful.\nTwo lines.<|im_end|>" }}<|im_end|>`, "You're helpful.\nTwo lines."},
		{"escaped quote", `{{ '<|im_start|>system\nYou\'re helpful.<|im_end|>' }}`, "You're helpful."},
		{"spliced content", "{{ '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}", ""},
		{"plain chatml", "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>'}}", ""},
		{"expression inside", "{{ '<|im_start|>system\\n{{ x }}<|im_end|>' }}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := chat.Select(tt.template)
			if tmpl.Family != chat.ChatML || tmpl.DefaultSystem != tt.want {
				t.Errorf("Select = %s with DefaultSystem %q, want chatml with %q (%s)", tmpl.Family, tmpl.DefaultSystem, tt.want, tmpl.Unsupported)
			}
		})
	}
	src, err := os.ReadFile("testdata/qwen2-instruct.jinja")
	if err != nil {
		t.Fatal(err)
	}
	got, err := chat.Select(string(src)).Render([]chat.Message{{"user", "Hi"}}, false)
	if want := "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"; err != nil || got != want {
		t.Errorf("qwen2-instruct: %q, %v; want %q", got, err, want)
	}
}

func TestDetectUnknown(t *testing.T) {
	tests := []struct {
		name, template, reason string
	}{
		{"empty", "", "no tokenizer.chat_template"},
		{"blank", " \n\t", "no tokenizer.chat_template"},
		{"plain text", "{% for m in messages %}{{ m.content }}{% endfor %}", "no known family"},
		{"mistral", "{{ bos_token }}{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}", "Mistral"},
		{"phi-4", "<|im_start|>user<|im_sep|>{{ m }}<|im_end|>", "Phi-4"},
		{"smollm3 with date", "<|im_start|>system\nReasoning Mode: /no_think Today Date: {{ strftime_now('%d') }}", "Today Date"},
		{"deepseek-r1 like", "<|im_start|>{{ m }}<think>\n<|im_end|>", "reasoning"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := chat.DetectStrict(tt.template)
			if f != chat.Fallback || !errors.Is(err, chat.ErrUnsupported) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("DetectStrict = %s, %v; want %s and an ErrUnsupported error mentioning %q", f, err, chat.Fallback, tt.reason)
			}
			if got := chat.Detect(tt.template); got != chat.Fallback {
				t.Errorf("Detect = %s, want %s", got, chat.Fallback)
			}
		})
	}
}

// TestRenderGolden pins a few renderings by hand, so that the renderers are checked even where
// the Jinja peer is missing.
func TestRenderGolden(t *testing.T) {
	sysUser := []chat.Message{{"system", "Be brief."}, {"user", "Hi"}}
	user := []chat.Message{{"user", "Hi"}}
	day := time.Date(2026, time.March, 7, 23, 59, 0, 0, time.UTC)
	llama32 := chat.For(chat.Llama32)
	llama32.Now = func() time.Time { return day }
	qwen3 := chat.For(chat.Qwen3)
	qwen3.DisableThinking = true
	tests := []struct {
		name   string
		tmpl   chat.Template
		msgs   []chat.Message
		addGen bool
		want   string
	}{
		{"chatml", chat.For(chat.ChatML), sysUser, true,
			"<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
		{"smollm2 default system", chat.For(chat.SmolLM2), user, true,
			"<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"},
		{"qwen2.5 default system", chat.For(chat.Qwen2), user, false,
			"<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"},
		{"qwen2.5 own system", chat.For(chat.Qwen2), sysUser, false,
			"<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"},
		{"qwen3 no thinking", qwen3, user, true,
			"<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"},
		{"qwen3 history", chat.For(chat.Qwen3), []chat.Message{{"user", "a"}, {"assistant", "<think>x</think>b"}, {"user", "c"}}, true,
			"<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\nb<|im_end|>\n<|im_start|>user\nc<|im_end|>\n<|im_start|>assistant\n"},
		{"qwen3 strips newlines only", chat.For(chat.Qwen3), []chat.Message{{"user", "a"}, {"assistant", "<think>\n reason \n</think>\n answer "}}, false,
			"<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\n<think>\n reason \n</think>\n\n answer <|im_end|>\n"},
		{"smollm3 no_think", chat.For(chat.SmolLM3), []chat.Message{{"system", "Be brief. /no_think"}, {"user", "Hi"}, {"assistant", "\n  Hello"}}, true,
			"<|im_start|>system\n## Metadata\n\nKnowledge Cutoff Date: June 2025\nReasoning Mode: /no_think\n\n## Custom Instructions\n\nBe brief.\n\n<|im_end|>\n" +
				"<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n  Hello<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n"},
		{"llama3.0", chat.For(chat.Llama3), user, true,
			"<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
		{"llama3.1", chat.For(chat.Llama31), user, true,
			"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>" +
				"<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"},
		{"llama3.2 date", llama32, sysUser, false,
			"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 07 Mar 2026\n\nBe brief.<|eot_id|>" +
				"<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"},
		{"llama2", chat.For(chat.Llama2), []chat.Message{{"system", "Be brief."}, {"user", "Hi "}, {"assistant", " Hello "}, {"user", "Bye"}}, true,
			"<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello </s><s>[INST] Bye [/INST]"},
		{"gemma system folded", chat.For(chat.Gemma), sysUser, true,
			"<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"},
		{"tinyllama", chat.For(chat.Zephyr), sysUser, true,
			"<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\n"},
		{"phi3", chat.For(chat.Phi3), sysUser, false,
			"<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|endoftext|>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.tmpl.Render(tt.msgs, tt.addGen)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if tt.tmpl.EmitsBOS() != (tt.tmpl.BOS != "" && strings.HasPrefix(got, tt.tmpl.BOS)) {
				t.Errorf("EmitsBOS = %v but the text starts %q", tt.tmpl.EmitsBOS(), got[:min(len(got), 20)])
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name   string
		family chat.Family
		msgs   []chat.Message
		want   string
	}{
		{"empty", chat.ChatML, nil, "empty conversation"},
		{"bad role", chat.Qwen2, []chat.Message{{"tool", "x"}}, `role "tool"`},
		{"blank role", chat.Llama32, []chat.Message{{"", "x"}}, `role ""`},
		{"llama2 assistant first", chat.Llama2, []chat.Message{{"assistant", "x"}}, "alternate"},
		{"llama2 two users", chat.Llama2, []chat.Message{{"system", "s"}, {"user", "a"}, {"user", "b"}}, "message 2"},
		{"gemma second system", chat.Gemma, []chat.Message{{"user", "a"}, {"system", "b"}}, "only one system message"},
		{"unknown family", chat.Family("nope"), []chat.Message{{"user", "a"}}, "unknown family"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := chat.Render(tt.family, tt.msgs, true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestFamiliesContract(t *testing.T) {
	for _, f := range chat.Families {
		tmpl := chat.For(f)
		stops := tmpl.Stops()
		if len(stops) == 0 || slices.Contains(stops, "") {
			t.Errorf("%s: stops %q", f, stops)
		}
		// The turn terminator the template writes after an assistant message is a stop string.
		text, err := tmpl.Render([]chat.Message{{"user", "u"}, {"assistant", "ANSWER"}, {"user", "v"}}, true)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		i := strings.Index(text, "ANSWER")
		if i < 0 {
			t.Fatalf("%s: assistant content missing from %q", f, text)
		}
		after := strings.TrimLeft(text[i+len("ANSWER"):], " ")
		if !slices.ContainsFunc(stops, func(s string) bool { return strings.HasPrefix(after, s) }) {
			t.Errorf("%s: text after the answer %q starts with none of the stops %q", f, after[:min(len(after), 16)], stops)
		}
		if tmpl.EmitsBOS() != (tmpl.BOS != "" && strings.HasPrefix(text, tmpl.BOS)) {
			t.Errorf("%s: EmitsBOS %v, BOS %q, text %q", f, tmpl.EmitsBOS(), tmpl.BOS, text[:min(len(text), 24)])
		}
	}
	if chat.Fallback != chat.ChatML {
		t.Errorf("Fallback = %s, documented as ChatML", chat.Fallback)
	}
}

func FuzzRender(f *testing.F) {
	f.Add("system", "be brief", "user", "hi", "assistant", "<think>x</think>y", uint8(0))
	f.Add("user", "", "assistant", "</think>", "user", "\u00a0\x1c", uint8(3))
	f.Fuzz(func(t *testing.T, r1, c1, r2, c2, r3, c3 string, fam uint8) {
		family := chat.Families[int(fam)%len(chat.Families)]
		msgs := []chat.Message{{r1, c1}, {r2, c2}, {r3, c3}}
		text, err := chat.Render(family, msgs, fam%2 == 0)
		if err != nil {
			return
		}
		// No renderer panics; ChatML keeps every content verbatim.
		if family == chat.ChatML {
			for _, m := range msgs {
				if !strings.Contains(text, "\n"+m.Content+"<|im_end|>") {
					t.Errorf("content %q missing from %q", m.Content, text)
				}
			}
		}
	})
}
