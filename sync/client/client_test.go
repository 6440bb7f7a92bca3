package client

import (
	"fmt"
	"strings"
	"testing"
)

func TestReadEvents(t *testing.T) {
	in := "retry: 5000\n\n: ping\n\nid: 1\nevent: hello\ndata: {\"a\":1}\n\nevent: checkpoint\ndata: x\ndata: y\n\ndata: plain\n\nevent: partial\ndata: never"
	var got []string
	err := ReadEvents(strings.NewReader(in), func(typ string, data []byte) error {
		got = append(got, typ+"="+string(data))
		return nil
	})
	want := []string{`hello={"a":1}`, "checkpoint=x\ny", "message=plain"}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	big := "data: " + strings.Repeat("x", MaxEventSize+10) + "\n\n"
	if err := ReadEvents(strings.NewReader(big), func(string, []byte) error { return nil }); err == nil {
		t.Fatal("over-long event accepted")
	}
}

func FuzzReadEvents(f *testing.F) {
	f.Add("event: a\ndata: b\n\n")
	f.Add("data:\n\n:\n\nevent\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		n := 0
		_ = ReadEvents(strings.NewReader(s), func(typ string, data []byte) error {
			if len(data) > MaxEventSize {
				t.Fatalf("event of %d bytes", len(data))
			}
			n++
			return nil
		})
		if n > strings.Count(s, "\n")+1 {
			t.Fatalf("%d events from %d lines", n, strings.Count(s, "\n"))
		}
	})
}
