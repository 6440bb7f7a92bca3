package eval

import (
	"fmt"
	"sort"
	"strings"
)

// Report holds the verdicts of one or more scored sets.
type Report struct {
	Results []Result
}

// Tally counts verdicts.
type Tally struct {
	Total        int `json:"total"`
	Correct      int `json:"correct"`
	WrongFigures int `json:"wrong_figures"` // answers with at least one wrong figure
	Leaks        int `json:"staff_leaks"`   // answers with at least one staff leak
	// OwnWords counts the correct answers that are a model's words alone (Output.Phrasing
	// "model": no sentence of the facts added).
	OwnWords int `json:"own_words"`
}

func (t *Tally) add(r Result) {
	t.Total++
	if r.Correct {
		t.Correct++
		if r.Output != nil && r.Output.Phrasing == "model" {
			t.OwnWords++
		}
	}
	if len(r.WrongFigures) > 0 {
		t.WrongFigures++
	}
	if len(r.Leaks) > 0 {
		t.Leaks++
	}
}

// Accuracy is Correct/Total (0 for an empty tally).
func (t Tally) Accuracy() float64 {
	if t.Total == 0 {
		return 0
	}
	return float64(t.Correct) / float64(t.Total)
}

// Row is one line of a table: a key (an intent, a tag, a store) and its tally.
type Row struct {
	Key string `json:"key"`
	Tally
}

// Merge joins reports.
func Merge(reports ...Report) Report {
	var out Report
	for _, r := range reports {
		out.Results = append(out.Results, r.Results...)
	}
	return out
}

// Total tallies every result.
func (r Report) Total() Tally {
	var t Tally
	for _, res := range r.Results {
		t.add(res)
	}
	return t
}

// ByIntent tallies by expected intent, in the order of [Intents].
func (r Report) ByIntent() []Row {
	m := map[string]*Tally{}
	for _, res := range r.Results {
		k := res.Question.Expect.Intent
		if m[k] == nil {
			m[k] = &Tally{}
		}
		m[k].add(res)
	}
	var rows []Row
	for _, i := range Intents {
		if t := m[i]; t != nil {
			rows = append(rows, Row{i, *t})
			delete(m, i)
		}
	}
	for _, k := range sortedKeys(m) {
		rows = append(rows, Row{k, *m[k]})
	}
	return rows
}

// ByTag tallies by tag (a question counts once under each of its tags), sorted by tag.
func (r Report) ByTag() []Row { return r.by(func(res Result) []string { return res.Question.Tags }) }

// BySet tallies by store.
func (r Report) BySet() []Row { return r.by(func(res Result) []string { return []string{res.Set} }) }

func (r Report) by(keys func(Result) []string) []Row {
	m := map[string]*Tally{}
	for _, res := range r.Results {
		for _, k := range keys(res) {
			if m[k] == nil {
				m[k] = &Tally{}
			}
			m[k].add(res)
		}
	}
	rows := make([]Row, 0, len(m))
	for _, k := range sortedKeys(m) {
		rows = append(rows, Row{k, *m[k]})
	}
	return rows
}

// Failures returns the results that are not correct.
func (r Report) Failures() []Result {
	var out []Result
	for _, res := range r.Results {
		if !res.Correct {
			out = append(out, res)
		}
	}
	return out
}

// Dangerous returns the results with a wrong figure or a staff leak.
func (r Report) Dangerous() []Result {
	var out []Result
	for _, res := range r.Results {
		if len(res.WrongFigures) > 0 || len(res.Leaks) > 0 {
			out = append(out, res)
		}
	}
	return out
}

// Table renders rows as a Markdown table under a first column named head.
func Table(head string, rows []Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| %s | total | correct | %% | wrong figures | staff leaks |\n|---|---:|---:|---:|---:|---:|\n", head)
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %.1f | %d | %d |\n", r.Key, r.Total, r.Correct, 100*r.Accuracy(), r.WrongFigures, r.Leaks)
	}
	return b.String()
}

