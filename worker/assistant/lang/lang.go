// Package lang is the assistant's text normalisation, shared by the store index, the question
// parser and the embedding: words without case or accents, a light English stemmer, chat-speak
// expansion ("r u open" -> "are you open"), and units ("1.5L" -> "1.5 l").
//
// Everything here is deterministic and allocation-light: a question is normalised once per turn
// and a catalog once per checkpoint.
package lang

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Word is one word of a text.
type Word struct {
	Norm  string // lower case, accents and apostrophes removed, chat-speak expanded: "dont", "are"
	Stem  string // Stem(Norm) for letter words; Norm for numbers
	Num   bool   // a number: digits with at most one decimal separator ("1.5", "300")
	Start int    // byte offsets of the word in the original text
	End   int
}

// Words splits text into words. Letters and digits form separate words ("500g" -> "500", "g";
// "spf50" -> "spf", "50"); a decimal point or comma between digits stays inside a number
// ("1.5", "2,49" -> "2.49"); apostrophes inside words are dropped ("don't" -> "dont").
// Chat-speak is expanded in Norm (see Slang).
func Words(text string) []Word {
	out := make([]Word, 0, len(text)/5+1)
	var buf [64]byte // a word's folded letters, when they are ASCII
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !isLetter(r) && !unicode.IsDigit(r) {
			i += n
			continue
		}
		start := i
		var b strings.Builder
		if unicode.IsDigit(r) {
			sep := false
			for i < len(text) {
				r, n = utf8.DecodeRuneInString(text[i:])
				switch {
				case r >= '0' && r <= '9':
					b.WriteRune(r)
					i += n
				case (r == '.' || r == ',') && !sep && i+1 < len(text) && text[i+1] >= '0' && text[i+1] <= '9' && b.Len() > 0:
					sep = true
					b.WriteByte('.')
					i += n
				case unicode.IsDigit(r): // other scripts' digits
					b.WriteRune(r)
					i += n
				default:
					goto doneNum
				}
			}
		doneNum:
			w := b.String()
			out = append(out, Word{Norm: w, Stem: w, Num: true, Start: start, End: i})
			continue
		}
		// ASCII letters fold in place; anything else goes through the builder
		ascii := buf[:0]
		for i < len(text) && len(ascii) < len(buf) {
			c := text[i]
			if 'a' <= c && c <= 'z' {
				ascii = append(ascii, c)
			} else if 'A' <= c && c <= 'Z' {
				ascii = append(ascii, c+'a'-'A')
			} else {
				break
			}
			i++
		}
		if i == len(text) || !isWordByte(text[i]) {
			w := collapseRepeats(string(ascii))
			out = append(out, Word{Norm: w, Start: start, End: i})
			continue
		}
		b.Write(ascii)
		for i < len(text) {
			r, n = utf8.DecodeRuneInString(text[i:])
			if isLetter(r) {
				foldInto(&b, r)
				i += n
				continue
			}
			if (r == '\'' || r == '’') && i+n < len(text) {
				r2, _ := utf8.DecodeRuneInString(text[i+n:])
				if isLetter(r2) && b.Len() > 0 {
					i += n
					continue
				}
			}
			break
		}
		w := collapseRepeats(b.String())
		if w == "" {
			continue
		}
		out = append(out, Word{Norm: w, Start: start, End: i})
	}
	for k := range out {
		if !out[k].Num {
			if e, ok := slang[out[k].Norm]; ok {
				out[k].Norm = e
			}
			out[k].Stem = Stem(out[k].Norm)
		}
	}
	return out
}

func isLetter(r rune) bool { return unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) }

