package constrain

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"aisle/worker/gguf"
	"aisle/worker/tokenizer"
)

// vocabFiles are the vocabularies the tests run on: SentencePiece (stories260K, llama-spm) and
// byte-level BPE with (starcoder, llama-bpe) and without (qwen2) the decoder's space clean-up.
var vocabFiles = []string{
	"../testdata/models/stories260K.gguf",
	"../testdata/vocab/ggml-vocab-llama-spm.gguf",
	"../testdata/vocab/ggml-vocab-starcoder.gguf",
	"../testdata/vocab/ggml-vocab-llama-bpe.gguf",
	"../testdata/vocab/ggml-vocab-qwen2.gguf",
}

var (
	tokMu    sync.Mutex
	tokCache = map[string]*tokenizer.Tokenizer{}
)

func mustTokenizer(tb testing.TB, path string) *tokenizer.Tokenizer {
	tb.Helper()
	tokMu.Lock()
	defer tokMu.Unlock()
	if t, ok := tokCache[path]; ok {
		return t
	}
	f, err := gguf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	t, err := tokenizer.FromGGUF(f.Metadata)
	if err != nil {
		tb.Fatal(err)
	}
	tokCache[path] = t
	return t
}

func shortName(path string) string {
	s := path[strings.LastIndex(path, "/")+1:]
	s = strings.TrimPrefix(s, "ggml-vocab-")
	return strings.TrimSuffix(s, ".gguf")
}

// ref is the reference the mask is held to: it decodes token sequences with the tokenizer itself
// (plus a copy of llama.cpp's clean-up pass, checked against the tokenizer's Decode on every
// visited text) and judges texts with compiled.scan, which reads the whole text at once.
type ref struct {
	tok   *tokenizer.Tokenizer
	c     *compiled
	clean bool
}

// rendered is what the decoder writes for a token mid-text.
func (r *ref) rendered(id int) string {
	if r.tok.IsControl(id) || id == r.tok.UNK() {
		return ""
	}
	return r.tok.Piece(id)
}

// never reports tokens no constraint allows: control, unknown, rendering as nothing, or holding
// bytes that can never be part of UTF-8 text.
func (r *ref) never(id int) bool {
	p := r.rendered(id)
	if p == "" {
		return true
	}
	i := 0
	for i < len(p) && p[i] >= 0x80 && p[i] < 0xC0 {
		i++
	}
	_, ok := utf8Prefix([]byte(p[i:]))
	return !ok || i > 3
}

// raw is the text of ids before the clean-up pass: the pieces, the first losing a leading space
// where the decoder strips one.
func (r *ref) raw(ids []int) string {
	var b strings.Builder
	for i, id := range ids {
		p := r.rendered(id)
		if i == 0 && strings.HasPrefix(p, " ") && !strings.HasPrefix(r.tok.Decode([]int{id}), " ") {
			p = p[1:]
		}
		b.WriteString(p)
	}
	return b.String()
}

// cleanUp is llama.cpp's clean_up_tokenization_spaces (written again here from its source).
func cleanUp(s string) string {
	t := []byte(s)
	total := len(t)
	n := min(total, 1)
	for i := 1; i < total; i++ {
		x := t[i]
		if t[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			n--
		}
		t[n] = x
		n++
	}
	total, n = n, min(n, 1)
	for i := 1; i < total; i++ {
		x := t[i]
		if x == '\'' && i+1 < total && t[i-1] == ' ' && t[i+1] == ' ' {
			n--
			i++
			t[i] = 0
		}
		t[n] = x
		n++
	}
	total, n = n, min(n, 1)
	for i := 1; i < total; i++ {
		x := t[i]
		if t[i-1] == ' ' && x == '\'' && i+1 < total {
			x1 := t[i+1]
			switch {
			case x1 == 't' || x1 == 'd':
			case x1 == 's' || x1 == 'm':
				n--
			case i+2 < total:
				if x2 := t[i+2]; (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e') {
					n--
				}
			}
		}
		t[n] = x
		n++
	}
	return string(t[:n])
}