// Markdown renders the report: totals, a table per intent, per store and per tag, and up to
// maxFailures failures with their reasons (dangerous ones first).
func (r Report) Markdown(maxFailures int) string {
	var b strings.Builder
	t := r.Total()
	fmt.Fprintf(&b, "**%d/%d correct (%.1f%%), %d answers with a wrong figure, %d with a staff leak.**\n\n",
		t.Correct, t.Total, 100*t.Accuracy(), t.WrongFigures, t.Leaks)
	if t.OwnWords > 0 {
		fmt.Fprintf(&b, "Correct in the model's own words (no sentence of the facts added): %d/%d (%.1f%%).\n\n",
			t.OwnWords, t.Total, 100*float64(t.OwnWords)/float64(t.Total))
	}
	b.WriteString(Table("intent", append(r.ByIntent(), Row{"**all**", t})))
	b.WriteString("\n")
	b.WriteString(Table("store", r.BySet()))
	b.WriteString("\n")
	b.WriteString(Table("tag", r.ByTag()))
	fails := r.Failures()
	sort.SliceStable(fails, func(i, j int) bool {
		di := len(fails[i].WrongFigures)+len(fails[i].Leaks) > 0
		dj := len(fails[j].WrongFigures)+len(fails[j].Leaks) > 0
		return di && !dj
	})
	if len(fails) > 0 && maxFailures != 0 {
		fmt.Fprintf(&b, "\n### Failures (%d)\n\n", len(fails))
		for i, f := range fails {
			if maxFailures > 0 && i == maxFailures {
				fmt.Fprintf(&b, "- ... and %d more\n", len(fails)-i)
				break
			}
			b.WriteString("- " + f.Line() + "\n")
		}
	}
	return b.String()
}

// Line renders one result on one line: question, what came back, and every reason.
func (res Result) Line() string {
	id := res.Question.ID
	if id == "" {
		id = res.Set
	}
	got := "(no output)"
	if res.Output != nil {
		got = fmt.Sprintf("%s %q", res.Output.Intent, truncate(res.Output.Answer, 100))
	}
	var why []string
	for _, w := range res.WrongFigures {
		why = append(why, "WRONG FIGURE: "+w)
	}
	for _, l := range res.Leaks {
		why = append(why, "STAFF LEAK: "+l)
	}
	why = append(why, res.Reasons...)
	dev := ""
	if res.Question.Staff {
		dev = " [staff]"
	}
	return fmt.Sprintf("`%s`%s %q (want %s) -> %s: %s", id, dev, res.Question.Q, res.Question.Expect.Intent, got, strings.Join(why, "; "))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}

// Transcripts writes up to max of the report's conversations (questions sharing a
// Conversation ID, in order; staff ones marked) as Markdown, each turn with the answer given
// and its verdict.
func (r Report) Transcripts(max int) string {
	type conv struct {
		set, id string
		staff   bool
		turns   []Result
	}
	var convs []*conv
	byKey := map[string]*conv{}
	for _, res := range r.Results {
		q := res.Question
		if q.Conversation == "" {
			continue
		}
		key := fmt.Sprintf("%s/%s/%v", res.Set, q.Conversation, q.Staff)
		c := byKey[key]
		if c == nil {
			c = &conv{set: res.Set, id: q.Conversation, staff: q.Staff}
			byKey[key] = c
			convs = append(convs, c)
		}
		c.turns = append(c.turns, res)
	}
	var b strings.Builder
	for i, c := range convs {
		if i == max {
			break
		}
		device := "customer"
		if c.staff {
			device = "staff"
		}
		fmt.Fprintf(&b, "**%s, conversation %s (%s device)**\n\n", c.set, c.id, device)
		for _, t := range c.turns {
			answer, verdict := "(no answer)", "correct"
			if t.Output != nil {
				answer = t.Output.Answer
			}
			if !t.Correct {
				verdict = "not correct: " + strings.Join(t.Reasons, "; ")
			}
			fmt.Fprintf(&b, "> **Q:** %s  \n> **A:** %s  \n> *%s*\n\n", t.Question.Q, answer, verdict)
		}
	}
	return b.String()
}
