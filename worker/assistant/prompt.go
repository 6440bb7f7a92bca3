package assistant

import (
	"fmt"
	"strconv"
	"strings"

	"aisle/worker/chat"
)

// The model's prompt. Its stable part (persona, store name and hours, rules) comes first and
// never changes within a conversation, so the engine reuses its keys and values on every turn;
// then the conversation as it was evaluated; then, in the last user turn, the facts for this
// question just before it:
//
//	system: You are the assistant of Corner Pharmacy & Household, ...
//	user:   Facts:
//	        - Ibuprofen 400 mg, 20 tablets (Nurofen): €6.95, 14 in stock, aisle 2A, SKU PH-0101
//	        Intent: price
//	        Customer: how much is the ibuprofen
//	assistant: Ibuprofen 400 mg costs €6.95 and you'll find it in aisle 2A.
//
// Training data for the bundled model is written with these same functions, so training and
// serving cannot drift.

// SystemPrompt is the stable first message of every conversation with store s.
func (s *Store) SystemPrompt() string {
	var b strings.Builder
	fmt.Fprintf(&b, "You are the shopping assistant of %s.", s.Info.Name)
	if s.Staff {
		b.WriteString(" You are talking to a member of staff.")
	}
	if h := s.hoursFAQ(); h != nil {
		fmt.Fprintf(&b, " Opening hours: %s", oneLine(h.Answer))
	}
	b.WriteString("\nAnswer in one or two friendly sentences, using only the facts given with the question. " +
		"Never guess a price, a quantity or an aisle. If we do not carry something, say so plainly. " +
		"If a question is not about the store, say politely that you can only help with the store.")
	return b.String()
}

// UserTurn is the user message of one question as the model sees it: the facts, the intent and
// the question.
func UserTurn(a Answer, question string) string {
	var b strings.Builder
	lines := FactLines(a)
	if len(lines) > 0 {
		b.WriteString("Facts:\n")
		for _, l := range lines {
			b.WriteString("- ")
			b.WriteString(l)
			b.WriteByte('\n')
		}
	} else {
		b.WriteString("Facts: none\n")
	}
	fmt.Fprintf(&b, "Intent: %s\n", a.Intent)
	b.WriteString("Customer: ")
	b.WriteString(oneLine(question))
	return b.String()
}

// FactLines renders the facts of an answer one per line, as the model reads them.
func FactLines(a Answer) []string {
	var out []string
	for _, f := range a.Facts {
		switch f.Type {
		case "product":
			var b strings.Builder
			b.WriteString(f.Name)
			if f.Brand != "" && !strings.Contains(strings.ToLower(f.Name), strings.ToLower(f.Brand)) {
				fmt.Fprintf(&b, " (%s)", f.Brand)
			}
			b.WriteString(": ")
			b.WriteString(Money(int64(*f.Price), f.Currency))
			if p := f.Promotion; p != nil {
				fmt.Fprintf(&b, ", now %s with %s (%d%% off)", Money(int64(p.Price), f.Currency), p.Title, p.Percent)
			}
			switch q := *f.Quantity; {
			case q <= 0:
				b.WriteString(", out of stock")
			case q <= FewLeft:
				fmt.Fprintf(&b, ", only %d left", q)
			default:
				fmt.Fprintf(&b, ", %d in stock", q)
			}
			if f.Aisle != "" {
				b.WriteString(", " + aislePhrase(f.Aisle))
			}
			b.WriteString(", SKU " + f.SKU)
			if st := f.Staff; st != nil {
				var parts []string
				if st.Backroom != nil {
					parts = append(parts, strconv.FormatInt(*st.Backroom, 10)+" in the back room")
				}
				if st.Supplier != "" {
					parts = append(parts, "supplier "+st.Supplier)
				}
				if st.Cost != nil {
					parts = append(parts, "cost "+Money(int64(*st.Cost), f.Currency))
				}
				if st.Notes != "" {
					parts = append(parts, "notes: "+oneLine(st.Notes))
				}
				if len(parts) > 0 {
					b.WriteString("; staff only: " + strings.Join(parts, ", "))
				}
			}
			out = append(out, b.String())
		case "faq":
			out = append(out, fmt.Sprintf("FAQ %q: %s", oneLine(f.Question), oneLine(f.Answer)))
		case "category":
			l := "Category " + f.Name
			if len(f.Aisles) > 0 {
				var ps []string
				for _, x := range f.Aisles {
					ps = append(ps, aislePhrase(x))
				}
				l += ": " + strings.Join(ps, ", ")
			}
			out = append(out, l)
		case "store":
			out = append(out, "Store: "+f.Name)
		}
	}
	if a.refused {
		out = append(out, "Back-room stock, suppliers and costs are for staff devices only.")
	}
	if a.Intent == IntentUnknownItem {
		if m := safeMention(a.mention); m != "" {
			out = append(out, "Not carried: "+m)
		} else {
			out = append(out, "Not carried: what the customer asked for")
		}
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Messages are the conversation as the model sees it: the system prompt, the earlier turns as
// they were evaluated, and the user turn of the last question asked (without its answer).
func (c *Conversation) Messages() []chat.Message {
	out := []chat.Message{{Role: "system", Content: c.s.SystemPrompt()}}
	n := len(c.turns)
	if n > 0 && c.turns[n-1].Role == "assistant" {
		n--
	}
	return append(out, c.turns[:n]...)
}
