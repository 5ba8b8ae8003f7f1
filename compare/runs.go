package compare

import (
	"context"

	"github.com/thesisdb/thesisdb/store"
)

// The statuses of a document in a DiffReport.
const (
	DocChanged   = "changed"
	DocUnchanged = "unchanged"
	DocOnlyA     = "only_a" // a successful extraction in run A only
	DocOnlyB     = "only_b" // a successful extraction in run B only
)

// RunPairs is what DiffRuns reads: each document's successful extractions
// in two runs (satisfied by *store.DB).
type RunPairs interface {
	ExtractionPairs(ctx context.Context, a, b int64, fn func(store.ExtractionPair) error) error
}

var _ RunPairs = (*store.DB)(nil)

// DiffDocument is one document of a run-to-run diff.
type DiffDocument struct {
	DocumentID int64  `json:"document_id"`
	Source     string `json:"source"`
	Title      string `json:"title"`
	// Status is DocChanged, DocUnchanged, DocOnlyA or DocOnlyB.
	Status string `json:"status"`
	// Diff is set for documents extracted in both runs.
	Diff *DocumentDiff `json:"diff,omitempty"`
}

// DiffSummary totals a run-to-run diff.
type DiffSummary struct {
	Compared  int `json:"compared"`
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	OnlyA     int `json:"only_a"`
	OnlyB     int `json:"only_b"`
}

// DiffReport is what changed, document by document, from run A to run B.
type DiffReport struct {
	RunA      int64          `json:"run_a"`
	RunB      int64          `json:"run_b"`
	Documents []DiffDocument `json:"documents"`
	Summary   DiffSummary    `json:"summary"`
}

// DiffRuns compares, in document order, every document with a successful
// extraction in run a or run b: Diff of the two when it has both. When s
// is also a RunPairsJSON (the store is), it reads the stored JSON and
// diffs on every core.
func DiffRuns(ctx context.Context, s RunPairs, a, b int64) (*DiffReport, error) {
	if js, ok := s.(RunPairsJSON); ok {
		return diffRunsJSON(ctx, js, a, b)
	}
	rep := &DiffReport{RunA: a, RunB: b, Documents: []DiffDocument{}}
	err := s.ExtractionPairs(ctx, a, b, func(p store.ExtractionPair) error {
		rep.add(diffDocument(p.DocumentID, p.Source, p.Title, p.A, p.B))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}
