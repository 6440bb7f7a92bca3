package chat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	llamacpp.RequirePeer(t, jinjaAvailable)
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
	{name: "think switches", msgs: []chat.Message{m("system", "Be brief. /no_think  \n"), m("user", "hi /think"), m("assistant", "\n\nhello")}},
	{name: "think switch on", msgs: []chat.Message{m("system", "/think"), m("user", "hi")}},
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
	smol3NoThink := chat.For(chat.SmolLM3)
	smol3NoThink.DisableThinking = true
	return []templateCase{
		{file: "testdata/chatml.jinja", family: chat.ChatML},
		{file: "testdata/smollm2-instruct.jinja", family: chat.SmolLM2},
		{file: "testdata/qwen2-instruct.jinja", family: chat.ChatML},
		{file: sharedTemplates + "/Qwen-Qwen2.5-7B-Instruct.jinja", family: chat.Qwen2},
		{file: sharedTemplates + "/Qwen-Qwen3-0.6B.jinja", family: chat.Qwen3},
		{file: sharedTemplates + "/Qwen-Qwen3-0.6B.jinja", family: chat.Qwen3, tmpl: qwen3NoThink, vars: map[string]any{"enable_thinking": false}},
		{file: sharedTemplates + "/HuggingFaceTB-SmolLM3-3B.jinja", family: chat.SmolLM3},
		{file: sharedTemplates + "/HuggingFaceTB-SmolLM3-3B.jinja", family: chat.SmolLM3, tmpl: smol3NoThink, vars: map[string]any{"enable_thinking": false}},
		{file: "testdata/llama-3-instruct.jinja", family: chat.Llama3},
		{file: "testdata/meta-llama-Llama-3.1-8B-Instruct.jinja", family: chat.Llama31},
		{file: sharedTemplates + "/meta-llama-Llama-3.2-3B-Instruct.jinja", family: chat.Llama32, tmpl: llama32, vars: map[string]any{"date_string": "05 Nov 2026"}},
		{file: "testdata/llama-2-chat.jinja", family: chat.Llama2},
		{file: sharedTemplates + "/google-gemma-2-2b-it.jinja", family: chat.Gemma, noSystem: true},
		{file: "testdata/gemma-3-it.jinja", family: chat.Gemma},
		{file: sharedTemplates + "/microsoft-Phi-3.5-mini-instruct.jinja", family: chat.Phi3},
		{file: "testdata/tinyllama-chat.jinja", family: chat.Zephyr},
	}
}

// rendering is one conversation rendered by Go, and where its Jinja rendering sits.
type rendering struct {
	name    string
	tc      templateCase
	conv    conversation
	goText  string
	goErr   error
	jinjaAt int
}

// renderMatrix renders every conversation with the Go renderer of each template's detected
// family, and lists the same renderings as Jinja cases of the real template files.
func renderMatrix(t *testing.T) ([]rendering, []jinjaCase) {
	t.Helper()
	var cases []jinjaCase
	var all []rendering
	for _, tc := range templateCases() {
		src, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if got := chat.Detect(string(src)); got != tc.family {
			t.Fatalf("Detect(%s) = %s, want %s", tc.file, got, tc.family)
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
				all = append(all, rendering{
					name: filepath.Base(tc.file) + "/" + tmplLabel(tmpl) + "/" + conv.name + map[bool]string{true: "/gen", false: ""}[addGen],
					tc:   tc, conv: conv, goText: text, goErr: err, jinjaAt: len(cases),
				})
				cases = append(cases, jinjaCase{Template: string(src), Vars: vars})
			}
		}
	}
	return all, cases
}

// TestRenderMatchesJinja compares the Go renderers byte for byte with the real templates
// rendered by @huggingface/jinja (the JavaScript Jinja the browser side could use).
func TestRenderMatchesJinja(t *testing.T) {
	all, cases := renderMatrix(t)
	compareRenderings(t, all, renderJinja(t, cases), true)
}

// TestRenderMatchesJinja2 compares them with Python's Jinja2, the implementation the templates
// are written for (configured as Hugging Face transformers configures it).
func TestRenderMatchesJinja2(t *testing.T) {
	llamacpp.RequirePeer(t, jinja2Available)
	all, cases := renderMatrix(t)
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), pythonBinary(), "testdata/render-jinja2.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("render-jinja2.py: %v\n%s", err, stderr.String())
	}
	var res []jinjaResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(cases) {
		t.Fatalf("render-jinja2.py output: %d results for %d cases, %v", len(res), len(cases), err)
	}
	compareRenderings(t, all, res, false)
}

// jinja2Available reports why Python's Jinja2 cannot run (Debian package python3-jinja2).
func jinja2Available() error {
	if _, err := exec.LookPath(pythonBinary()); err != nil {
		return err
	}
	if out, err := exec.Command(pythonBinary(), "-c", "import jinja2").CombinedOutput(); err != nil {
		return fmt.Errorf("python3 cannot import jinja2 (install python3-jinja2): %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// compareRenderings checks every Go rendering against its Jinja result. js selects the
// known deviations of @huggingface/jinja from Python's Jinja2.
func compareRenderings(t *testing.T, all []rendering, results []jinjaResult, js bool) {
	t.Helper()
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
		case js && p.tc.family == chat.Llama2 && hasSystem && p.conv.msgs[0].Content == "":
			// The template tests `system_message != false`: Python's Jinja2 finds "" != False
			// true and writes an empty <<SYS>> block, as Go does; @huggingface/jinja compares
			// loosely ("" == false) and writes none.
			if !strings.HasPrefix(p.goText, "<s>[INST] <<SYS>>\n\n<</SYS>> [/INST]") || strings.Contains(*r.Out, "<<SYS>>") {
				t.Errorf("%s: empty system prompt: go %q, jinja %q", p.name, p.goText, *r.Out)
			}
		case js && (p.tc.family == chat.Qwen3 || p.tc.family == chat.SmolLM3) && stripDiffers(p.conv.msgs):
			// @huggingface/jinja ignores the argument of strip/lstrip/rstrip ('\n') and strips
			// all whitespace; Python's Jinja2 strips only newlines, as Go does.
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

// stripDiffers reports whether an assistant message has whitespace other than newlines at an
// end, where strip('\n') with and without its argument disagree.
func stripDiffers(msgs []chat.Message) bool {
	for _, m := range msgs {
		if m.Role != "assistant" {
			continue
		}
		for _, part := range strings.Split(strings.ReplaceAll(m.Content, "<think>", "</think>"), "</think>") {
			if strings.Trim(part, "\n") != strings.TrimSpace(part) {
				return true
			}
		}
	}
	return false
}

func tmplLabel(t chat.Template) string {
	if t.DisableThinking {
		return string(t.Family) + "-nothink"
	}
	return string(t.Family)
}

// pythonBinary is Debian's python3 (where the python3-jinja2 package installs) when present,
// else whatever python3 is on PATH.
func pythonBinary() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}
