// Package constrain holds generated text to plain rules by masking the vocabulary before each
// token: every figure word the text states must be one of the allowed figures, and no forbidden
// phrase may appear as whole words. It knows nothing about retail: the assistant turns an
// answer's facts into Rules; this package makes any model, on any backend, keep to them.
//
// # Use
//
//	v := constrain.Prepare(tok)          // once per tokenizer (cached)
//	s := constrain.NewState(v, rules)    // once per generation
//	req.Filter = s                       // the engine calls s.Mask before each token, s.Accept after
//	...
//	violations := constrain.Check(rules, res.Text) // the last guard on any finished text
//
// # What the mask allows
//
// The text is read as the engine's decoder renders it: SentencePiece "▁" is a space, byte tokens
// are bytes, a character may be split across tokens, the first piece may lose a leading space,
// and in vocabularies whose decoder cleans up tokenization spaces (llama.cpp's
// clean_up_tokenization_spaces: starcoder, llama-bpe) a space before "." or "," vanishes, so "6"
// + " .95" reads "6.95". A token is allowed when the text with it still keeps the rules and can
// still be finished within them:
//
//   - inside a figure word, only what keeps it a prefix of an allowed figure; ending it (a
//     boundary, a separator that turns out not to be inner, end of generation) only where it is
//     whole; a run of letters without a digit is free;
//   - never a token that completes a forbidden phrase followed by a word boundary;
//   - never what leaves a dead end: a separator, a held-back space or an incomplete character
//     that no continuation could resolve within the rules ("5-" when the only figure starting
//     with 5 is "5kg"; the first bytes of a character all of whose completions are letters,
//     after "5-");
//   - never control or unknown tokens (as rendered they are nothing), tokens that render as
//     nothing, or bytes that cannot be UTF-8;
//   - end-of-generation tokens where the text may end.
//
// The mask is never empty: when no token fits (after Accept of a token the mask did not allow,
// or rules that contradict themselves, such as a figure that is also a forbidden phrase), end of
// generation is allowed. A text cut short by MaxTokens or a stop string may end inside a figure;
// Complete says whether the text so far could end, and Check reports what a cut text breaks.
//
// # How it is fast
//
// Prepare classifies every token once by what its first character does to a figure run the
// text may be in (a boundary, a letter or digit, a separator followed by a letter or digit, by a
// boundary, or alone, a held-back space, an incomplete character) and keeps, for each class, a
// bitset over the vocabulary, plus: the tokens holding a digit; whether the run a token continues
// gets a digit from it; the words that are whole inside tokens (an index from word to tokens); a
// two-level index of tokens by the first two bytes of their folded text. NewState compiles the
// rules into a byte trie of folded figures, a byte trie of the phrases' words with an
// Aho-Corasick automaton over word ids, and runs only the few tokens holding a digit through the
// automaton to fold the rules into per-class bitsets. A step then costs a few passes of word
// operations over these bitsets (the state decides which classes are allowed: can the run end
// here, does it hold a digit, is a separator pending) plus exact checks of the few tokens whose
// outcome depends on the state in more detail: those whose first two bytes continue the figure or
// forbidden word the text is in, those in which a forbidden word is whole, and a few dozen odd
// ones. The tests hold every bit of the mask to a brute-force reference (TestMaskMatchesReference)
// on SentencePiece and byte-level BPE vocabularies.
//
// # Measured
//
// On the 2-core project machine (shared: load average 1.5-3 while measuring), with 40 figures and
// 200 forbidden phrases along a store answer of 117-153 tokens (BenchmarkMask: mean cost of one
// step, Mask then Accept; TestMaskCostPerState -v logs the worst step, caches cold after Accept;
// BenchmarkPrepare, BenchmarkNewState):
//
//	vocabulary                 tokens   mean step   worst step   Prepare   NewState
//	llama-spm (SentencePiece)  32000     2.4 µs        -          4.6 ms      -
//	starcoder (BPE, clean-up)  49152     4.8 µs      39 µs        7.5 ms    0.25 ms
//	llama-bpe (BPE, clean-up)  128256   10.6 µs      45 µs         22 ms    0.41 ms
//	qwen2 (BPE)                151936   11.5 µs      62 µs         30 ms    0.33 ms
//
// Under heavier load (4-10) the same figures were 2-3 times higher. The first Prepare in a
// process also builds the table of the character classes each incomplete UTF-8 prefix can become
// (about 1.5 ms). Inside a real generation (the engine's BenchmarkConstrainedDecode: a
// SmolLM2-135M-shaped Q8_0 model on the CPU backend, 64 greedy tokens) Mask and Accept took 41
// µs per token with the starcoder vocabulary and 39 µs with llama-bpe, caches as the forward pass
// leaves them, against decode steps of 9.6 and 11.6 ms: 0.43% and 0.34% of a step.
package constrain