func (r *ref) text(raw string) string {
	if r.clean {
		return cleanUp(raw)
	}
	return raw
}

// ok judges a decoded text: with final, a whole answer; else a prefix that more text may follow.
func (r *ref) ok(text string, final bool) bool {
	held := false
	if final {
		if !utf8.ValidString(text) {
			return false
		}
	} else {
		n, ok := utf8Prefix([]byte(text))
		if !ok {
			return false
		}
		if n < len(text) {
			text = text[:n] // an incomplete character: unknown yet
		} else {
			held = r.clean && strings.HasSuffix(text, " ")
		}
	}
	return len(r.c.scan(text, final, held)) == 0
}

// pending reports whether a text ends in something its continuation decides: an incomplete
// character, a separator after a letter or digit, or (clean-up vocabularies) a space after one.
func (r *ref) pending(raw string) bool {
	if n, _ := utf8Prefix([]byte(raw)); n < len(raw) {
		return true
	}
	text := r.text(raw)
	rs := []rune(text)
	if len(rs) < 2 || !isWordClass(runeClass(rs[len(rs)-2])) {
		return false
	}
	last := rs[len(rs)-1]
	return runeClass(last) == clsSep || (r.clean && last == ' ' && strings.HasSuffix(raw, " "))
}

// extensions are the continuations tried after a pending text: completions of an incomplete
// character (the first letter, digit and boundary it can become, and every character of the
// figures it can become), else a boundary, letters, digits, separators and the figures' characters.
func (r *ref) extensions(raw string) []string {
	var chars []rune
	for _, f := range r.c.fig.strs {
		for _, c := range f {
			for x := unicode.SimpleFold(c); ; x = unicode.SimpleFold(x) {
				chars = append(chars, x)
				if x == c {
					break
				}
			}
		}
	}
	if n, _ := utf8Prefix([]byte(raw)); n < len(raw) {
		p := raw[n:]
		var out []string
		var buf [utf8.UTFMax]byte
		try := func(c rune) {
			k := utf8.EncodeRune(buf[:], c)
			if k > len(p) && string(buf[:len(p)]) == p {
				out = append(out, string(buf[len(p):k]))
			}
		}
		for _, c := range chars {
			try(c)
		}
		return append(out, firstOfEachClass(p)...)
	}
	out := []string{" ", "a", "Z", ".", ","}
	for d := '0'; d <= '9'; d++ {
		out = append(out, string(d))
	}
	for _, c := range chars {
		out = append(out, string(c))
	}
	return out
}

var firstCache sync.Map // incomplete prefix -> []string

// firstOfEachClass returns the completions of incomplete prefix p to the first letter, the first
// digit and the first boundary character it can become (scanning code points; cached).
func firstOfEachClass(p string) []string {
	if v, ok := firstCache.Load(p); ok {
		return v.([]string)
	}
	var out []string
	var found [3]bool
	var buf [utf8.UTFMax]byte
	// the first character starting with p: p, then the lowest continuation bytes
	low := []byte(p)
	for len(low) < utf8Len(p[0]) {
		lo, _ := secondRange(p[0])
		if len(low) > 1 {
			lo = 0x80
		}
		low = append(low, lo)
	}
	first, _ := utf8.DecodeRune(low)
	for c := first; c <= unicode.MaxRune && !(found[0] && found[1] && found[2]); c++ {
		if c >= 0xD800 && c <= 0xDFFF {
			continue
		}
		k := utf8.EncodeRune(buf[:], c)
		if k <= len(p) || string(buf[:len(p)]) != p {
			break
		}
		cls := 2
		switch runeClass(c) {
		case clsLetter:
			cls = 0
		case clsDigit:
			cls = 1
		}
		if !found[cls] {
			found[cls] = true
			out = append(out, string(buf[len(p):k]))
		}
	}
	firstCache.Store(p, out)
	return out
}

