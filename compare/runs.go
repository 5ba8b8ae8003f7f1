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
// extraction in run a or run b: Diff of the two when it has both.
func DiffRuns(ctx context.Context, s RunPairs, a, b int64) (*DiffReport, error) {
	rep := &DiffReport{RunA: a, RunB: b, Documents: []DiffDocument{}}
	err := s.ExtractionPairs(ctx, a, b, func(p store.ExtractionPair) error {
		d := DiffDocument{DocumentID: p.DocumentID, Source: p.Source, Title: p.Title}
		switch {
		case p.B == nil:
			d.Status = DocOnlyA
			rep.Summary.OnlyA++
		case p.A == nil:
			d.Status = DocOnlyB
			rep.Summary.OnlyB++
		default:
			rep.Summary.Compared++
			dd := Diff(p.A, p.B)
			d.Status = DocUnchanged
			if dd.Changed() {
				d.Status = DocChanged
				rep.Summary.Changed++
			} else {
				rep.Summary.Unchanged++
			}
			d.Diff = &dd
		}
		rep.Documents = append(rep.Documents, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}
