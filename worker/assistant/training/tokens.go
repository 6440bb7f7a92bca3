package training

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"aisle/worker/chat"
	"aisle/worker/tokenizer"
)

// Segment is a piece of a rendered conversation; Target marks what the model learns to write.
type Segment struct {
	Text   string
	Target bool
}

// endOfTurn is ChatML's end-of-turn token: the model learns to write it after every answer.
const endOfTurn = "<|im_end|>"

// Segments renders msgs with Template, split where the model's own words begin and end: the
// assistant's words and the <|im_end|> after them are targets, the rest is prompt (each
// assistant turn's prompt is Template.Render of the turns before it with the generation prompt,
// as the engine renders it when it serves). Their texts concatenated are
// Template.Render(msgs, false).
func Segments(msgs []chat.Message) ([]Segment, error) {
	var out []Segment
	var done strings.Builder // what the segments so far render
	for i, m := range msgs {
		if m.Role != "assistant" {
			continue
		}
		prompt, err := Template.Render(msgs[:i], true)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(prompt, done.String()) {
			return nil, fmt.Errorf("training: the template renders turn %d's prompt without the turns before it", i)
		}
		out = append(out, Segment{Text: prompt[done.Len():]}, Segment{Text: m.Content, Target: true},
			Segment{Text: endOfTurn, Target: true})
		done.Reset()
		done.WriteString(prompt + m.Content + endOfTurn)
	}
	full, err := Template.Render(msgs, false)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(full, done.String()) {
		return nil, fmt.Errorf("training: the template renders the conversation without its answers as written")
	}
	if rest := full[done.Len():]; rest != "" {
		out = append(out, Segment{Text: rest})
	}
	return out, nil
}

// Encode tokenizes a conversation as the engine tokenizes its prompt (special tokens parsed,
// no BOS: ChatML models start at <|im_start|>) and returns the token IDs with one mask byte
// per token (1: a target). The model's words are encoded on their own, as it writes them.
func Encode(tok *tokenizer.Tokenizer, msgs []chat.Message) ([]int, []byte, error) {
	end, ok := tok.ID(endOfTurn)
	if !ok {
		return nil, nil, fmt.Errorf("training: the vocabulary has no %s token", endOfTurn)
	}
	segs, err := Segments(msgs)
	if err != nil {
		return nil, nil, err
	}
	var ids []int
	var mask []byte
	for _, s := range segs {
		var part []int
		switch {
		case s.Text == endOfTurn:
			part = []int{end}
		case s.Target:
			part = tok.Encode(s.Text, false, false)
		default:
			part = tok.Encode(s.Text, false, true)
		}
		ids = append(ids, part...)
		for range part {
			if s.Target {
				mask = append(mask, 1)
			} else {
				mask = append(mask, 0)
			}
		}
	}
	return ids, mask, nil
}

// TokenWriter writes the token files of one split (see the package documentation).
type TokenWriter struct {
	tokens, mask, docs *bufio.Writer
	n                  uint64
	Docs               int
}

// NewTokenWriter writes to the three files' writers.
func NewTokenWriter(tokens, mask, docs io.Writer) *TokenWriter {
	return &TokenWriter{tokens: bufio.NewWriter(tokens), mask: bufio.NewWriter(mask), docs: bufio.NewWriter(docs)}
}

// Add appends one conversation.
func (w *TokenWriter) Add(ids []int, mask []byte) error {
	if len(ids) != len(mask) {
		return fmt.Errorf("training: %d tokens but %d mask bytes", len(ids), len(mask))
	}
	if w.n+uint64(len(ids)) > math.MaxUint32 {
		return fmt.Errorf("training: more than 2^32 tokens in one split")
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(w.n))
	if _, err := w.docs.Write(b[:]); err != nil {
		return err
	}
	for _, id := range ids {
		if id < 0 || id > math.MaxUint16 {
			return fmt.Errorf("training: token %d does not fit 16 bits", id)
		}
		binary.LittleEndian.PutUint16(b[:2], uint16(id))
		if _, err := w.tokens.Write(b[:2]); err != nil {
			return err
		}
	}
	if _, err := w.mask.Write(mask); err != nil {
		return err
	}
	w.n += uint64(len(ids))
	w.Docs++
	return nil
}

// Tokens is the number of tokens written so far.
func (w *TokenWriter) Tokens() uint64 { return w.n }

// Close writes the final offset (the total) and flushes; it does not close the files.
func (w *TokenWriter) Close() error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(w.n))
	if _, err := w.docs.Write(b[:]); err != nil {
		return err
	}
	for _, f := range []*bufio.Writer{w.tokens, w.mask, w.docs} {
		if err := f.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// Special are the bundled model's control tokens, ids 0, 1 and 2.
var Special = []string{"<|endoftext|>", "<|im_start|>", endOfTurn}

// LearnVocab learns the bundled model's byte-level BPE vocabulary of size tokens from texts
// (rendered conversations): the Special tokens, BOS and padding <|endoftext|>, EOS <|im_end|>
// (the end of a turn ends generation), no BOS added.
func LearnVocab(texts []string, size int) (*tokenizer.Vocab, error) {
	v, err := tokenizer.TrainBPE(texts, tokenizer.BPEOptions{VocabSize: size, Special: Special})
	if err != nil {
		return nil, err
	}
	v.Special.BOS, v.Special.PAD, v.Special.EOS = tokenizer.Int(0), tokenizer.Int(0), tokenizer.Int(2)
	return v, nil
}