// viable: the text so far breaks no rule and, when it ends in something pending, some
// continuation of a few characters decides it within the rules.
func (r *ref) viable(raw string, depth int) bool {
	if !r.ok(r.text(raw), false) {
		return false
	}
	if !r.pending(raw) {
		return true
	}
	if depth == 0 {
		return false
	}
	for _, e := range r.extensions(raw) {
		if r.viable(raw+e, depth-1) {
			return true
		}
	}
	return false
}

// expected is the mask the reference gives after ids: bit per token.
func (r *ref) expected(ids []int, n int) []bool {
	out := make([]bool, n)
	prefixRaw := r.raw(ids)
	eogOK := r.ok(r.text(prefixRaw), true)
	anyOK := false
	for id := range n {
		switch {
		case r.tok.IsEOG(id):
		case r.never(id):
		case len(ids) == 0:
			out[id] = r.viable(r.raw([]int{id}), 3)
		default:
			out[id] = r.viable(prefixRaw+r.rendered(id), 3)
		}
		anyOK = anyOK || out[id]
	}
	for id := range n {
		if r.tok.IsEOG(id) {
			out[id] = eogOK || !anyOK
		}
	}
	return out
}

// figurePool and wordPool feed random rules.
var figurePool = []string{"6.95", "14", "2A", "PH-0101", "8:00-19:00", "1.5", "400", "20", "3", "0", "12.99",
	"1,299", "10/12", "5kg", "2024", "v2", "x86-64", "99", "100", "A4", "3.14159", "7", "42", "1.000,50", "€6.95 EUR"}
var wordPool = []string{"free", "shipping", "the", "best", "price", "guaranteed", "in", "stock", "a", "is", "s",
	"of", "and", "to", "for", "cheap", "deal", "Lily", "was", "once", "upon", "time", "x", "get", "self", "return"}

func randomRules(rng *rand.Rand) Rules {
	var r Rules
	for range rng.IntN(8) + 1 {
		if rng.IntN(4) == 0 {
			r.Figures = append(r.Figures, fmt.Sprint(rng.IntN(1000)))
		} else {
			r.Figures = append(r.Figures, figurePool[rng.IntN(len(figurePool))])
		}
	}
	for range rng.IntN(6) {
		var p []string
		for range rng.IntN(3) + 1 {
			p = append(p, wordPool[rng.IntN(len(wordPool))])
		}
		r.Forbidden = append(r.Forbidden, p)
	}
	return r
}

// targets are texts the walks steer towards: figures whole, cut short, run on or misspelt, next
// to separators and symbols, forbidden phrases in several spellings, characters split across
// byte tokens.
func targets(r Rules) []string {
	out := []string{"Ibuprofen 400 mg, 20 tablets costs 6.95 EUR.", "Größe: 2A, ", "٣٤ ", "5-梀", " 😀 ", "a . b",
		"6 .95", "6 ,5", "8:00-19:00 ", "PH-0101.", "1.5-2", "x86-64 ", "v2.", "2A-"}
	for _, f := range r.Figures {
		out = append(out, " "+f, f+". ", f+" ", "€"+f+".", f[:len(f)-1], f+"x", strings.ToLower(f)+",", "-"+f,
			strings.ReplaceAll(f, ".", ".."), strings.ReplaceAll(f, ".", " ."), f+"-"+f)
	}
	for _, p := range r.Forbidden {
		out = append(out, " "+strings.Join(p, " ")+" ", strings.ToUpper(strings.Join(p, ", "))+".", strings.Join(p, "-")+"s")
	}
	return out
}

// walker chooses the tokens of a random walk under the mask: mostly tokens that spell the next
// bytes of a target text, else any allowed token.
type walker struct {
	rng     *rand.Rand
	tok     *tokenizer.Tokenizer
	targets []string
	rest    string // what is left of the current target
}

