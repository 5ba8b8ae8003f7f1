package compare_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/thesisdb/thesisdb/compare"
	"github.com/thesisdb/thesisdb/extract/rules"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/store"
)

// decoded is the store seen only through RunPairs: DiffRuns then decodes
// every whole extraction and diffs in one goroutine, as it first did.
type decoded struct{ db *store.DB }

func (d decoded) ExtractionPairs(ctx context.Context, a, b int64, fn func(store.ExtractionPair) error) error {
	return d.db.ExtractionPairs(ctx, a, b, fn)
}

// TestDiffRunsStoredJSON diffs runs of a generated database both ways,
// from the stored JSON on every core and from whole decoded extractions,
// and wants the same report, byte for byte as `thesisdb diff --format
// json` prints it.
func TestDiffRunsStoredJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a database of 150 notes")
	}
	ctx := context.Background()
	path := diffDB(t, t.TempDir(), 150*50)
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Run 4 revises a third of the notes, so that the others are in one
	// run only.
	run4, err := db.StartRun(ctx, store.RunSpec{Kind: "reextract", Extractor: "rules", PromptVersion: "bench4"})
	if err != nil {
		t.Fatal(err)
	}
	var items []pipeline.Item
	for id := int64(1); id <= 150; id += 3 {
		items = append(items, pipeline.Item{DocumentID: id})
	}
	p := &pipeline.Pipeline{Store: db, Extractor: revising{rules.New()}, Concurrency: 2, Force: true}
	if sum := p.Run(ctx, run4, items, nil); sum.OK != len(items) {
		t.Fatalf("run 4: %+v", sum)
	}
	r, err := store.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	encode := func(rep *compare.DiffReport) []byte {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, runs := range [][2]int64{{1, 2}, {1, 3}, {3, 1}, {2, 3}, {1, run4}, {run4, 3}} {
		want, err := compare.DiffRuns(ctx, decoded{db}, runs[0], runs[1])
		if err != nil {
			t.Fatal(err)
		}
		for name, s := range map[string]compare.RunPairs{"DB": db, "Reader": r} {
			got, err := compare.DiffRuns(ctx, s, runs[0], runs[1])
			if err != nil {
				t.Fatal(err)
			}
			if g, w := encode(got), encode(want); !bytes.Equal(g, w) {
				t.Errorf("runs %d and %d through the %s: %d bytes of JSON, not the %d of whole extractions decoded; summary %+v, want %+v",
					runs[0], runs[1], name, len(g), len(w), got.Summary, want.Summary)
			}
		}
		s := want.Summary
		switch runs {
		case [2]int64{1, 2}:
			if s.Compared != 150 || s.Changed != 0 {
				t.Errorf("runs 1 and 2 (the same rules): %+v", s)
			}
		case [2]int64{1, 3}:
			if s.Changed < 75 || s.Unchanged == 0 {
				t.Errorf("runs 1 and 3 (a revision): %+v; want over half changed, some not", s)
			}
		case [2]int64{1, run4}:
			if s.OnlyA != 100 || s.Compared != 50 {
				t.Errorf("runs 1 and 4: %+v", s)
			}
		}
	}
	if _, err := compare.DiffRuns(ctx, db, 1, 99); err == nil {
		t.Error("a missing run is not an error")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := compare.DiffRuns(cctx, db, 1, 3); err == nil {
		t.Error("a cancelled diff is not an error")
	}
}
