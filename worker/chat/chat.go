// Package chat turns a conversation into the prompt text a model was trained on, for the chat
// template families of the models the product runs, selected from the GGUF metadata string
// tokenizer.chat_template.
//
// The templates are not interpreted: each supported family is rendered by Go code written to
// produce byte for byte what the model's own Jinja template produces for plain conversations
// (roles system, user and assistant; no tools), which the tests check against a Jinja
// implementation running the real template files.
//
// # BOS contract
//
// Render's output is the template's output, including the BOS token's text when the template
// writes bos_token itself (Llama 2, Llama 3.x, Gemma: Template.EmitsBOS reports it). The caller
// tokenizes the text with special-token parsing on, so that "<|begin_of_text|>", "<s>",
// "<|im_end|>" and the like become their control tokens, and asks the tokenizer to add BOS only
// when EmitsBOS is false (the tokenizer then adds it if the vocabulary's add_bos_token says
// so). That way BOS is never doubled and never lost. Llama 2 also writes BOS/EOS texts between
// turns ("... </s><s>[INST] ..."), which the same special-token parsing handles.
package chat

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message is one turn of a conversation. Role is "system", "user" or "assistant".
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Family names a chat template layout.
type Family string

// The supported families.
const (
	// ChatML: "<|im_start|>ROLE\nCONTENT<|im_end|>\n" per message; a default system turn
	// (Template.DefaultSystem) when the template has one, e.g. Qwen2/Qwen1.5's "You are a
	// helpful assistant.".
	ChatML Family = "chatml"
	// SmolLM2: ChatML with SmolLM2's default system prompt when the conversation has none.
	SmolLM2 Family = "smollm2"
	// Qwen2: ChatML with Qwen2/2.5's default system prompt when the conversation has none.
	Qwen2 Family = "qwen2"
	// Qwen3: ChatML with <think> handling: reasoning of earlier assistant turns dropped, an
	// empty think block on the final assistant turn, optional thinking switch-off.
	Qwen3 Family = "qwen3"
	// SmolLM3: ChatML with a metadata system turn (knowledge cut-off, reasoning mode
	// "/think" or "/no_think") and empty think blocks when reasoning is off; the template
	// variant without a "Today Date" line (as llama.cpp ships it).
	SmolLM3 Family = "smollm3"
	// Llama3: Llama 3.0 headers, no system header unless the conversation has a system message.
	Llama3 Family = "llama3"
	// Llama31: Llama 3.1/3.3: a system header always, with "Cutting Knowledge Date" and a fixed
	// "Today Date: 26 Jul 2024".
	Llama31 Family = "llama3.1"
	// Llama32: Llama 3.2: as Llama31 but "Today Date" is the current date (Template.Now).
	Llama32 Family = "llama3.2"
	// Llama2: "<s>[INST] <<SYS>>\n...\n<</SYS>>\n\n... [/INST] answer </s>".
	Llama2 Family = "llama2"
	// Gemma: Gemma 2/3 turns "<start_of_turn>user\n...<end_of_turn>\n"; a system message is
	// folded into the first user turn (Gemma 3's rule; Gemma 2's template refuses one).
	Gemma Family = "gemma"
	// Phi3: Phi-3/3.5 "<|user|>\n...<|end|>\n" turns.
	Phi3 Family = "phi3"
	// Zephyr: TinyLlama-Chat / Zephyr "<|user|>\n...</s>\n" turns closed by the EOS text.
	Zephyr Family = "zephyr"
)

// Fallback is the family used for templates that are missing or not recognised.
const Fallback = ChatML

// Families lists every supported family.
var Families = []Family{ChatML, SmolLM2, Qwen2, Qwen3, SmolLM3, Llama3, Llama31, Llama32, Llama2, Gemma, Phi3, Zephyr}

// ErrUnsupported marks a template no family matches; Detect's callers then use Fallback.
var ErrUnsupported = errors.New("chat template not supported")

// Default system prompts that the templates insert when a conversation has none.
const (
	SmolLM3DefaultSystem      = "You are a helpful AI assistant named SmolLM, trained by Hugging Face."
	SmolLM3ThinkDefaultSystem = "You are a helpful AI assistant named SmolLM, trained by Hugging Face. Your role as an assistant involves thoroughly exploring questions through a systematic thinking process before providing the final precise and accurate solutions. This requires engaging in a comprehensive cycle of analysis, summarizing, exploration, reassessment, reflection, backtracking, and iteration to develop well-considered thinking process. Please structure your response into two main sections: Thought and Solution using the specified format: <think> Thought section </think> Solution section. In the Thought section, detail your reasoning process in steps. Each step should include detailed considerations such as analysing questions, summarizing relevant findings, brainstorming new ideas, verifying the accuracy of the current steps, refining any errors, and revisiting previous steps. In the Solution section, based on various attempts, explorations, and reflections from the Thought section, systematically present the final solution that you deem correct. The Solution section should be logical, accurate, and concise and detail necessary steps needed to reach the conclusion."
	QwenDefaultSystem         = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
	SmolLM2DefaultSystem      = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
)

