package assistant

import (
	"errors"
	"strings"
	"unicode"
)

// proseGate stands between the model and the customer: it passes the model's words on as long
// as they read as an answer, and ends the generation at the first that does not.
//
// A word does not read as an answer when it holds a letter of a script the store's own texts do
// not use (a Chinese character in an English store), a character of code rather than prose
// ({, <, =, _, |, a backtick...), or a capital inside a run of lower-case letters ("getList")
// that is not one of the store's own words ("iPhone"); the three words before it are not shown
// either. A word that completes a run of four words the answer already holds (a model repeating
// itself) ends it too, and the repeated words are not shown. So the word being written and the
// three before it are held back until what follows shows them to be fine; flush releases them.
type proseGate struct {
	scripts []*unicode.RangeTable // the store's scripts: letters of others are not prose
	odd     map[string]bool       // the store's own mixed-case words (lower-cased)
	emit    func(string) error
	off     bool // pass every word (Phraser.Ungated)

	word    string   // the word being written
	sep     string   // the space before it: "", " " or "\n"
	held    []string // complete words not shown yet, each with the space before it
	words   []string // every complete word taken, normalised (for the repeat check)
	shown   strings.Builder
	stopped string // why the gate ended the generation ("" while it has not)
}

// errStopped ends a generation whose words stopped reading as an answer (proseGate.stopped).
var errStopped = errors.New("the model's words stopped reading as an answer")

// repeatRun is how many words in a row, already written once, count as the model repeating.
const repeatRun = 4

// Stop reasons.
const (
	stopUnreadable = "unreadable"
	stopRepeating  = "repeating"
	stopCut        = "cut" // at the token limit
)

func newProseGate(s *Store, emit func(string) error) *proseGate {
	scripts, odd := s.proseVocabulary()
	return &proseGate{scripts: scripts, odd: odd, emit: emit}
}

// write takes the next piece of the model's text; it returns errStopped once the words stop
// reading as an answer (the generation should end) or emit's error.
func (g *proseGate) write(text string) error {
	if g.stopped != "" {
		return errStopped
	}
	// bytes, not runes: a piece may end inside a letter's UTF-8 encoding
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			g.word += text[i : i+1]
			continue
		}
		if g.word != "" {
			if err := g.take(g.sep + g.word); err != nil {
				return err
			}
			g.word, g.sep = "", ""
		}
		if c == '\n' {
			g.sep = "\n"
		} else if g.sep == "" {
			g.sep = " "
		}
	}
	return nil
}

// flush shows the words still held when the model ended its answer itself (complete); an
// answer cut at the token limit drops them and the word being written ("It costs €6." may be a
// figure cut short) and is marked stopCut.
func (g *proseGate) flush(complete bool) error {
	if g.stopped != "" {
		return nil
	}
	if !complete {
		g.word, g.held, g.stopped = "", g.held[:0], stopCut
		return nil
	}
	if g.word != "" {
		err := g.take(g.sep + g.word)
		g.word, g.sep = "", ""
		if errors.Is(err, errStopped) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return g.release(len(g.held))
}

// text is what the gate has shown.
func (g *proseGate) text() string { return g.shown.String() }

// take judges one complete word (with the space before it).
func (g *proseGate) take(word string) error {
	if g.off {
		g.held = append(g.held, word)
		return g.release(len(g.held))
	}
	bare := strings.TrimSpace(word)
	if !g.readable(bare) {
		g.stopped = stopUnreadable
		g.held = g.held[:0] // the words just before nonsense are suspect too
		return errStopped
	}
	g.words = append(g.words, normWord(bare))
	if n := len(g.words); n > repeatRun {
		last := g.words[n-repeatRun:]
		for i := 0; i < n-repeatRun; i++ {
			if equalWords(g.words[i:i+repeatRun], last) {
				g.stopped = stopRepeating
				g.held = g.held[:0] // the start of the repeat is not shown
				return errStopped
			}
		}
	}
	g.held = append(g.held, word)
	if len(g.held) >= repeatRun {
		return g.release(1)
	}
	return nil
}

// release shows the first n held words.
func (g *proseGate) release(n int) error {
	var b strings.Builder
	for _, w := range g.held[:n] {
		if g.shown.Len() == 0 && b.Len() == 0 {
			w = strings.TrimLeft(w, " \n")
		}
		b.WriteString(w)
	}
	g.held = append(g.held[:0], g.held[n:]...)
	if b.Len() == 0 {
		return nil
	}
	g.shown.WriteString(b.String())
	return g.emit(b.String())
}

// readable reports whether a word (without spaces) reads as prose in the store's scripts.
func (g *proseGate) readable(w string) bool {
	prevLower := false
	letters := 0
	for _, r := range w {
		switch {
		case unicode.IsLetter(r):
			if !unicode.In(r, g.scripts...) {
				return false
			}
			if unicode.IsUpper(r) && prevLower && !g.odd[strings.ToLower(strings.Trim(w, proseMarks))] {
				return false
			}
			prevLower = unicode.IsLower(r)
			letters++
		case unicode.IsDigit(r), unicode.Is(unicode.Sc, r), unicode.IsMark(r), unicode.IsSpace(r):
			prevLower = false
		case strings.ContainsRune(proseMarks, r):
			prevLower = false
		default:
			return false
		}
	}
	return letters <= 40
}

// proseMarks are the punctuation marks of prose (anything else that is not a letter, digit,
// combining mark or currency sign is not).
const proseMarks = `.,;:!?'"’‘“”«»„()-–—/%&+°×…·*`

func normWord(w string) string {
	return strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// proseVocabulary returns the scripts of the store's texts (Latin always) and its mixed-case
// words, computed once.
func (s *Store) proseVocabulary() ([]*unicode.RangeTable, map[string]bool) {
	s.proseOnce.Do(func() {
		seen := map[string]bool{"Latin": true}
		s.proseScripts = []*unicode.RangeTable{unicode.Latin}
		s.proseOdd = map[string]bool{}
		add := func(text string) {
			for _, w := range strings.Fields(text) {
				prevLower, odd := false, false
				for _, r := range w {
					if !unicode.IsLetter(r) {
						prevLower = false
						continue
					}
					if !unicode.Is(unicode.Latin, r) {
						for name, t := range unicode.Scripts {
							if !seen[name] && unicode.Is(t, r) {
								seen[name] = true
								s.proseScripts = append(s.proseScripts, t)
							}
						}
					}
					if unicode.IsUpper(r) && prevLower {
						odd = true
					}
					prevLower = unicode.IsLower(r)
				}
				if odd {
					s.proseOdd[strings.ToLower(strings.Trim(w, proseMarks))] = true
				}
			}
		}
		add(s.Info.Name)
		for _, it := range s.Items {
			add(it.Name)
			add(it.Brand)
			add(it.Description)
		}
		for _, c := range s.Categories {
			add(c.Name)
		}
		for _, f := range s.FAQs {
			add(f.Question)
			add(f.Answer)
		}
	})
	return s.proseScripts, s.proseOdd
}
