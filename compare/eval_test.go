package compare

import (
	"context"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// evalStore holds documents and their current extractions.
type evalStore struct {
	keys []store.DocumentKey
	ext  map[int64]*schema.Extraction
}

func (s evalStore) DocumentKeys(context.Context) ([]store.DocumentKey, error) { return s.keys, nil }

func (s evalStore) Extractions(_ context.Context, _ int64, fn func(store.StoredExtraction) error) error {
	for _, k := range s.keys {
		if x := s.ext[k.ID]; x != nil {
			if err := fn(store.StoredExtraction{DocumentID: k.ID, Extraction: x}); err != nil {
				return err
			}
		}
	}
	return nil
}

func TestParseGoldAndEvaluate(t *testing.T) {
	export, err := ParseGold([]byte(`{"document": {"sha256": "aa", "source": "/in/a.md"}, "extraction": {"theses": []}}`))
	if err != nil || export.Match != Exact || export.SHA256 != "aa" || export.Base != "a.md" {
		t.Fatalf("export record: %+v, %v", export, err)
	}
	hand, err := ParseGold([]byte(`{"document": "notes/b.md", "theses": [{"title": "t", "statement": "s", "stance": "bullish"}]}`))
	if err != nil || hand.Match != Loose || hand.Base != "b.md" || len(hand.Extraction.Theses) != 1 {
		t.Fatalf("hand-written gold: %+v, %v", hand, err)
	}
	if _, err := ParseGold([]byte(`{"document": {"title": "x"}}`)); err == nil {
		t.Error("a record naming no document is accepted")
	}
	missing := hand
	missing.Base, missing.Name = "c.md", "c.json"
	export.Name, hand.Name = "a.jsonl#1", "b.json"
	// a.md is found by hash although stored under another name.
	s := evalStore{
		keys: []store.DocumentKey{{ID: 1, SHA256: "aa", Source: "/x/renamed.md"}, {ID: 2, SHA256: "bb", Source: "/y/b.md"}},
		ext:  map[int64]*schema.Extraction{2: base()},
	}
	rep, err := Evaluate(context.Background(), s, []Gold{export, hand, missing}, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Documents) != 2 || rep.Documents[0].DocumentID != 1 || rep.Documents[1].DocumentID != 2 {
		t.Fatalf("documents %+v", rep.Documents)
	}
	if d := rep.Documents[0]; d.Extracted || d.Match != "exact" || d.Source != "/x/renamed.md" {
		t.Errorf("document 1: %+v", d)
	}
	if d := rep.Documents[1]; !d.Extracted || d.Match != "loose" || d.Fields["stance"].TP != 1 {
		t.Errorf("document 2: %+v", d)
	}
	if len(rep.Missing) != 1 || rep.Missing[0] != "c.json" {
		t.Errorf("missing %v", rep.Missing)
	}
	exact := Exact
	rep, err = Evaluate(context.Background(), s, []Gold{hand}, EvalOptions{Match: &exact})
	if err != nil || rep.Documents[0].Match != "exact" {
		t.Errorf("--match exact not applied: %+v, %v", rep, err)
	}
}
