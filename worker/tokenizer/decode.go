package tokenizer

import (
	"fmt"
	"strings"
)

// computePiece is llama.cpp's token_to_piece with special=true, before any leading-space
// stripping: the bytes a token stands for.
func (t *Tokenizer) computePiece(id int) string {
	a, text := t.attrs[id], t.tokens[id]
	switch {
	case a&(attrUnknown|attrControl|attrUserDefined) != 0:
		return text
	case a&attrNormal != 0:
		if t.spm {
			return strings.ReplaceAll(text, "▁", " ")
		}
		return decodeByteLevel(text)
	case a&attrByte != 0:
		return string([]byte{byteTokenValue(text)})
	}
	return "" // unused and undefined tokens render as nothing
}

// byteTokenValue reads the byte of a byte token "<0xXX>" like llama.cpp's strtol of the two
// characters after "<0x" (0 when they are not hex).
func byteTokenValue(text string) byte {
	if len(text) < 4 {
		return 0
	}
	hex := text[3:min(5, len(text))]
	v := 0
	for i := 0; i < len(hex); i++ {
		c := hex[i]
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A'+10)
		default:
			return byte(v)
		}
	}
	return byte(v)
}

// decodeByteLevel maps the code points of a byte-level BPE token back to bytes. A code point
// outside the byte alphabet is rendered as llama.cpp renders it: "[UNK_BYTE_0x<hex>" followed
// by the whole token text and "]".
func decodeByteLevel(text string) string {
	plain := true // printable ASCII other than the space stands for itself
	for i := 0; i < len(text); i++ {
		if text[i] <= ' ' || text[i] > '~' {
			plain = false
			break
		}
	}
	if plain {
		return text
	}
	var out []byte
	cps := decodeCodePoints(text, nil)
	for _, cp := range cps {
		if b, ok := runeToByte[cp]; ok {
			out = append(out, b)
			continue
		}
		out = append(out, "[UNK_BYTE_0x"...)
		for _, c := range appendCodePoint(nil, cp) {
			out = fmt.Appendf(out, "%02x", c)
		}
		out = append(out, text...)
		out = append(out, ']')
	}
	return string(out)
}

// piece returns the bytes of one token; control and unknown tokens render only with special.
// Ids outside the vocabulary render as nothing.
func (t *Tokenizer) piece(id int, special bool) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	if !special && t.attrs[id]&(attrUnknown|attrControl) != 0 {
		return ""
	}
	return t.pieces[id]
}

// Piece returns the text a token stands for, with control tokens rendered as their text
// (llama.cpp's token_to_piece with special=true). A piece can be part of a UTF-8 sequence
// (byte tokens, byte-level BPE tokens that split a character).
func (t *Tokenizer) Piece(id int) string { return t.piece(id, true) }

// Decode turns token ids back into text as llama.cpp's llama_detokenize does with
// remove_special=false and unparse_special=false: control tokens render as nothing, the
// first token loses one leading space when the vocabulary adds a space prefix, and
// clean_up_tokenization_spaces runs where the vocabulary enables it.
func (t *Tokenizer) Decode(ids []int) string { return t.Detokenize(ids, false, false) }

// Detokenize is llama.cpp's llama_detokenize. With removeSpecial, a leading BOS and trailing
// EOS are dropped where the vocabulary adds them; with unparseSpecial, control tokens render
// as their text.
func (t *Tokenizer) Detokenize(ids []int, removeSpecial, unparseSpecial bool) string {
	removeSpace := t.addSpacePrefix
	if removeSpecial && t.addBOS && len(ids) > 0 && ids[0] == t.bos {
		removeSpace = false
		ids = ids[1:]
	}
	if removeSpecial && t.addEOS && len(ids) > 0 && ids[len(ids)-1] == t.eos {
		ids = ids[:len(ids)-1]
	}
	var out []byte
	for _, id := range ids {
		// Only the first token's piece may lose a space, even when it renders as nothing.
		p := t.piece(id, unparseSpecial)
		if removeSpace && p != "" && p[0] == ' ' {
			p = p[1:]
		}
		removeSpace = false
		out = append(out, p...)
	}
	if t.cleanSpaces {
		out = cleanSpaces(out)
	}
	return string(out)
}

// cleanSpaces is llama.cpp's clean_up_tokenization_spaces, three in-place passes over the
// detokenized bytes: drop the space before ? ! . ,; turn " ' " into "'"; drop the space before
// the contractions 's 'm 're 've.
func cleanSpaces(text []byte) []byte {
	// pass 1: " ?", " !", " .", " ,"
	total := len(text)
	n := min(total, 1)
	for i := 1; i < total; i++ {
		x := text[i]
		if text[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			n--
		}
		text[n] = x
		n++
	}
	// pass 2: " ' "
	total = n
	n = min(total, 1)
	for i := 1; i < total; i++ {
		x := text[i]
		if x == '\'' && i+1 < total && text[i-1] == ' ' && text[i+1] == ' ' {
			n--
			i++
			text[i] = 0
		}
		text[n] = x
		n++
	}
	// pass 3: " 's", " 'm", " 're", " 've"
	total = n
	n = min(total, 1)
	for i := 1; i < total; i++ {
		x := text[i]
		if text[i-1] == ' ' && x == '\'' && i+1 < total {
			x1 := text[i+1]
			switch {
			case x1 == 't' || x1 == 'd':
			case x1 == 's' || x1 == 'm':
				n--
			case i+2 < total:
				x2 := text[i+2]
				if (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e') {
					n--
				}
			}
		}
		text[n] = x
		n++
	}
	return text[:n]
}