// isWordByte reports whether a word may go on at byte c: a letter, an apostrophe or any
// non-ASCII byte (decided on the rune).
func isWordByte(c byte) bool {
	return c >= utf8.RuneSelf || c == '\'' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// foldInto writes r lower-cased without accents.
func foldInto(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
		return
	}
	for _, d := range norm.NFD.String(string(r)) {
		if unicode.Is(unicode.Mn, d) {
			continue
		}
		switch d {
		case 'ß':
			b.WriteString("ss")
			continue
		case 'æ', 'Æ':
			b.WriteString("ae")
			continue
		case 'œ', 'Œ':
			b.WriteString("oe")
			continue
		case 'ø', 'Ø':
			b.WriteString("o")
			continue
		}
		b.WriteRune(unicode.ToLower(d))
	}
}

// collapseRepeats shortens a letter repeated three or more times to one: "helloooo" -> "hello",
// "painkilllers" -> "painkilers" (a typo then left for the fuzzy match).
func collapseRepeats(w string) string {
	for i := 0; i+2 < len(w); i++ {
		if w[i] == w[i+1] && w[i] == w[i+2] {
			var b strings.Builder
			for j := 0; j < len(w); {
				k := j
				for k < len(w) && w[k] == w[j] {
					k++
				}
				if k-j >= 3 {
					b.WriteByte(w[j])
				} else {
					b.WriteString(w[j:k])
				}
				j = k
			}
			if s := b.String(); len(s) >= 3 {
				return s
			}
			return w // "aaa" stays
		}
	}
	return w
}

// Fold returns s lower-cased without accents (the Norm of its letters, keeping every other
// character): "Crème Fraîche" -> "creme fraiche".
func Fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		if isLetter(r) {
			foldInto(&b, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Stems returns the stems of text's words, numbers included, in order.
func Stems(text string) []string {
	ws := Words(text)
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Stem
	}
	return out
}

// slang expands chat-speak and common abbreviations of customers' messages.
var slang = map[string]string{
	"r": "are", "u": "you", "ur": "your", "ya": "you", "yu": "you", "yr": "your", "pls": "please",
	"plz": "please", "plse": "please", "thx": "thanks", "thnx": "thanks", "thanx": "thanks", "tnx": "thanks",
	"ty": "thanks", "tysm": "thanks", "thks": "thanks", "hrs": "hours", "pcs": "pieces", "qty": "quantity",
	"wat": "what", "wht": "what", "wut": "what", "whr": "where", "wher": "where", "whre": "where", "hw": "how",
	"hv": "have", "hav": "have", "cuz": "because", "tmrw": "tomorrow", "tmr": "tomorrow", "2day": "today",
	"smth": "something", "sth": "something", "somethin": "something", "anythin": "anything", "abt": "about",
	"approx": "approximately", "info": "information", "thru": "through", "kk": "ok", "okay": "ok", "hiya": "hi",
	"heya": "hey", "howdy": "hello", "hallo": "hello", "helo": "hello", "hii": "hi", "hai": "hi",
	"mins": "minutes", "wkend": "weekend", "wknd": "weekend", "tues": "tuesday", "thurs": "thursday",
	"xmas": "christmas", "bday": "birthday", "alot": "lot", "cud": "could", "shud": "should", "wud": "would",
	"gud": "good", "gr8": "great", "pharmacie": "pharmacy", "cheep": "cheap", "cheeper": "cheaper", "da": "the",
	"teh": "the", "thr": "there", "ther": "there", "dat": "that", "dis": "this", "ta": "thanks",
	"thnks": "thanks", "tx": "thanks", "cheerz": "cheers", "wen": "when", "wot": "what", "wats": "whats",
	"av": "have", "gt": "got", "sumthing": "something", "nething": "anything", "nethin": "anything",
	"ne1": "anyone", "bt": "but", "prce": "price", "pric": "price", "mch": "much", "muc": "much",
	"aisel": "aisle", "isle": "aisle", "ile": "aisle", "stok": "stock", "stck": "stock",
}

// Expand reports the expansion of a chat-speak word, or the word itself.
func Expand(w string) string {
	if e, ok := slang[w]; ok {
		return e
	}
	return w
}
