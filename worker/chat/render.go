package chat

import (
	"fmt"
	"strings"
	"unicode"
)

// The renderers below follow the Jinja templates of each family statement by statement for
// conversations of system, user and assistant messages (the tool branches are not needed).
// Jinja's |trim and Python's str.strip() without arguments are trim (Python's whitespace).

// renderChatML: an optional default system turn when the conversation does not open with a
// system message, then every message as a ChatML turn (ChatML, SmolLM2, Qwen2/2.5).
func renderChatML(b *strings.Builder, msgs []Message, defaultSystem string, addGen bool) {
	if defaultSystem != "" && msgs[0].Role != "system" {
		chatMLTurn(b, "system", defaultSystem)
	}
	for _, m := range msgs {
		chatMLTurn(b, m.Role, m.Content)
	}
	if addGen {
		b.WriteString("<|im_start|>assistant\n")
	}
}

func chatMLTurn(b *strings.Builder, role, content string) {
	b.WriteString("<|im_start|>")
	b.WriteString(role)
	b.WriteString("\n")
	b.WriteString(content)
	b.WriteString("<|im_end|>\n")
}

// renderQwen3 follows Qwen3's template: assistant turns after the last user query keep their
// reasoning in a <think> block (the final one always gets one, empty if need be); earlier ones
// lose it.
func renderQwen3(b *strings.Builder, msgs []Message, addGen, disableThinking bool) {
	if msgs[0].Role == "system" {
		chatMLTurn(b, "system", msgs[0].Content)
	}
	lastQuery := len(msgs) - 1
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		if m.Role == "user" && !(strings.HasPrefix(m.Content, "<tool_response>") && strings.HasSuffix(m.Content, "</tool_response>")) {
			lastQuery = i
			break
		}
	}
	for i, m := range msgs {
		switch {
		case m.Role == "user" || (m.Role == "system" && i > 0):
			chatMLTurn(b, m.Role, m.Content)
		case m.Role == "assistant":
			content, reasoning := m.Content, ""
			if strings.Contains(content, "</think>") {
				parts := strings.Split(m.Content, "</think>")
				content = strings.TrimLeft(parts[len(parts)-1], "\n")
				before := strings.Split(strings.TrimRight(parts[0], "\n"), "<think>")
				reasoning = strings.TrimLeft(before[len(before)-1], "\n")
			}
			b.WriteString("<|im_start|>assistant\n")
			if i > lastQuery && (i == len(msgs)-1 || reasoning != "") {
				b.WriteString("<think>\n")
				b.WriteString(strings.Trim(reasoning, "\n"))
				b.WriteString("\n</think>\n\n")
				b.WriteString(strings.TrimLeft(content, "\n"))
			} else {
				b.WriteString(content)
			}
			b.WriteString("<|im_end|>\n")
		}
	}
	if addGen {
		b.WriteString("<|im_start|>assistant\n")
		if disableThinking {
			b.WriteString("<think>\n\n</think>\n\n")
		}
	}
}

// renderSmolLM3 follows SmolLM3's template: a system turn of metadata and instructions (the
// system message, cleared of "/think" and "/no_think", or a default per reasoning mode), then
// user and assistant turns only (system messages are not rendered again); without reasoning,
// every assistant turn carries an empty think block.
func renderSmolLM3(b *strings.Builder, msgs []Message, addGen, thinking bool) {
	mode := "/no_think"
	if thinking {
		mode = "/think"
	}
	custom := ""
	if msgs[0].Role == "system" {
		sys := msgs[0].Content
		if strings.Contains(sys, "/no_think") {
			mode = "/no_think"
		} else if strings.Contains(sys, "/think") {
			mode = "/think"
		}
		custom = strings.ReplaceAll(sys, "/no_think", "")
		custom = strings.ReplaceAll(custom, "/think", "")
		custom = strings.TrimRightFunc(custom, isPySpace)
	}
	b.WriteString("<|im_start|>system\n## Metadata\n\nKnowledge Cutoff Date: June 2025\nReasoning Mode: " + mode + "\n\n## Custom Instructions\n\n")
	switch {
	case custom != "":
		b.WriteString(custom + "\n\n")
	case mode == "/think":
		b.WriteString(SmolLM3ThinkDefaultSystem + "\n\n")
	default:
		b.WriteString(SmolLM3DefaultSystem + "\n\n")
	}
	b.WriteString("<|im_end|>\n")
	emptyThink := ""
	if mode != "/think" {
		emptyThink = "<think>\n\n</think>\n"
	}
	for _, m := range msgs {
		switch m.Role {
		case "user":
			chatMLTurn(b, "user", m.Content)
		case "assistant":
			b.WriteString("<|im_start|>assistant\n" + emptyThink + strings.TrimLeft(m.Content, "\n") + "<|im_end|>\n")
		}
	}
	if addGen {
		b.WriteString("<|im_start|>assistant\n" + emptyThink)
	}
}