// StreamDecoder turns a stream of token ids into text as generation proceeds. The text it
// returns, concatenated and followed by Flush, equals Decode of all the ids (DecodeSpecial
// with NewStreamDecoderSpecial). It holds back an incomplete UTF-8 sequence until its last
// byte arrives, and, for vocabularies that clean up tokenization spaces, the few bytes after
// a space or apostrophe until the clean-up of them is decided. Not safe for concurrent use.
type StreamDecoder struct {
	t           *Tokenizer
	special     bool
	removeSpace bool
	ctx         []byte // the last bytes committed before raw (at most 4)
	raw         []byte // pieces not yet cleaned
	pending     []byte // cleaned bytes not yet emitted (an incomplete UTF-8 tail)
}

// NewStreamDecoder starts a stream whose control tokens render as nothing (as Decode).
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder {
	return &StreamDecoder{t: t, removeSpace: t.addSpacePrefix}
}

// NewStreamDecoderSpecial starts a stream whose control tokens render as their text.
func (t *Tokenizer) NewStreamDecoderSpecial() *StreamDecoder {
	return &StreamDecoder{t: t, special: true, removeSpace: t.addSpacePrefix}
}

// Add takes the next token id and returns the text that is now final (often "", never a
// partial UTF-8 sequence unless the tokens themselves form invalid UTF-8).
func (d *StreamDecoder) Add(id int) string {
	p := d.t.piece(id, d.special)
	if d.removeSpace && p != "" && p[0] == ' ' {
		p = p[1:]
	}
	d.removeSpace = false
	d.raw = append(d.raw, p...)
	d.commit(false)
	return d.emit(false)
}

// Flush returns everything still held back. The stream is finished afterwards; Reset starts a
// new one.
func (d *StreamDecoder) Flush() string {
	d.commit(true)
	return d.emit(true)
}

// Reset starts a new stream.
func (d *StreamDecoder) Reset() {
	d.removeSpace = d.t.addSpacePrefix
	d.ctx, d.raw, d.pending = d.ctx[:0], d.raw[:0], d.pending[:0]
}

const cleanLookBehind = 4

// commit moves the longest prefix of raw whose clean-up can no longer change into pending.
// A cut is safe when none of the cleanLookBehind bytes before it is a space or an apostrophe:
// every clean-up rule removes a space next to an apostrophe or a ? ! . , and looks at most
// three bytes ahead of the space, so no rule can then act across the cut.
func (d *StreamDecoder) commit(all bool) {
	cut := len(d.raw)
	if d.t.cleanSpaces && !all {
		cut = -1
		for c := len(d.raw); c > 0; {
			bad, safe := d.lastUnsafe(c)
			if safe {
				cut = c
				break
			}
			c = bad // a cut in (bad, bad+cleanLookBehind] has bad in its window
		}
		if cut < 0 {
			return
		}
	}
	seg := d.raw[:cut]
	// keep the context bytes for the next cut
	d.ctx = append(d.ctx, seg...)
	if len(d.ctx) > cleanLookBehind {
		d.ctx = append(d.ctx[:0], d.ctx[len(d.ctx)-cleanLookBehind:]...)
	}
	if d.t.cleanSpaces {
		seg = cleanSpaces(seg)
	}
	d.pending = append(d.pending, seg...)
	d.raw = append(d.raw[:0], d.raw[cut:]...)
}

// lastUnsafe looks at the cleanLookBehind bytes before a cut at c (in raw, then in ctx, then
// the start of the text) and returns the position in raw of the last space or apostrophe among
// them (negative when it lies in ctx), or safe when there is none.
func (d *StreamDecoder) lastUnsafe(c int) (bad int, safe bool) {
	for k := 1; k <= cleanLookBehind; k++ {
		var b byte
		switch {
		case c-k >= 0:
			b = d.raw[c-k]
		case len(d.ctx)-(k-c) >= 0:
			b = d.ctx[len(d.ctx)-(k-c)]
		default:
			return 0, true // the start of the text
		}
		if b == ' ' || b == '\'' {
			return c - k, false
		}
	}
	return 0, true
}

// emit returns pending up to its last complete UTF-8 sequence (all of it with all).
func (d *StreamDecoder) emit(all bool) string {
	n := len(d.pending)
	if !all {
		n = completeUTF8(d.pending)
	}
	s := string(d.pending[:n])
	d.pending = append(d.pending[:0], d.pending[n:]...)
	return s
}

// completeUTF8 is the length of the longest prefix of b that does not end inside a UTF-8
// sequence that more bytes could still complete.
func completeUTF8(b []byte) int {
	for k := len(b) - 1; k >= 0 && k >= len(b)-4; k-- {
		c := b[k]
		if c < 0x80 {
			return len(b)
		}
		if c >= 0xC0 {
			if need := utf8Len(c); c < 0xF8 && len(b)-k < need {
				return k
			}
			return len(b)
		}
	}
	return len(b)
}