// DetectStrict recognises a template by markers that identify its family (special tokens and
// distinctive phrases), not by exact text, so that re-encoded or lightly edited copies still
// match. For an empty or unrecognised template it returns Fallback and an error wrapping
// ErrUnsupported that says what was seen.
func DetectStrict(template string) (Family, error) {
	has := func(s ...string) bool {
		for _, x := range s {
			if !strings.Contains(template, x) {
				return false
			}
		}
		return true
	}
	unsupported := func(why string) (Family, error) {
		return Fallback, fmt.Errorf("%w: %s; using %s", ErrUnsupported, why, Fallback)
	}
	switch {
	case strings.TrimSpace(template) == "":
		return unsupported("the model has no tokenizer.chat_template")
	case has("<|start_header_id|>", "<|end_header_id|>"):
		switch {
		case !has("Cutting Knowledge Date"):
			return Llama3, nil
		case has("strftime_now"):
			return Llama32, nil
		default:
			return Llama31, nil
		}
	case has("<|im_start|>"):
		switch {
		case has("<|im_sep|>"):
			return unsupported("ChatML with <|im_sep|> (Phi-4 layout)")
		case has("/no_think", "Reasoning Mode") && (has("Today Date") || has("strftime_now")):
			return unsupported("SmolLM3 variant with a \"Today Date\" metadata line")
		case has("/no_think", "Reasoning Mode", "Knowledge Cutoff Date"):
			return SmolLM3, nil
		case has("/no_think") || has("Reasoning Mode"):
			return unsupported("reasoning-mode ChatML of an unknown variant")
		case has("</think>", "enable_thinking"):
			return Qwen3, nil
		case has("<think>"):
			return unsupported("ChatML with reasoning (<think>) of an unknown variant")
		case has("You are Qwen, created by Alibaba Cloud"):
			return Qwen2, nil
		case has("named SmolLM"):
			return SmolLM2, nil
		case has("<|im_end|>"):
			return ChatML, nil
		}
		return unsupported("<|im_start|> without <|im_end|>")
	case has("[INST]", "<<SYS>>"):
		return Llama2, nil
	case has("[INST]"):
		return unsupported("Mistral [INST] layout")
	case has("<start_of_turn>", "<end_of_turn>"):
		return Gemma, nil
	case has("<|user|>", "<|assistant|>", "<|end|>"):
		return Phi3, nil
	case has("<|user|>", "<|assistant|>", "eos_token"):
		return Zephyr, nil
	}
	return unsupported("no known family's markers found")
}