func (w *walker) pick(allowed []uint32, n int) int {
	var ids, spell []int
	for id := range n {
		if allowed[id/32]>>(id%32)&1 == 0 {
			continue
		}
		ids = append(ids, id)
		if p := w.tok.Piece(id); p != "" && !w.tok.IsEOG(id) && !w.tok.IsControl(id) && strings.HasPrefix(w.rest, p) {
			spell = append(spell, id)
		}
	}
	if len(spell) > 0 && w.rng.IntN(8) != 0 {
		id := spell[w.rng.IntN(len(spell))]
		w.rest = w.rest[len(w.tok.Piece(id)):]
		return id
	}
	w.rest = w.targets[w.rng.IntN(len(w.targets))]
	return ids[w.rng.IntN(len(ids))]
}

// TestMaskMatchesReference: along random walks under random rules, on every vocabulary, Mask
// gives exactly the reference's verdict for every token of the vocabulary.
func TestMaskMatchesReference(t *testing.T) {
	walks, steps := 4, 18
	if testing.Short() {
		walks, steps = 2, 8
	}
	for _, path := range vocabFiles {
		t.Run(shortName(path), func(t *testing.T) {
			t.Parallel()
			tok := mustTokenizer(t, path)
			v := Prepare(tok)
			n := tok.VocabSize()
			rng := rand.New(rand.NewPCG(uint64(n), 1))
			for w := range walks {
				rules := randomRules(rng)
				s := NewState(v, rules)
				rf := &ref{tok: tok, c: compile(rules), clean: v.clean}
				var ids []int
				allowed := make([]uint32, (n+31)/32+1)
				wk := &walker{rng: rng, tok: tok, targets: targets(rules)}
				for step := range steps {
					s.Mask(allowed)
					want := rf.expected(ids, n)
					bad := 0
					for id := range n {
						got := allowed[id/32]>>(id%32)&1 == 1
						if got != want[id] {
							if bad < 10 {
								t.Errorf("walk %d step %d, rules %+v, after %q (%v): token %d %q: mask %v, reference %v",
									w, step, rules, tok.Decode(ids), ids, id, tok.Piece(id), got, want[id])
							}
							bad++
						}
					}
					if allowed[len(allowed)-1] != 0 || allowed[n/32]>>(n%32) != 0 {
						t.Fatalf("bits set past the vocabulary")
					}
					if bad > 0 {
						t.Fatalf("%d tokens differ", bad)
					}
					if v.clean {
						if got, want := rf.text(rf.raw(ids)), tok.Decode(ids); got != want {
							t.Fatalf("the test's clean-up gives %q, the tokenizer %q", got, want)
						}
					}
					if testing.Verbose() && step == steps-1 {
						cnt := 0
						for _, b := range want {
							if b {
								cnt++
							}
						}
						t.Logf("walk %d: %q: %d of %d allowed; rules %v", w, tok.Decode(ids), cnt, n, rules)
					}
					next := wk.pick(allowed, n)
					if tok.IsEOG(next) {
						break
					}
					ids = append(ids, next)
					s.Accept(next)
				}
			}
		})
	}
}

// TestSamplingKeepsRules: random generation under the mask, on every vocabulary and random rules,
// ended as soon as the rules let it after 20-60 tokens, always gives a text that Check accepts,
// and never meets a dead end (a state where only the fallback end of generation is allowed).
func TestSamplingKeepsRules(t *testing.T) {
	walks := 40
	if testing.Short() {
		walks = 10
	}
	for _, path := range vocabFiles {
		t.Run(shortName(path), func(t *testing.T) {
			t.Parallel()
			tok := mustTokenizer(t, path)
			v := Prepare(tok)
			n := tok.VocabSize()
			rng := rand.New(rand.NewPCG(uint64(n), 2))
			allowed := make([]uint32, (n+31)/32)
			for w := range walks {
				rules := randomRules(rng)
				s := NewState(v, rules)
				wk := &walker{rng: rng, tok: tok, targets: targets(rules)}
				var ids []int
				want := 20 + rng.IntN(40)
				for {
					s.Mask(allowed)
					if len(ids) >= want && s.Complete() {
						break
					}
					if len(ids) > want+200 {
						t.Fatalf("walk %d: no end after %d tokens: %q", w, len(ids), tok.Decode(ids))
					}
					var next int
					if w%2 == 0 {
						next = wk.pick(allowed, n) // steered to figures and phrases
					} else {
						var ok []int
						for id := range n {
							if allowed[id/32]>>(id%32)&1 == 1 {
								ok = append(ok, id)
							}
						}
						next = ok[rng.IntN(len(ok))] // uniform
					}
					if tok.IsEOG(next) {
						if !s.Complete() {
							t.Fatalf("walk %d: a dead end after %q: only the fallback end is allowed", w, tok.Decode(ids))
						}
						break
					}
					ids = append(ids, next)
					s.Accept(next)
				}
				text := tok.Decode(ids)
				if vs := Check(rules, text); len(vs) > 0 {
					t.Fatalf("walk %d, rules %+v: %q breaks them: %v", w, rules, text, vs)
				}
				if !utf8.ValidString(text) {
					t.Fatalf("walk %d: %q is not UTF-8", w, text)
				}
			}
		})
	}
}

