package tokenizer

import (
	"math/rand/v2"
	"strings"
)

// corpusFixed are hand-picked strings that exercise the pre-tokenizers' corners.
var corpusFixed = []string{
	"", " ", "  ", "   ", "\t", "\n", "\n\n", "\n\n\n", "\t\n", " \n", "\n ", " \n \n ", "\r\n", "\r\n\r\n", "a\r\nb",
	"Hello world", " Hello world", "Hello World", " Hello World!", "Hello, world!", "  Hello", "    Hello\n    Hello",
	"hello   world", "hello \t world", "end with spaces   ", "   lead", "x\u00a0y", "x\u2003\u2003y", "x\u3000y",
	"x \u00a0 y", "\u00a0\u00a0", "tab\tseparated\tvalues", "line1\nline2\n\nline4",
	"I'm", "you're", "we've", "he'll", "she'd", "it's", "don't", "I'M", "YOU'RE", "WE'VE", "HE'LL", "It'S",
	"'s", "'", "''", "' '", "rock 'n' roll", "the dog's bone", "O'Neil", "l'homme", "x's y'S z'Ll",
	"3", "33", "333", "3333", "33333", "333333", "3333333", "1234567890", "3.14159", "1,000,000", "-42", "+7e-3",
	"0x1F 0b1010 0o17", "v1.2.3", "2026-11-24T05:30:00Z", "phone: +1 (555) 123-4567", "١٢٣٤٥", "٣٣٣", "Ⅻ Ⅷ ½ ¼ ²³",
	"func main() {\n\tfmt.Println(\"hi\")\n}\n", "if (a && b) || !c { return x[i] + y->z; }",
	"def f(x):\n    return x**2  # square\n", "<div class=\"a\">text</div>", "SELECT * FROM t WHERE id = 1;",
	"a\\b\\c", "~/.config/app.json", "https://example.com/path?q=1&r=2#frag", "user@example.com",
	"{\"key\": [1, 2, {\"n\": null}]}", "$$$ ### @@@ %%% ^^^", "!!!???...,,,", "...", "—–-", "«quoted»", "“smart” ‘quotes’",
	"нещо на Български", "Привет, мир!", "Ελληνικά γράμματα", "日本語のテキスト", "中文文本，标点。", "한국어 텍스트",
	"हिन्दी पाठ", "العربية نص", "עברית", "ไทย ภาษา", "Tiếng Việt có dấu", "ẞ straße", "Ǆǅǆ", "İstanbul ıi",
	"កាន់តែពិសេសអាចខលចេញ", "ᏣᎳᎩ", "𐐀𐐁 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "e\u0301 combining", "a\u0308\u0304", "\u200b\u200c\u200d", "\ufeffBOM",
	"🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ (only emoji that has its own token)", "👍🏽", "👨‍👩‍👧‍👦",
	"🏳️‍🌈", "🇫🇷🇩🇪", "❤️", "😀😃😄😁", "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～",
	" this is 🦙.cpp", "w048 7tuijk dsdfhu", "ied 4 ½ months", "Äpfel", "\u0000", "\u0001\u0002", "\u007f",
	"\u0085next line", "\u2028\u2029", "\ue000 private", "\U0010FFFF", "\u2ffc\u31ef", "\U0002EBF0", "\U0001F9A9",
	" ?", " !", " .", " ,", "a ? b ! c . d , e", " ' ", "a ' b", " 's", " 'm", " 're", " 've", " 'll", " 'd", " 't",
	"price: $9.99 (20% off)", "C++ and C# and F#", "snake_case camelCase PascalCase kebab-case",
	"Λ λ Σ σ ς", "Ⓐⓑ", "ａｂｃ ＡＢＣ １２３", "ﬁ ﬂ", "µ", "Ω", "K",
}

// corpusPieces are the building blocks of the generated strings.
var corpusPieces = []string{
	"the", "The", "quick", "brown", "FOX", "jumps", "über", "naïve", "café", "Straße", "déjà",
	" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\u00a0", "\u3000",
	"0", "7", "42", "123", "2026", "3.5", "1e9", "٣", "½",
	"'s", "'t", "'re", "'ll", "'D", "'", "\"", "`", "(", ")", "[", "]", "{", "}", "<", ">", "/", "\\",
	".", ",", "!", "?", ";", ":", "-", "_", "=", "+", "*", "&", "|", "^", "%", "$", "#", "@", "~",
	"你好", "世界", "日本", "カタカナ", "ひらがな", "한국", "Привет", "мир", "Ελλάδα", "עולם", "مرحبا", "नमस्ते", "ไทย",
	"🙂", "🚀", "👍🏽", "😶‍🌫️", "✅", "🦙", "🇯🇵", "e\u0301", "\u200d",
	"func", "return", "x := 1", "a->b", "i++", "//", "/*", "*/", "<html>", "&amp;", "::", "=>", "!=", "==",
}

// diffCorpus returns the strings compared with llama.cpp: the fixed ones, then n generated
// ones (deterministic).
func diffCorpus(n int) []string {
	out := append([]string(nil), corpusFixed...)
	r := rand.New(rand.NewPCG(1, 2))
	for range n {
		k := 1 + r.IntN(12)
		var sb strings.Builder
		for range k {
			sb.WriteString(corpusPieces[r.IntN(len(corpusPieces))])
		}
		out = append(out, sb.String())
	}
	return out
}

// specialCorpus embeds the vocabulary's special tokens (control, user-defined, unknown) in
// text, with spaces and newlines around them.
func specialCorpus(t *Tokenizer, n int) []string {
	var specials []string
	for _, id := range t.specials {
		specials = append(specials, t.tokens[id])
	}
	if len(specials) == 0 {
		return nil
	}
	fillers := []string{"", " ", "\n", "  ", "Hello", " world", "user\n", "x", "\n\n", "3", "你好", "🙂"}
	r := rand.New(rand.NewPCG(3, 4))
	var out []string
	for range n {
		var sb strings.Builder
		for range 1 + r.IntN(5) {
			sb.WriteString(fillers[r.IntN(len(fillers))])
			sb.WriteString(specials[r.IntN(min(len(specials), 40))])
			sb.WriteString(fillers[r.IntN(len(fillers))])
		}
		out = append(out, sb.String())
	}
	return out
}
