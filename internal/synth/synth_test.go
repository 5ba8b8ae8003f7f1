package synth

import (
	"context"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract/rules"
	"github.com/thesisdb/thesisdb/schema"
)

func TestNotesExtractAsWritten(t *testing.T) {
	units := map[string]int{}
	for n := range 20 {
		text := Note(n, 50)
		if n > 0 && text == Note(n-1, 50) {
			t.Fatalf("notes %d and %d are the same", n-1, n)
		}
		if text != Note(n, 50) {
			t.Fatalf("note %d is not deterministic", n)
		}
		res, err := rules.New().Extract(context.Background(), &schema.Document{Kind: "text", Source: "n.txt", Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(res.Extraction); err != nil {
			t.Fatalf("note %d: %v", n, err)
		}
		x := res.Extraction
		if len(x.Theses) != 1 || x.Theses[0].Conviction == nil || len(x.Theses[0].Views) != 5 {
			t.Fatalf("note %d: %d theses, views %d", n, len(x.Theses), len(x.Theses[0].Views))
		}
		points := x.Theses[0].DataPoints
		if len(points) != 50 {
			t.Fatalf("note %d: %d data points, want 50", n, len(points))
		}
		for _, d := range points {
			if d.Source == nil || *d.Source == "" || !strings.Contains(text, d.Value) {
				t.Errorf("note %d: data point %+v", n, d)
			}
			if q, ok := schema.ParseQuantity(d.Value); ok {
				units[q.Unit]++
			}
		}
	}
	for _, u := range []string{"%", "bp", "x", "USD", ""} {
		if units[u] == 0 {
			t.Errorf("no data point in %q: %v", u, units)
		}
	}
}

func TestPageStarts(t *testing.T) {
	text := Note(7, 50)
	starts := PageStarts(text, 1500)
	if len(starts) < 3 || starts[0] != 0 {
		t.Fatalf("page starts %v", starts)
	}
	runes := []rune(text)
	for i, s := range starts[1:] {
		if s <= starts[i] || s >= len(runes) || runes[s-1] != '\n' {
			t.Fatalf("page %d starts at %d (after %d), not after a line break: %v", i+2, s, starts[i], starts)
		}
		if s-starts[i] < 1500 {
			t.Errorf("page %d is %d characters, want at least 1500", i+1, s-starts[i])
		}
	}
	if got := PageStarts("é\nb\n", 1); len(got) != 2 || got[1] != 2 {
		t.Errorf("PageStarts counts runes: got %v, want [0 2]", got)
	}
}