// TestPrepareOnce: concurrent Prepare calls for one tokenizer compute one Vocab.
func TestPrepareOnce(t *testing.T) {
	tok := mustTokenizer(t, vocabFiles[0])
	var wg sync.WaitGroup
	got := make([]*Vocab, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = Prepare(tok)
		}()
	}
	wg.Wait()
	for _, v := range got {
		if v != got[0] || v == nil {
			t.Fatalf("Prepare gave different vocabularies")
		}
	}
}

// TestMaskFallback: after a token the mask did not allow, only end of generation is allowed; a
// mask is never empty.
func TestMaskFallback(t *testing.T) {
	tok := mustTokenizer(t, vocabFiles[1])
	v := Prepare(tok)
	s := NewState(v, Rules{Figures: []string{"14"}})
	allowed := make([]uint32, v.words)
	id, ok := tok.ID("7")
	if !ok {
		t.Fatal("no token 7")
	}
	s.Mask(allowed)
	if allowed[id/32]>>(id%32)&1 == 1 {
		t.Fatalf("token %d %q allowed", id, tok.Piece(id))
	}
	s.Accept(id)
	s.Mask(allowed)
	for id := range tok.VocabSize() {
		if got := allowed[id/32]>>(id%32)&1 == 1; got != tok.IsEOG(id) {
			t.Fatalf("after a forbidden token: token %d %q allowed %v", id, tok.Piece(id), got)
		}
	}
	if s.Complete() {
		t.Fatal("Complete after a forbidden token")
	}
}

// trickyPieces are texts that real vocabularies hold rarely or never but that the mask must get
// right: figures split at every place, separators and spaces before and after digits, spaces the
// clean-up removes, characters split across tokens, digits of other scripts, case variants.
var trickyPieces = []string{
	"x 5", "5 .5", "a.5", "6.9", " .", " ,", "ab ", "5 ", " 5", "5-", "-5", "2A", "a2", ".5.", "..5", "5..", "6.95",
	"PH-", "-01", "01", "0101", ":00", "8:", "19:00", "00-", " .95", "6 ", "95 ", "€", "€6", "\xe2\x82", "\xac6",
	"é5", "5é", "free", " free", "free ", " shipping", "shipping.", "free shipping", ", free", "Lily", "lily ",
	"5 .", "a .5", "x86-64", "-64 ", "٣", "٣.", "\u212a", "ph", "Ph-01", "1.", ",5", "5,", "1,2", ". 5", "a -5",
	"6.95.", "6.95 EUR", " 14", "14,", "2a ", " 2", "A", "a", " a", "the", " the", "the ", "s", "s ", "'s",
	"e\u0301", "\u0301", "5\u0301", "\xcc", "\x81", "😀", "\xf0\x9f", "\x98\x80", " \xf0\x9f\x98", "梀", "\xe6",
	"8:00-19:00", "-19", ":0", "0-1", "9:", "  ", "   ", "\n", "5\n", "\n5", "1.5", ".", ",", "-", ":", "/",
}

