package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/store"
)

// promptV2 is lineExtractor with another prompt version.
type promptV2 struct{ lineExtractor }

func (*promptV2) Info() extract.Info { return extract.Info{Extractor: "test", PromptVersion: "t2"} }

func TestRunJob(t *testing.T) {
	p, db, run := newTest(t)
	ctx := context.Background()
	dir := t.TempDir()
	for i := range 3 {
		if ev := p.Process(ctx, run, Item{Source: write(t, dir, fmt.Sprintf("n%d.txt", i), []byte(fmt.Sprintf("Note %d\nSpreads are %d bps\n", i, 100+i)))}); ev.Status != OK {
			t.Fatalf("setup: %+v", ev)
		}
	}

	// The same extractor again: everything cached, nothing to do.
	out, err := p.RunJob(ctx, db, nil, JobParams{}, JobHooks{})
	if err != nil || out.RunID != 0 || out.Job == nil || out.Job.Selected != 3 || out.Job.Cached != 3 || len(out.Job.Todo) != 0 {
		t.Fatalf("cached job: %+v, %v", out, err)
	}
	// A new prompt: a new run extracts all three.
	ex := &promptV2{}
	p2 := &Pipeline{Store: db, Extractor: ex, Concurrency: 2}
	var events, sent int
	out, err = p2.RunJob(ctx, db, nil, JobParams{Selection: store.Selection{Where: "id >= 2"}}, JobHooks{
		OnEvent: func(Event) { events++ },
		OnSend:  func(_ int64, n int) { sent = n },
	})
	if err != nil || out.RunID == 0 || out.Waiting || out.Summary.OK != 2 || events != 2 || sent != 2 || ex.calls.Load() != 2 {
		t.Fatalf("new prompt: %+v (%d events, %d sent, %d calls), %v", out, events, sent, ex.calls.Load(), err)
	}
	r, err := db.GetRun(ctx, out.RunID)
	if err != nil || r.Kind != JobKind || r.PromptVersion != "t2" {
		t.Fatalf("run %+v, %v", r, err)
	}
	params, err := RunParams(r)
	if err != nil || params.Selection.Where != "id >= 2" || params.Selection.MaxDocumentID != 3 {
		t.Errorf("recorded params %+v, %v", params, err)
	}
	// Resumed with nothing left, the run is done; with other settings it
	// is refused.
	if err := CheckResumable(r, ex.Info()); err != nil {
		t.Errorf("same settings refused: %v", err)
	}
	if err := CheckResumable(r, (&lineExtractor{}).Info()); err == nil || !strings.Contains(err.Error(), "prompt t2") {
		t.Errorf("other prompt: %v", err)
	}
	out, err = p2.RunJob(ctx, db, r, params, JobHooks{})
	if err != nil || out.RunID != 0 || out.Job.Done != 2 || len(out.Job.Todo) != 0 {
		t.Errorf("resume of a finished run: %+v, %v", out, err)
	}
	if r, _ := db.GetRun(ctx, r.ID); r.Status != store.RunDone {
		t.Errorf("resumed run with nothing to do is %s", r.Status)
	}
	// A selection of nothing is an error; the Batch API needs an extractor that has it.
	if _, err := p2.RunJob(ctx, db, nil, JobParams{Selection: store.Selection{Where: "id > 99"}}, JobHooks{}); err == nil {
		t.Error("an empty selection is not an error")
	}
	if _, err := p2.RunJob(ctx, db, nil, JobParams{Batch: true}, JobHooks{}); err == nil || !strings.Contains(err.Error(), "Batch API") {
		t.Errorf("batch with a non-batch extractor: %v", err)
	}
}
