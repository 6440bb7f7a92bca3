package tokenizer

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// A pre-tokenizer splits the code points of a text fragment into words before BPE runs. It is
// a sequence of steps; each step refines the current split (a list of chunk lengths in code
// points, summing to the text length) into smaller chunks. This is how llama.cpp applies the
// list of regular expressions of a pre-tokenizer: every later expression only splits inside
// the chunks of the earlier ones, keeping both matches and the text between them.
type splitStep interface {
	split(cps []rune, offsets []int) []int
}

// preTokenizer describes one tokenizer.ggml.pre family.
type preTokenizer struct {
	name  string
	steps []splitStep
}

// preTokenizerFor returns the pre-tokenizer of a tokenizer.ggml.pre value. The second result
// holds the flag defaults the family sets: clean_spaces, ignore_merges and add_bos.
func preTokenizerFor(pre string) (*preTokenizer, preDefaults, error) {
	d := preDefaults{cleanSpaces: true}
	var steps []splitStep
	switch pre {
	case "", "default":
		steps = []splitStep{reDefaultPunct, gpt2Splitter{}, reNumbers, reThreeDigits}
	case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
		steps = []splitStep{llama3Splitter{maxDigits: 3}}
		d.ignoreMerges, d.addBOS = true, true
	case "dbrx", "smaug-bpe":
		steps = []splitStep{llama3Splitter{maxDigits: 3}}
	case "glm4", "chatglm-bpe":
		steps = []splitStep{llama3Splitter{maxDigits: 3}}
		d.noBOS = true
	case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2":
		steps = []splitStep{llama3Splitter{maxDigits: 1}}
		d.cleanSpaces = false
	case "stablelm2", "megrez":
		steps = []splitStep{llama3Splitter{maxDigits: 1}}
	case "qwen35":
		steps = []splitStep{llama3Splitter{maxDigits: 1, marks: true}}
		d.cleanSpaces = false
	case "gpt-2", "phi-2", "gigachat", "a.x-4.0", "mellum", "mpt", "olmo", "jais", "exaone4":
		steps = []splitStep{gpt2Splitter{}}
	case "trillion", "granite-docling":
		steps = []splitStep{gpt2Splitter{}}
		d.cleanSpaces = false
	case "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2":
		steps = []splitStep{reDigit, gpt2Splitter{}}
	case "smollm", "command-r":
		steps = []splitStep{reDigit, gpt2Splitter{}}
		d.cleanSpaces = false
	case "falcon":
		steps = []splitStep{reFalconPunct, gpt2Splitter{}, reThreeDigits}
	case "deepseek-llm":
		steps = []splitStep{reNewline, reDeepseekLLMLetters, reDeepseekLLMPunct, reTrailingSpace, reCJK, reNumbers}
		d.cleanSpaces = false
	case "deepseek-coder":
		steps = []splitStep{reNewline, reLetters, rePunct, reCJK, reDigit}
		d.cleanSpaces = false
	default:
		return nil, d, fmt.Errorf("tokenizer: unsupported pre-tokenizer %q", pre)
	}
	return &preTokenizer{name: pre, steps: steps}, d, nil
}

type preDefaults struct {
	cleanSpaces, ignoreMerges, addBOS, noBOS bool
}

// words splits text into pre-tokenized words (UTF-8, not yet byte-encoded). Invalid UTF-8 is
// replaced by U+FFFD per bad byte, as llama.cpp does.
func (p *preTokenizer) words(text string, yield func(word []byte)) {
	cps := decodeCodePoints(text, make([]rune, 0, len(text)))
	offsets := []int{len(cps)}
	for _, s := range p.steps {
		offsets = s.split(cps, offsets)
	}
	var buf []byte
	start := 0
	for _, n := range offsets {
		buf = buf[:0]
		for _, cp := range cps[start : start+n] {
			buf = appendCodePoint(buf, cp)
		}
		yield(buf)
		start += n
	}
}

// chunkScanner gives the hand-written splitters the view of one chunk that llama.cpp's custom
// splitters have: positions outside [lo, hi) read as an impossible code point and zero flags.
type chunkScanner struct {
	cps    []rune
	lo, hi int
	prev   int   // end of the last emitted word
	out    []int // word lengths
}

const outOfRange = rune(-1)

func (c *chunkScanner) cp(pos int) rune {
	if pos >= c.lo && pos < c.hi {
		return c.cps[pos]
	}
	return outOfRange
}

func (c *chunkScanner) flags(pos int) cpFlags {
	if pos >= c.lo && pos < c.hi {
		return flagsOf(c.cps[pos])
	}
	return 0
}

// emit ends a word at end and returns its length (0 emits nothing).
func (c *chunkScanner) emit(end int) int {
	n := end - c.prev
	if n > 0 {
		c.out = append(c.out, n)
	}
	c.prev = end
	return n
}

