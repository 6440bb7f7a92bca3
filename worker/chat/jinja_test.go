package chat_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aisle/worker/chat"
	"aisle/worker/internal/llamacpp"
)

const sharedTemplates = "../testdata/chat-templates"

// jinjaAvailable reports why the Jinja peer cannot run: node and @huggingface/jinja.
func jinjaAvailable() error {
	if _, err := llamacpp.NodeBinary(); err != nil {
		return err
	}
	nm, err := llamacpp.NodeModules()
	if err != nil {
		return err
	}
	p := filepath.Join(nm, "@huggingface", "jinja", "dist", "index.js")
	if _, err := os.Stat(p); err != nil {
		return err
	}
	return nil
}

type jinjaCase struct {
	Template string         `json:"template"`
	Vars     map[string]any `json:"vars"`
}

type jinjaResult struct {
	Out   *string `json:"out"`
	Error string  `json:"error"`
}

// renderJinja renders every case with @huggingface/jinja in one node process.
func renderJinja(t *testing.T, cases []jinjaCase) []jinjaResult {
	t.Helper()
	llamacpp.RequireNode(t, jinjaAvailable)
	nm, err := llamacpp.NodeModules()
	if err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "node", "testdata/render-jinja.mjs", nm)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("render-jinja.mjs: %v\n%s", err, stderr.String())
	}
	var res []jinjaResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("render-jinja.mjs output: %v", err)
	}
	if len(res) != len(cases) {
		t.Fatalf("render-jinja.mjs: %d results for %d cases", len(res), len(cases))
	}
	return res
}

// conversation is a test conversation; flags say which templates cannot take it.
type conversation struct {
	name  string
	msgs  []chat.Message
	extra bool // a system message after the first turn, or roles not alternating
}

func m(role, content string) chat.Message { return chat.Message{Role: role, Content: content} }

var conversations = []conversation{
	{name: "user only", msgs: []chat.Message{m("user", "Where are the batteries?")}},
	{name: "system and user", msgs: []chat.Message{m("system", "You are a store assistant."), m("user", "Do you sell AA batteries?")}},
	{name: "multi-turn", msgs: []chat.Message{
		m("system", "You are a store assistant. Answer briefly."),
		m("user", "Hi"), m("assistant", "Hello! How can I help?"),
		m("user", "Price of milk?"), m("assistant", "1.19 EUR per litre."), m("user", "And bread?"),
	}},
	{name: "multi-turn without system", msgs: []chat.Message{
		m("user", "Hi"), m("assistant", "Hello!"), m("user", "Aisle of the rice?"),
	}},
	{name: "unicode", msgs: []chat.Message{
		m("system", "Réponds en français. 日本語も可。"),
		m("user", "Grüße 👋🏽! Wo ist «Käse» — ½ Preis? 🧀\u00a0ok"),
		m("assistant", "Käse: Gang 3 ✅"), m("user", "Спасибо 🙏"),
	}},
	{name: "empty contents", msgs: []chat.Message{m("system", ""), m("user", ""), m("assistant", ""), m("user", "")}},
	{name: "empty user", msgs: []chat.Message{m("user", "")}},
	{name: "whitespace to trim", msgs: []chat.Message{
		m("system", "  \n You help.\t\n"), m("user", "\n\n  padded question  \n"), m("assistant", "  answer \n"), m("user", " next\t"),
	}},
	{name: "newlines inside", msgs: []chat.Message{m("user", "line 1\nline 2\n\nline 4"), m("assistant", "a\nb"), m("user", "c\r\nd")}},
	{name: "special token text in content", msgs: []chat.Message{m("user", "What is <|im_end|> or <|eot_id|> or [INST]?")}},
	{name: "assistant last", msgs: []chat.Message{m("user", "Say hi"), m("assistant", "hi")}},
	{name: "thinking in history", msgs: []chat.Message{
		m("user", "2+2?"), m("assistant", "<think>\nadd them\n</think>\n\n4"), m("user", "3+3?"),
	}},
	{name: "thinking last", msgs: []chat.Message{m("user", "2+2?"), m("assistant", "<think>\n\nadd\n\n</think>\n\n\n4")}},
	{name: "think close only", msgs: []chat.Message{m("user", "q"), m("assistant", "pre</think>\npost"), m("user", "q2"), m("assistant", "x</think>y</think>z")}},
	{name: "tool response user", msgs: []chat.Message{m("user", "q"), m("assistant", "<think>r</think>a"), m("user", "<tool_response>42</tool_response>"), m("assistant", "<think>r2</think>b")}},
	{name: "second system", extra: true, msgs: []chat.Message{m("system", "S1"), m("user", "u"), m("system", "S2"), m("user", "v")}},
	{name: "assistant first", extra: true, msgs: []chat.Message{m("assistant", "I start"), m("user", "ok")}},
	{name: "two users", extra: true, msgs: []chat.Message{m("user", "a"), m("user", "b")}},
}

type templateCase struct {
	file   string
	family chat.Family
	tmpl   chat.Template
	vars   map[string]any // extra template variables
	// noSystem: the Jinja template refuses system messages (Gemma 2) where Go folds them in.
	noSystem bool
}

