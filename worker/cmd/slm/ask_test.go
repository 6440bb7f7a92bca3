package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const pharmacy = "../../assistant/testdata/eval/corner-pharmacy.json"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The contract: one JSON object per question, in order, with q, intent, answer and facts;
// conversations continue across lines with the same ID; flags may follow the question.
func TestAsk(t *testing.T) {
	out, err := slm(t, "ask", "-catalog", pharmacy, "how much is the ibuprofen")
	if err != nil || !strings.Contains(out, "6.95") || strings.Count(out, "\n") != 1 {
		t.Fatalf("text answer %q, %v", out, err)
	}
	out, err = slm(t, "ask", "-catalog", pharmacy, "where r the aa batteries", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var a askJSON
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.Intent != "location" || len(a.Facts) != 1 || a.Facts[0].SKU != "HH-0403" {
		t.Fatalf("json answer %q: %+v %v", out, a, err)
	}

	qs := writeFile(t, "q.jsonl", `{"q": "do you have sunscreen?", "conversation": "c1"}
{"q": "Do you still have PH-0102?"}

{"q": "how much is it", "conversation": "c1", "expect": {"intent": "price"}}
{"q": "do you sell bicycles?"}
`)
	out, err = slm(t, "ask", "-catalog", pharmacy, "-questions", qs, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]json.RawMessage
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		for _, k := range []string{"q", "intent", "answer", "facts"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %q lacks %q", sc.Text(), k)
			}
		}
		rows = append(rows, m)
	}
	if len(rows) != 4 {
		t.Fatalf("%d output lines for 4 questions:\n%s", len(rows), out)
	}
	intent := func(i int) string { var s string; json.Unmarshal(rows[i]["intent"], &s); return s }
	if intent(0) != "availability" || intent(1) != "availability" || intent(2) != "price" || intent(3) != "unknown_item" {
		t.Errorf("intents %s %s %s %s", intent(0), intent(1), intent(2), intent(3))
	}
	if !strings.Contains(string(rows[2]["answer"]), "12.99") {
		t.Errorf("the follow-up did not continue conversation c1: %s", rows[2]["answer"])
	}
}

// Staff fields only with --staff.
func TestAskStaff(t *testing.T) {
	customer, err := slm(t, "ask", "-catalog", pharmacy, "--json", "how many ibuprofen are in the back?")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(customer, `"staff":`) || strings.Contains(customer, "40 in") || strings.Contains(customer, "backroom") {
		t.Errorf("customer device: %s", customer)
	}
	staff, err := slm(t, "ask", "-catalog", pharmacy, "--staff", "--json", "how many ibuprofen are in the back?")
	if err != nil || !strings.Contains(staff, "40 in the back room") || !strings.Contains(staff, `"backroom":40`) {
		t.Errorf("staff device: %s %v", staff, err)
	}
}

// Bad input ends with one line naming the problem and its line or field.
func TestAskBadInput(t *testing.T) {
	noSKU := writeFile(t, "s.json", `{"store": {"id": "s", "name": "S", "timezone": "UTC"},
"products": [
 {"sku": "A", "name": "Apple", "price": 1, "currency": "EUR", "stock": 1},
 {"name": "Pear", "price": 1, "currency": "EUR", "stock": 1}]}`)
	negative := writeFile(t, "n.json", `{"store": {"id": "s", "name": "S", "timezone": "UTC"},
"products": [{"sku": "A", "name": "Apple", "price": -2.5, "currency": "EUR", "stock": 1}]}`)
	broken := writeFile(t, "b.json", `{"store": {"id": "s", "name": "S", "timezone": "UTC"}, "products": [`)
	badLine := writeFile(t, "q.jsonl", "{\"q\": \"hi\"}\nnot json\n")
	emptyQ := writeFile(t, "e.jsonl", "{\"q\": \"  \"}\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ask", "-catalog", "/no/such/file.json", "hi"}, "no such file"},
		{[]string{"ask", "-catalog", noSKU, "hi"}, "line 4: products[1].sku: is required"},
		{[]string{"ask", "-catalog", negative, "hi"}, "products[0].price: must not be negative"},
		{[]string{"ask", "-catalog", broken, "hi"}, "malformed JSON"},
		{[]string{"ask", "-catalog", pharmacy, "-questions", badLine, "--json"}, "line 2: not a JSON object"},
		{[]string{"ask", "-catalog", pharmacy, "-questions", emptyQ, "--json"}, "line 1: q: is empty"},
		{[]string{"ask", "-catalog", pharmacy, ""}, "the question is empty"},
		{[]string{"ask", "hi"}, "-catalog STORE.json is required"},
	} {
		_, err := slm(t, tc.args...)
		if err == nil || !strings.Contains(oneLine(err.Error()), tc.want) {
			t.Errorf("%v: error %v, want one naming %q", tc.args, err, tc.want)
		}
	}
}