// contraction reports the length (2 or 3) of an English contraction starting at pos
// ('s 't 'm 'd 're 've 'll), or 0. With fold, upper-case letters match too.
func (c *chunkScanner) contraction(pos int, fold bool) int {
	if c.cp(pos) != '\'' || pos+1 >= c.hi {
		return 0
	}
	lower := func(r rune) rune {
		if fold && r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	a := lower(c.cp(pos + 1))
	if a == 's' || a == 't' || a == 'm' || a == 'd' {
		return 2
	}
	if pos+2 < c.hi {
		b := lower(c.cp(pos + 2))
		if (a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l') {
			return 3
		}
	}
	return 0
}

// whitespaceRun counts white space from pos and reports the end of the last \r or \n in it
// (0 when there is none).
func (c *chunkScanner) whitespaceRun(pos int) (n, lastNewlineEnd int) {
	for c.flags(pos + n).is(flagWhitespace) {
		if r := c.cp(pos + n); r == '\r' || r == '\n' {
			lastNewlineEnd = pos + n + 1
		}
		n++
	}
	return n, lastNewlineEnd
}

func forEachChunk(cps []rune, offsets []int, scan func(c *chunkScanner)) []int {
	c := &chunkScanner{cps: cps, out: make([]int, 0, len(offsets))}
	start := 0
	for _, n := range offsets {
		c.lo, c.hi, c.prev = start, start+n, start
		scan(c)
		start += n
	}
	return c.out
}

// gpt2Splitter implements the GPT-2 pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// by hand (Go's regexp has no look-ahead), with llama.cpp's reading of it.
type gpt2Splitter struct{}

func (gpt2Splitter) split(cps []rune, offsets []int) []int {
	return forEachChunk(cps, offsets, func(c *chunkScanner) {
		for pos := c.lo; pos < c.hi; {
			if n := c.contraction(pos, false); n > 0 {
				pos += c.emit(pos + n)
				continue
			}
			r, f := c.cp(pos), c.flags(pos)
			f2 := f // the class of the character after an optional leading space
			if r == ' ' {
				f2 = c.flags(pos + 1)
			}
			runOf := func(in func(cpFlags) bool) bool {
				if !in(f2) {
					return false
				}
				if r == ' ' {
					pos++
				}
				for in(f2) {
					pos++
					f2 = c.flags(pos)
				}
				c.emit(pos)
				return true
			}
			if runOf(func(f cpFlags) bool { return f.is(flagLetter) }) ||
				runOf(func(f cpFlags) bool { return f.is(flagNumber) }) ||
				runOf(func(f cpFlags) bool { return f != 0 && !f.is(flagWhitespace|flagLetter|flagNumber) }) {
				continue
			}
			n, _ := c.whitespaceRun(pos)
			switch {
			case n > 1 && c.cp(pos+n) != outOfRange: // \s+(?!\S): leave the last space to the next word
				pos += n - 1
				c.emit(pos)
			case n > 0: // \s+
				pos += n
				c.emit(pos)
			default:
				pos++
				c.emit(pos)
			}
		}
	})
}

// llama3Splitter implements the Llama 3 pattern (maxDigits 3) and the Qwen2 pattern
// (maxDigits 1):
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// with llama.cpp's reading of it. With marks (Qwen3.5), letter runs also take combining marks:
// [\p{L}\p{M}]+ for \p{L}+, and [^\s\p{L}\p{M}\p{N}] for [^\s\p{L}\p{N}].
type llama3Splitter struct {
	maxDigits int
	marks     bool
}

func (s llama3Splitter) split(cps []rune, offsets []int) []int {
	letter := flagLetter
	if s.marks {
		letter |= flagMark
	}
	return forEachChunk(cps, offsets, func(c *chunkScanner) {
		for pos := c.lo; pos < c.hi; {
			if n := c.contraction(pos, true); n > 0 {
				pos += c.emit(pos + n)
				continue
			}
			r, f := c.cp(pos), c.flags(pos)

			// [^\r\n\p{L}\p{N}]?\p{L}+
			if !(r == '\r' || r == '\n' || f.is(flagNumber)) && (f.is(letter) || c.flags(pos+1).is(letter)) {
				pos++
				for c.flags(pos).is(letter) {
					pos++
				}
				c.emit(pos)
				continue
			}

			// \p{N}{1,maxDigits}
			if f.is(flagNumber) {
				start := pos
				for c.flags(pos).is(flagNumber) {
					pos++
					if pos-start >= s.maxDigits {
						c.emit(pos)
						start = pos
					}
				}
				c.emit(pos)
				continue
			}

			// <space>?[^\s\p{L}\p{N}]+[\r\n]*
			f2 := f
			if r == ' ' {
				f2 = c.flags(pos + 1)
			}
			if !f2.is(flagWhitespace|letter|flagNumber) && f != 0 {
				if r == ' ' {
					pos++
				}
				for f2 != 0 && !f2.is(flagWhitespace|letter|flagNumber) {
					pos++
					f2 = c.flags(pos)
				}
				for r2 := c.cp(pos); r2 == '\r' || r2 == '\n'; r2 = c.cp(pos) {
					pos++
				}
				c.emit(pos)
				continue
			}

			n, lastNewlineEnd := c.whitespaceRun(pos)
			switch {
			case lastNewlineEnd > 0: // \s*[\r\n]+
				pos = lastNewlineEnd
				c.emit(pos)
			case n > 1 && c.cp(pos+n) != outOfRange: // \s+(?!\S)
				pos += n - 1
				c.emit(pos)
			case n > 0: // \s+
				pos += n
				c.emit(pos)
			default:
				pos++
				c.emit(pos)
			}
		}
	})
}

// regexStep is one lookahead-free pattern of a pre-tokenizer, run with Go's regexp. Go's
// leftmost-first matching picks the same match as the backtracking engine llama.cpp uses for
// such patterns. The pattern runs over a mapped copy of the code points, as llama.cpp's does:
//
//   - collapsed: every non-ASCII code point is replaced by a stand-in for its category
//     (U+E0D1 number, U+E0D2 letter, U+E0D3 punctuation, U+E0D4 mark, U+E0D5 symbol,
//     U+E0D0 anything else) and non-ASCII white space by \v, so that \p{..} classes are written
//     as [\x{E0D2}A-Za-z] and so on;
//   - otherwise only non-ASCII white space is replaced by \v.
//
// White space must be written [\t\n\v\f\r ] (Go's \s lacks \v).
type regexStep struct {
	re        *regexp.Regexp
	collapsed bool
}

func newRegexStep(pattern string, collapsed bool) *regexStep {
	return &regexStep{re: regexp.MustCompile(pattern), collapsed: collapsed}
}

const (
	classWS    = `\t\n\v\f\r `
	classN     = `\x{E0D1}0-9`
	classL     = `\x{E0D2}A-Za-z`
	classP     = `\x{E0D3}!-#%-*,-/:-;?-@\[-\]_{}`
	cjkRanges  = `\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}`
	falconSyms = `$+<=>^~|`
)

var (
	reDigit         = newRegexStep(`[`+classN+`]`, true)
	reNumbers       = newRegexStep(`[`+classN+`]+`, true)
	reThreeDigits   = newRegexStep(`[0-9][0-9][0-9]`, false)
	reDefaultPunct  = newRegexStep(`[`+classP+falconSyms+`]+`, true)
	reFalconPunct   = newRegexStep(`[`+classP+falconSyms+"`"+`]+`, true)
	reNewline       = newRegexStep(`[\r\n]`, false)
	reLetters       = newRegexStep(`[`+classWS+`]?[`+classL+`]+`, true)
	rePunct         = newRegexStep(`[`+classWS+`]?[`+classP+`]+`, true)
	reCJK           = newRegexStep(`[`+cjkRanges+`]+`, false)
	reTrailingSpace = newRegexStep(`[`+classWS+`]+$`, false)
	// The letter and punctuation classes published with the DeepSeek LLM tokenizer.
	reDeepseekLLMLetters = newRegexStep(`[`+classWS+`]?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+`, false)
	reDeepseekLLMPunct   = newRegexStep(`[`+classWS+`]?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+`, false)
)

func (s *regexStep) split(cps []rune, offsets []int) []int {
	var sb strings.Builder
	out := make([]int, 0, len(offsets))
	start := 0
	for _, n := range offsets {
		sb.Reset()
		for _, cp := range cps[start : start+n] {
			sb.WriteRune(s.mapCP(cp))
		}
		text := sb.String()
		// Byte offsets of the mapped chunk back to code point positions.
		pos, last := 0, 0 // pos: code points consumed, last: end of the previous match (code points)
		byteAt := 0
		runeIndex := func(b int) int {
			for byteAt < b {
				_, w := utf8.DecodeRuneInString(text[byteAt:])
				byteAt += w
				pos++
			}
			return pos
		}
		for _, m := range s.re.FindAllStringIndex(text, -1) {
			if m[1] == m[0] {
				continue // the patterns used here never match empty text
			}
			ms := runeIndex(m[0])
			me := runeIndex(m[1])
			if ms > last {
				out = append(out, ms-last)
			}
			out = append(out, me-ms)
			last = me
		}
		if last < n {
			out = append(out, n-last)
		}
		start += n
	}
	return out
}

func (s *regexStep) mapCP(cp rune) rune {
	if cp < 0x80 {
		return cp
	}
	f := flagsOf(cp)
	if f.is(flagWhitespace) {
		return '\v'
	}
	if !s.collapsed {
		if cp >= maxCodePoint {
			return 0xFFFD
		}
		return cp
	}
	switch f & flagCategories {
	case flagNumber:
		return 0xE0D1
	case flagLetter:
		return 0xE0D2
	case flagPunctuation:
		return 0xE0D3
	case flagMark:
		return 0xE0D4
	case flagSymbol:
		return 0xE0D5
	}
	return 0xE0D0
}