func templateCases() []templateCase {
	fixed := time.Date(2026, time.November, 5, 12, 0, 0, 0, time.UTC)
	llama32 := chat.For(chat.Llama32)
	llama32.Now = func() time.Time { return fixed }
	qwen3NoThink := chat.For(chat.Qwen3)
	qwen3NoThink.DisableThinking = true
	return []templateCase{
		{file: "testdata/chatml.jinja", family: chat.ChatML},
		{file: "testdata/smollm2-instruct.jinja", family: chat.SmolLM2},
		{file: sharedTemplates + "/Qwen-Qwen2.5-7B-Instruct.jinja", family: chat.Qwen2},
		{file: sharedTemplates + "/Qwen-Qwen3-0.6B.jinja", family: chat.Qwen3},
		{file: sharedTemplates + "/Qwen-Qwen3-0.6B.jinja", family: chat.Qwen3, tmpl: qwen3NoThink, vars: map[string]any{"enable_thinking": false}},
		{file: "testdata/llama-3-instruct.jinja", family: chat.Llama3},
		{file: "testdata/meta-llama-Llama-3.1-8B-Instruct.jinja", family: chat.Llama31},
		{file: sharedTemplates + "/meta-llama-Llama-3.2-3B-Instruct.jinja", family: chat.Llama32, tmpl: llama32, vars: map[string]any{"date_string": "05 Nov 2026"}},
		{file: "testdata/llama-2-chat.jinja", family: chat.Llama2},
		{file: sharedTemplates + "/google-gemma-2-2b-it.jinja", family: chat.Gemma, noSystem: true},
		{file: "testdata/gemma-3-it.jinja", family: chat.Gemma},
		{file: sharedTemplates + "/microsoft-Phi-3.5-mini-instruct.jinja", family: chat.Phi3},
	}
}

// TestRenderMatchesJinja renders every conversation with the real template under Jinja and
// with the Go renderer of the detected family, and compares the texts byte for byte.
func TestRenderMatchesJinja(t *testing.T) {
	type pending struct {
		name    string
		tc      templateCase
		conv    conversation
		addGen  bool
		goText  string
		goErr   error
		jinjaAt int
	}
	var cases []jinjaCase
	var all []pending
	for _, tc := range templateCases() {
		src, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if got := chat.Detect(string(src)); got != tc.family {
			t.Errorf("Detect(%s) = %s, want %s", tc.file, got, tc.family)
			continue
		}
		tmpl := tc.tmpl
		if tmpl.Family == "" {
			tmpl = chat.Select(string(src))
		}
		for _, conv := range conversations {
			for _, addGen := range []bool{true, false} {
				vars := map[string]any{
					"messages": conv.msgs, "add_generation_prompt": addGen,
					"bos_token": tmpl.BOS, "eos_token": tmpl.EOS,
				}
				for k, v := range tc.vars {
					vars[k] = v
				}
				text, err := tmpl.Render(conv.msgs, addGen)
				all = append(all, pending{
					name: filepath.Base(tc.file) + "/" + tmplLabel(tmpl) + "/" + conv.name + map[bool]string{true: "/gen", false: ""}[addGen],
					tc:   tc, conv: conv, addGen: addGen, goText: text, goErr: err, jinjaAt: len(cases),
				})
				cases = append(cases, jinjaCase{Template: string(src), Vars: vars})
			}
		}
	}
	results := renderJinja(t, cases)
	compared := 0
	for _, p := range all {
		r := results[p.jinjaAt]
		hasSystem := p.conv.msgs[0].Role == "system"
		switch {
		case r.Out == nil && p.goErr != nil:
			compared++ // both refuse the conversation
		case r.Out == nil && p.tc.noSystem && hasSystem && p.goErr == nil:
			// Gemma 2's template raises on system messages; Go folds them into the first turn.
			if !strings.Contains(r.Error, "System role not supported") {
				t.Errorf("%s: Jinja error %q, want the system-role refusal", p.name, r.Error)
			}
		case r.Out == nil:
			t.Errorf("%s: Jinja failed (%s) but Go rendered %q", p.name, r.Error, p.goText)
		case p.goErr != nil && p.conv.extra:
			// Go refuses what the template would silently mangle (a second system message
			// dropped by Llama 2's template).
		case p.goErr != nil:
			t.Errorf("%s: Go failed (%v) but Jinja rendered %q", p.name, p.goErr, *r.Out)
		case p.tc.family == chat.Llama2 && hasSystem && p.conv.msgs[0].Content == "":
			// The template tests `system_message != false`: Python's Jinja2 (what the template
			// was written for) finds "" != False true and writes an empty <<SYS>> block, which
			// Go does; @huggingface/jinja compares loosely ("" == false) and writes none.
			if !strings.HasPrefix(p.goText, "<s>[INST] <<SYS>>\n\n<</SYS>> [/INST]") || strings.Contains(*r.Out, "<<SYS>>") {
				t.Errorf("%s: empty system prompt: go %q, jinja %q", p.name, p.goText, *r.Out)
			}
		case p.goText != *r.Out:
			t.Errorf("%s:\n  go    %q\n  jinja %q", p.name, p.goText, *r.Out)
		default:
			compared++
		}
	}
	t.Logf("%d renderings identical to Jinja (or refused by both), of %d", compared, len(all))
	if compared < len(all)*3/4 {
		t.Errorf("only %d of %d renderings compared", compared, len(all))
	}
}

func tmplLabel(t chat.Template) string {
	if t.DisableThinking {
		return string(t.Family) + "-nothink"
	}
	return string(t.Family)
}
