package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"aisle/sync/catalog"
)

// The test binary doubles as a fake `slm` (AISLE_EVAL_FAKE_SLM=1): it checks the command line
// and the files it is given, and answers every question with its position, its conversation
// and its device, so that the harness's ordering and device split can be checked.
func TestMain(m *testing.M) {
	if os.Getenv("AISLE_EVAL_FAKE_SLM") == "1" {
		os.Exit(fakeSLM(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeSLM(args []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, format+"\n", a...)
		return 1
	}
	if len(args) == 0 || args[0] != "ask" {
		return fail("want ask, got %q", args)
	}
	var catalogPath, questions, model string
	staff, asJSON := false, false
	for i := 1; i < len(args); i++ {
		switch args[i] {
		case "-catalog":
			i++
			catalogPath = args[i]
		case "-questions":
			i++
			questions = args[i]
		case "-m":
			i++
			model = args[i]
		case "--staff":
			staff = true
		case "--json":
			asJSON = true
		default:
			return fail("unknown argument %q", args[i])
		}
	}
	if !asJSON || catalogPath == "" || questions == "" {
		return fail("missing --json, -catalog or -questions: %q", args)
	}
	f, err := os.Open(catalogPath)
	if err != nil {
		return fail("%v", err)
	}
	sf, err := catalog.ParseStoreFile(f)
	f.Close()
	if err != nil {
		return fail("%s", catalog.FirstProblem(err))
	}
	qf, err := os.Open(questions)
	if err != nil {
		return fail("%v", err)
	}
	defer qf.Close()
	enc := json.NewEncoder(os.Stdout)
	sc := bufio.NewScanner(qf)
	for n := 1; sc.Scan(); n++ {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return fail("line %d: %v", n, err)
		}
		for k := range line {
			if k != "q" && k != "conversation" {
				return fail("line %d carries %q", n, k)
			}
		}
		conv, _ := line["conversation"].(string)
		enc.Encode(Output{Q: line["q"].(string), Intent: IntentOffTopic,
			Answer: fmt.Sprintf("store=%s n=%d conv=%s staff=%v model=%s", sf.Store.ID, n, conv, staff, model), Facts: []Fact{}})
	}
	return 0
}

func TestSLMHarness(t *testing.T) {
	t.Setenv("AISLE_EVAL_FAKE_SLM", "1")
	sets, err := LoadDir(evalDir)
	if err != nil {
		t.Fatal(err)
	}
	var set Set
	for _, s := range sets {
		if s.Name == "corner-pharmacy" {
			set = s
		}
	}
	outs, err := Ask(set, SLM(context.Background(), os.Args[0], "tiny.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != len(set.Questions) {
		t.Fatalf("%d outputs for %d questions", len(outs), len(set.Questions))
	}
	n := map[bool]int{}
	for i, q := range set.Questions {
		n[q.Staff]++
		want := fmt.Sprintf("store=corner-pharmacy n=%d conv=%s staff=%v model=tiny.gguf", n[q.Staff], q.Conversation, q.Staff)
		if outs[i].Q != q.Q || outs[i].Answer != want {
			t.Errorf("question %d %q: got %q %q, want %q", i, q.Q, outs[i].Q, outs[i].Answer, want)
		}
	}
	if n[true] == 0 || n[false] == 0 {
		t.Errorf("devices: %v", n)
	}
	// the fake's answers state figures no fact holds: every one is caught
	rep := Score(set.Store, set.Questions, outs)
	if tot := rep.Total(); tot.Total != len(set.Questions) || tot.WrongFigures != tot.Total {
		t.Errorf("fake answers scored %+v", tot)
	}

	t.Setenv("AISLE_EVAL_FAKE_SLM", "")
	if _, err := Ask(set, SLM(context.Background(), "/nonexistent/slm", "")); err == nil || !strings.Contains(err.Error(), "nonexistent") {
		t.Errorf("a missing binary: %v", err)
	}
}