// syntheticTokenizers builds a byte-level BPE tokenizer (with the space clean-up) and a
// SentencePiece one (with byte tokens), each holding every byte and the tricky pieces.
func syntheticTokenizers(t *testing.T) []*tokenizer.Tokenizer {
	t.Helper()
	var bpe tokenizer.Vocab
	bpe.Model, bpe.Merges = "gpt2", []string{}
	enc := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			if (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE {
				b.WriteRune(rune(c))
				continue
			}
			n := 0 // the byte's code point is 256 + its rank among the unprintable bytes
			for x := 0; x < int(c); x++ {
				if !((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE) {
					n++
				}
			}
			b.WriteRune(rune(256 + n))
		}
		return b.String()
	}
	seen := map[string]bool{}
	for b := range 256 {
		bpe.Tokens = append(bpe.Tokens, enc(string([]byte{byte(b)})))
		seen[string([]byte{byte(b)})] = true
	}
	for _, p := range trickyPieces {
		if !seen[p] {
			seen[p] = true
			bpe.Tokens = append(bpe.Tokens, enc(p))
		}
	}
	bpe.Types = make([]tokenizer.TokenType, len(bpe.Tokens)+1)
	for i := range bpe.Types {
		bpe.Types[i] = tokenizer.TypeNormal
	}
	bpe.Tokens = append(bpe.Tokens, "<|endoftext|>")
	bpe.Types[len(bpe.Tokens)-1] = tokenizer.TypeControl
	bpe.Special.EOS = tokenizer.Int(len(bpe.Tokens) - 1)
	bpe.Special.BOS = bpe.Special.EOS

	spm := tokenizer.Vocab{Model: "llama", Tokens: []string{"<unk>", "<s>", "</s>"},
		Types: []tokenizer.TokenType{tokenizer.TypeUnknown, tokenizer.TypeControl, tokenizer.TypeControl}}
	for b := range 256 {
		spm.Tokens = append(spm.Tokens, fmt.Sprintf("<0x%02X>", b))
		spm.Types = append(spm.Types, tokenizer.TypeByte)
	}
	seen = map[string]bool{}
	for _, p := range trickyPieces {
		if p = strings.ReplaceAll(p, " ", "▁"); !seen[p] && utf8.ValidString(p) {
			seen[p] = true
			spm.Tokens = append(spm.Tokens, p)
			spm.Types = append(spm.Types, tokenizer.TypeNormal)
		}
	}
	var out []*tokenizer.Tokenizer
	for _, v := range []*tokenizer.Vocab{&bpe, &spm} {
		tok, err := tokenizer.New(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tok)
	}
	return out
}

// TestMaskSynthetic: on small vocabularies made of the tricky pieces, long random walks under
// random rules, every mask bit equal to the reference's.
func TestMaskSynthetic(t *testing.T) {
	walks, steps := 400, 30
	if testing.Short() {
		walks = 60
	}
	for ti, tok := range syntheticTokenizers(t) {
		v := Prepare(tok)
		if v.clean != (ti == 0) {
			t.Fatalf("tokenizer %d: clean-up detected %v", ti, v.clean)
		}
		n := tok.VocabSize()
		rng := rand.New(rand.NewPCG(uint64(ti), 3))
		allowed := make([]uint32, (n+31)/32)
		for w := range walks {
			rules := randomRules(rng)
			s := NewState(v, rules)
			rf := &ref{tok: tok, c: compile(rules), clean: v.clean}
			wk := &walker{rng: rng, tok: tok, targets: targets(rules)}
			var ids []int
			for step := range steps {
				s.Mask(allowed)
				want := rf.expected(ids, n)
				for id := range n {
					if got := allowed[id/32]>>(id%32)&1 == 1; got != want[id] {
						t.Fatalf("tokenizer %d walk %d step %d, rules %+v, after %q (%v): token %d %q: mask %v, reference %v",
							ti, w, step, rules, tok.Decode(ids), ids, id, tok.Piece(id), got, want[id])
					}
				}
				next := wk.pick(allowed, n)
				if tok.IsEOG(next) {
					break
				}
				ids = append(ids, next)
				s.Accept(next)
			}
		}
	}
}