func llama3Turn(b *strings.Builder, role, content string) {
	b.WriteString("<|start_header_id|>")
	b.WriteString(role)
	b.WriteString("<|end_header_id|>\n\n")
	b.WriteString(trim(content))
	b.WriteString("<|eot_id|>")
}

// renderLlama3: Llama 3.0, BOS then one header turn per message.
func renderLlama3(b *strings.Builder, bos string, msgs []Message, addGen bool) {
	b.WriteString(bos)
	for _, m := range msgs {
		llama3Turn(b, m.Role, m.Content)
	}
	if addGen {
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	}
}

// renderLlama31: Llama 3.1/3.2/3.3, BOS, then always a system turn holding the knowledge
// cut-off, the date and the (trimmed) system message if any.
func renderLlama31(b *strings.Builder, bos, date string, msgs []Message, addGen bool) {
	b.WriteString(bos)
	system := ""
	if msgs[0].Role == "system" {
		system = trim(msgs[0].Content)
		msgs = msgs[1:]
	}
	b.WriteString("<|start_header_id|>system<|end_header_id|>\n\n")
	b.WriteString("Cutting Knowledge Date: December 2023\n")
	b.WriteString("Today Date: " + date + "\n\n")
	b.WriteString(system)
	b.WriteString("<|eot_id|>")
	for _, m := range msgs {
		llama3Turn(b, m.Role, m.Content)
	}
	if addGen {
		b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
	}
}

// alternation checks that msgs (after an optional leading system message, which the caller
// has removed) go user, assistant, user, ... as the Llama 2 and Gemma templates demand.
func alternation(msgs []Message, offset int) error {
	for i, m := range msgs {
		want := "user"
		if i%2 == 1 {
			want = "assistant"
		}
		if m.Role != want {
			if m.Role == "system" {
				return fmt.Errorf("chat: message %d: only one system message, first, is supported by this template", i+offset)
			}
			return fmt.Errorf("chat: message %d: roles must alternate user/assistant/user/... after an optional system message; got %s", i+offset, m.Role)
		}
	}
	return nil
}

// renderLlama2: the system message goes inside the first [INST] in <<SYS>> tags; every user
// turn opens with BOS, every assistant turn closes with EOS.
func renderLlama2(b *strings.Builder, bos, eos string, msgs []Message) error {
	system, hasSystem, offset := "", false, 0
	if msgs[0].Role == "system" {
		system, hasSystem, offset = msgs[0].Content, true, 1
		msgs = msgs[1:]
	}
	if err := alternation(msgs, offset); err != nil {
		return err
	}
	for i, m := range msgs {
		content := m.Content
		if i == 0 && hasSystem {
			content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content
		}
		if m.Role == "user" {
			b.WriteString(bos + "[INST] " + trim(content) + " [/INST]")
		} else {
			b.WriteString(" " + trim(content) + " " + eos)
		}
	}
	return nil
}

// renderGemma: BOS, then turns with the assistant called "model"; a leading system message
// becomes a prefix of the first user turn (Gemma 3's template; Gemma 2's refuses one).
func renderGemma(b *strings.Builder, bos string, msgs []Message, addGen bool) error {
	prefix, offset := "", 0
	if msgs[0].Role == "system" {
		prefix, offset = msgs[0].Content+"\n\n", 1
		msgs = msgs[1:]
	}
	if err := alternation(msgs, offset); err != nil {
		return err
	}
	b.WriteString(bos)
	for i, m := range msgs {
		role := m.Role
		if role == "assistant" {
			role = "model"
		}
		b.WriteString("<start_of_turn>" + role + "\n")
		if i == 0 {
			b.WriteString(prefix)
		}
		b.WriteString(trim(m.Content))
		b.WriteString("<end_of_turn>\n")
	}
	if addGen {
		b.WriteString("<start_of_turn>model\n")
	}
	return nil
}

// renderPhi3: "<|role|>\ncontent<|end|>\n" turns (empty system messages are dropped); without
// a generation prompt the text ends with EOS.
func renderPhi3(b *strings.Builder, eos string, msgs []Message, addGen bool) {
	for _, m := range msgs {
		if m.Role == "system" && m.Content == "" {
			continue
		}
		b.WriteString("<|" + m.Role + "|>\n" + m.Content + "<|end|>\n")
	}
	if addGen {
		b.WriteString("<|assistant|>\n")
	} else {
		b.WriteString(eos)
	}
}

// trim is Python's str.strip() (Jinja's |trim): Unicode whitespace, plus the separators
// U+001C..U+001F that Python also counts as whitespace.
func trim(s string) string {
	return strings.TrimFunc(s, isPySpace)
}

func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}