// literalSystem returns the text of the first literal ChatML system turn in a template
// ("<|im_start|>system\nTEXT<|im_end|>" inside one string literal, written with "\n" escapes
// or real newlines), which ChatML templates insert when a conversation has no system message;
// "" when there is none.
func literalSystem(template string) string {
	const open, end = "<|im_start|>system", "<|im_end|>"
	for at := 0; ; {
		i := strings.Index(template[at:], open)
		if i < 0 {
			return ""
		}
		start := at + i
		at = start + len(open)
		// The literal's delimiter is the last quote before the turn.
		q := strings.LastIndexAny(template[:start], `'"`)
		if q < 0 {
			continue
		}
		quote := template[q : q+1]
		rest := template[at:]
		var body string
		switch {
		case strings.HasPrefix(rest, `\n`):
			body = rest[2:]
		case strings.HasPrefix(rest, "\n"):
			body = rest[1:]
		default:
			continue
		}
		j := strings.Index(body, end)
		if j < 0 {
			return ""
		}
		text := body[:j]
		if text == "" || strings.Contains(strings.ReplaceAll(text, `\`+quote, ""), quote) ||
			strings.Contains(text, "{{") || strings.Contains(text, "{%") {
			continue // not one literal: the template splices content in here
		}
		return strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\'`, "'", `\"`, `"`, `\\`, `\`).Replace(text)
	}
}

// Detect is DetectStrict without the explanation: unrecognised templates give Fallback.
func Detect(template string) Family {
	f, _ := DetectStrict(template)
	return f
}

// Template renders conversations for one family. The zero value is not useful: build one
// with Select or For, then adjust the fields if needed.
type Template struct {
	Family Family
	// Unsupported explains why Family is Fallback when Select did not recognise the template;
	// empty otherwise.
	Unsupported string
	// BOS and EOS are the texts of the model's BOS and EOS tokens, written where the template
	// writes bos_token / eos_token (Llama 2, Llama 3.x, Gemma; Phi-3's eos_token).
	BOS, EOS string
	// Now gives "Today Date" for Llama32; nil means time.Now.
	Now func() time.Time
	// DefaultSystem (ChatML) is the system message inserted when a conversation does not
	// open with one; Select takes it from the template (a literal system turn).
	DefaultSystem string
	// DisableThinking (Qwen3, SmolLM3): the template's enable_thinking=false. Qwen3's
	// generation prompt then ends with an empty think block; SmolLM3 switches to "/no_think"
	// mode (a "/think" or "/no_think" in the system message overrides it either way).
	DisableThinking bool
}

// Select detects the family of a GGUF's tokenizer.chat_template and returns its Template with
// the family's usual BOS/EOS texts.
func Select(template string) Template {
	f, err := DetectStrict(template)
	t := For(f)
	if err != nil {
		t.Unsupported = err.Error()
	} else if f == ChatML {
		t.DefaultSystem = literalSystem(template)
	}
	return t
}

// For returns the Template of a family with the family's usual BOS/EOS texts.
func For(f Family) Template {
	t := Template{Family: f}
	switch f {
	case Llama3, Llama31, Llama32:
		t.BOS, t.EOS = "<|begin_of_text|>", "<|eot_id|>"
	case Llama2:
		t.BOS, t.EOS = "<s>", "</s>"
	case Gemma:
		t.BOS, t.EOS = "<bos>", "<eos>"
	case Phi3:
		t.BOS, t.EOS = "<s>", "<|endoftext|>"
	case Zephyr:
		t.BOS, t.EOS = "<s>", "</s>"
	default:
		t.EOS = "<|im_end|>"
	}
	return t
}

// Render renders msgs with family f's template and default settings (see For).
func Render(f Family, msgs []Message, addGenerationPrompt bool) (string, error) {
	return For(f).Render(msgs, addGenerationPrompt)
}

// EmitsBOS reports whether Render writes the BOS text at the start of the prompt itself, in
// which case the tokenizer must not add BOS again (see the package documentation).
func (t Template) EmitsBOS() bool {
	switch t.Family {
	case Llama3, Llama31, Llama32, Llama2, Gemma:
		return true
	}
	return false
}

// Stops returns the strings that end an assistant turn for this family, most specific first.
// They are the texts of control tokens: a caller that stops on end-of-generation token ids
// catches them too; the strings also catch them when a model spells them out in plain text.
func (t Template) Stops() []string {
	switch t.Family {
	case Llama3, Llama31, Llama32:
		return []string{"<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"}
	case Llama2, Zephyr:
		return []string{"</s>"}
	case Gemma:
		return []string{"<end_of_turn>", "<eos>"}
	case Phi3:
		return []string{"<|end|>", "<|endoftext|>"}
	}
	return []string{"<|im_end|>", "<|endoftext|>"}
}

// Render renders msgs as the family's template does; addGenerationPrompt appends the opening
// of an assistant turn. Roles must be "system", "user" or "assistant"; a conversation needs at
// least one message; Llama 2 and Gemma need user and assistant turns to alternate starting with
// user (after an optional leading system message), as their templates require.
func (t Template) Render(msgs []Message, addGenerationPrompt bool) (string, error) {
	if len(msgs) == 0 {
		return "", errors.New("chat: empty conversation")
	}
	for i, m := range msgs {
		switch m.Role {
		case "system", "user", "assistant":
		default:
			return "", fmt.Errorf("chat: message %d: role %q not supported (want system, user or assistant)", i, m.Role)
		}
	}
	var b strings.Builder
	var err error
	switch t.Family {
	case ChatML:
		renderChatML(&b, msgs, t.DefaultSystem, addGenerationPrompt)
	case SmolLM2:
		renderChatML(&b, msgs, SmolLM2DefaultSystem, addGenerationPrompt)
	case Qwen2:
		renderChatML(&b, msgs, QwenDefaultSystem, addGenerationPrompt)
	case Qwen3:
		renderQwen3(&b, msgs, addGenerationPrompt, t.DisableThinking)
	case SmolLM3:
		renderSmolLM3(&b, msgs, addGenerationPrompt, !t.DisableThinking)
	case Llama3:
		renderLlama3(&b, t.BOS, msgs, addGenerationPrompt)
	case Llama31, Llama32:
		date := "26 Jul 2024"
		if t.Family == Llama32 {
			now := time.Now
			if t.Now != nil {
				now = t.Now
			}
			date = now().Format("02 Jan 2006")
		}
		renderLlama31(&b, t.BOS, date, msgs, addGenerationPrompt)
	case Llama2:
		err = renderLlama2(&b, t.BOS, t.EOS, msgs)
	case Gemma:
		err = renderGemma(&b, t.BOS, msgs, addGenerationPrompt)
	case Phi3:
		renderPhi3(&b, t.EOS, msgs, addGenerationPrompt)
	case Zephyr:
		for _, m := range msgs {
			b.WriteString("<|" + m.Role + "|>\n" + m.Content + t.EOS + "\n")
		}
		if addGenerationPrompt {
			b.WriteString("<|assistant|>\n")
		}
	default:
		return "", fmt.Errorf("chat: unknown family %q", t.Family)
	}
	if err != nil {
		return "", err
	}
	return b.String(), nil
}
