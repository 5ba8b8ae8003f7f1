package store

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

func TestDocumentKeys(t *testing.T) {
	db, _, _ := jobFixture(t)
	keys, err := db.DocumentKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 {
		t.Fatalf("%d keys; want 4 (every document, failed ones included)", len(keys))
	}
	seen := map[string]bool{}
	for i, k := range keys {
		if k.ID != int64(i+1) || len(k.SHA256) != 64 || !strings.HasPrefix(k.Source, "note-") || seen[k.SHA256] {
			t.Errorf("key %d: %+v", i, k)
		}
		seen[k.SHA256] = true
	}
}

func TestExtractionsRestoreGrounding(t *testing.T) {
	ctx := context.Background()
	db, r1, _ := jobFixture(t)
	var docs []int64
	err := db.Extractions(ctx, 0, func(s StoredExtraction) error {
		docs = append(docs, s.DocumentID)
		dps := s.Extraction.Theses[0].DataPoints
		if g := dps[0].Ground; g == nil || !g.Grounded || g.Start != 8 || g.End != 44 || g.Method != "stored" {
			t.Errorf("document %d: first data point grounding %+v", s.DocumentID, g)
		}
		if g := dps[1].Ground; g == nil || g.Grounded || g.Method != "" {
			t.Errorf("document %d: second data point grounding %+v", s.DocumentID, g)
		}
		if want := map[int64]schema.Stance{1: schema.Bearish}[s.DocumentID]; want != "" && s.Extraction.Theses[0].Stance != want {
			t.Errorf("document 1's current extraction is not run 2's")
		}
		if s.SHA256 == "" || !strings.HasPrefix(s.Source, "note-") {
			t.Errorf("document fields missing: %+v", s)
		}
		return nil
	})
	if err != nil || !reflect.DeepEqual(docs, []int64{1, 2, 4}) {
		t.Errorf("current extractions of %v, %v", docs, err)
	}
	n := 0
	if err := db.Extractions(ctx, r1, func(s StoredExtraction) error {
		n++
		if s.RunID != r1 || s.Extraction.Theses[0].Stance != schema.Bullish {
			t.Errorf("run 1 extraction: %+v", s)
		}
		return nil
	}); err != nil || n != 3 {
		t.Errorf("run 1: %d extractions, %v", n, err)
	}
}
