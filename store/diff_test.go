package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

func TestExtractionPairs(t *testing.T) {
	ctx := context.Background()
	db, r1, r2 := jobFixture(t)
	var got []string
	err := db.ExtractionPairs(ctx, r1, r2, func(p ExtractionPair) error {
		s := p.Source + ":"
		if p.A != nil {
			s += "A=" + string(p.A.Theses[0].Stance)
		}
		if p.B != nil {
			s += "B=" + string(p.B.Theses[0].Stance)
		}
		got = append(got, s)
		return nil
	})
	want := []string{"note-1.txt:A=bullishB=bearish", "note-2.txt:A=bullish", "note-4.txt:A=bullish"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("pairs = %v, %v; want %v", got, err, want)
	}
	if err := db.ExtractionPairs(ctx, r1, 42, func(ExtractionPair) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("pairs with a missing run: %v", err)
	}
}

func TestExtractionPairsJSON(t *testing.T) {
	ctx := context.Background()
	db, r1, _ := jobFixture(t)
	// Run 3 extracts note 1 as run 1 did, note 2 otherwise, note 4 not.
	r3 := startRun(t, db, "v3")
	for doc, stance := range map[int64]schema.Stance{1: schema.Bullish, 2: schema.Mixed} {
		if err := db.SaveExtraction(ctx, r3, doc, Outcome{Extraction: testExtraction(stance)}); err != nil {
			t.Fatal(err)
		}
	}
	var decoded []ExtractionPair
	if err := db.ExtractionPairs(ctx, r1, r3, func(p ExtractionPair) error {
		decoded = append(decoded, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var raw []ExtractionPairJSON
	if err := db.ExtractionPairsJSON(ctx, r1, r3, func(p ExtractionPairJSON) error {
		raw = append(raw, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 3 || len(decoded) != 3 {
		t.Fatalf("%d pairs of JSON, %d decoded; want 3", len(raw), len(decoded))
	}
	for i, p := range raw {
		d := decoded[i]
		if p.DocumentID != d.DocumentID || p.Source != d.Source || p.Title != d.Title {
			t.Errorf("pair %d: %d %q %q; decoded %d %q %q", i, p.DocumentID, p.Source, p.Title, d.DocumentID, d.Source, d.Title)
		}
		for _, side := range []struct {
			raw []byte
			x   *schema.Extraction
		}{{p.A, d.A}, {p.B, d.B}} {
			if (side.raw == nil) != (side.x == nil) {
				t.Errorf("document %d: JSON %q; decoded %v", p.DocumentID, side.raw, side.x)
				continue
			}
			if side.raw == nil {
				continue
			}
			var x schema.Extraction
			if err := json.Unmarshal(side.raw, &x); err != nil || !reflect.DeepEqual(&x, side.x) {
				t.Errorf("document %d: JSON %s (%v) is not %+v", p.DocumentID, side.raw, err, side.x)
			}
		}
	}
	// Note 1: the same bytes in both runs, kept once; note 2: two copies,
	// each its own, valid after the call; note 4: in run 1 only.
	if p := raw[0]; p.DocumentID != 1 || len(p.A) == 0 || &p.A[0] != &p.B[0] {
		t.Errorf("document %d: equal stored bytes are not one slice", p.DocumentID)
	}
	if p := raw[1]; p.DocumentID != 2 || string(p.A) == string(p.B) || &p.A[0] == &p.B[0] {
		t.Errorf("document %d: %s and %s", p.DocumentID, p.A, p.B)
	}
	if p := raw[2]; p.DocumentID != 4 || p.A == nil || p.B != nil {
		t.Errorf("document %d: %s and %s; want run 1's only", p.DocumentID, p.A, p.B)
	}
	if err := db.ExtractionPairsJSON(ctx, 42, r1, func(ExtractionPairJSON) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("pairs with a missing run: %v", err)
	}
	stop := errors.New("stop")
	if err := db.ExtractionPairsJSON(ctx, r1, r3, func(ExtractionPairJSON) error { return stop }); err != stop {
		t.Errorf("fn's error: %v", err)
	}
}
