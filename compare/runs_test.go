package compare

import (
	"context"
	"errors"
	"testing"

	"github.com/thesisdb/thesisdb/store"
)

// pairs is a RunPairs over fixed extraction pairs.
type pairs []store.ExtractionPair

func (ps pairs) ExtractionPairs(_ context.Context, _, _ int64, fn func(store.ExtractionPair) error) error {
	for _, p := range ps {
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

type failing struct{}

func (failing) ExtractionPairs(context.Context, int64, int64, func(store.ExtractionPair) error) error {
	return errors.New("no such run")
}

func TestDiffRuns(t *testing.T) {
	changed := base()
	changed.Theses[0].DataPoints[0].Value = "300 bps"
	rep, err := DiffRuns(context.Background(), pairs{
		{DocumentID: 1, Source: "a.md", A: base(), B: base()},
		{DocumentID: 2, Source: "b.md", A: base(), B: changed},
		{DocumentID: 3, Source: "c.md", A: base()},
		{DocumentID: 4, Source: "d.md", B: base()},
	}, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	if rep.RunA != 3 || rep.RunB != 4 {
		t.Errorf("runs %d, %d; want 3, 4", rep.RunA, rep.RunB)
	}
	want := []string{DocUnchanged, DocChanged, DocOnlyA, DocOnlyB}
	if len(rep.Documents) != len(want) {
		t.Fatalf("%d documents; want %d", len(rep.Documents), len(want))
	}
	for i, d := range rep.Documents {
		if d.Status != want[i] {
			t.Errorf("document %d: %s; want %s", d.DocumentID, d.Status, want[i])
		}
		if (d.Diff != nil) != (i < 2) {
			t.Errorf("document %d: diff %v", d.DocumentID, d.Diff)
		}
	}
	if c := rep.Documents[1].Diff.DataPoints; len(c) != 1 || c[0].From != "284 bps" || c[0].To != "300 bps" {
		t.Errorf("changes %+v", c)
	}
	if s := rep.Summary; s != (DiffSummary{Compared: 2, Changed: 1, Unchanged: 1, OnlyA: 1, OnlyB: 1}) {
		t.Errorf("summary %+v", s)
	}
	if _, err := DiffRuns(context.Background(), failing{}, 1, 2); err == nil {
		t.Error("a store error is not returned")
	}
	empty, err := DiffRuns(context.Background(), pairs{}, 1, 2)
	if err != nil || empty.Documents == nil {
		t.Errorf("no documents: %v, %v (want an empty list, for JSON [])", empty, err)
	}
}
