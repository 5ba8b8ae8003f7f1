package pipeline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/llm"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// JobKind is the runs.kind of re-extraction jobs.
const JobKind = "reextract"

// JobParams is what a re-extraction run records in runs.params: enough to
// rebuild its document set and settings when it is resumed.
type JobParams struct {
	Selection      store.Selection `json:"selection"`
	Concurrency    int             `json:"concurrency"`
	Force          bool            `json:"force"`
	DropUngrounded bool            `json:"drop_ungrounded"`
	// Batch sends the documents through the Batch API.
	Batch bool `json:"batch,omitempty"`
}

// RunParams returns the params a re-extraction run recorded, and the zero
// JobParams for a run of another kind.
func RunParams(run *store.Run) (JobParams, error) {
	var params JobParams
	if run.Kind != JobKind {
		return params, nil
	}
	if err := json.Unmarshal([]byte(run.ParamsJSON), &params); err != nil {
		return params, fmt.Errorf("run %d: read its params: %w", run.ID, err)
	}
	return params, nil
}

// JobStore is what re-extraction jobs ask of the database beyond the
// pipeline's Store: selecting documents, and recording runs and batches
// (satisfied by *store.DB).
type JobStore interface {
	Store
	// Freeze sets the selection's ceilings to what is stored now.
	Freeze(ctx context.Context, s *store.Selection) error
	// SelectDocuments returns the ids of the selected documents.
	SelectDocuments(ctx context.Context, s store.Selection) ([]int64, error)
	// NotExtractedIn keeps the ids with no extraction in the run.
	NotExtractedIn(ctx context.Context, runID int64, ids []int64) ([]int64, error)
	// Uncached keeps the ids with no successful extraction like k's.
	Uncached(ctx context.Context, ids []int64, k store.CacheKey) ([]int64, error)
	// StartRun records a new run.
	StartRun(ctx context.Context, s store.RunSpec) (int64, error)
	// ResumeRun sets a run running again, refusing one another live
	// process holds.
	ResumeRun(ctx context.Context, id int64) error
	// SetRunStatus records a run's status.
	SetRunStatus(ctx context.Context, id int64, status string) error
	// SaveBatch records a Batch API job of a run, or updates it.
	SaveBatch(ctx context.Context, b store.Batch) error
	// Batches returns the Batch API jobs of a run.
	Batches(ctx context.Context, runID int64) ([]store.Batch, error)
}

var _ JobStore = (*store.DB)(nil)

// Job is a re-extraction planned over stored documents: which documents
// go to the extractor and which are skipped. The Batch API path shares it
// with the synchronous one.
type Job struct {
	// Run is the run being resumed; nil for a new job until it starts.
	Run    *store.Run
	Params JobParams
	Info   extract.Info
	// Selected counts the documents the selection holds; Cached those
	// skipped as already extracted the same way; Done those already
	// extracted in the run being resumed.
	Selected, Cached, Done int
	// Todo are the documents to send, in id order.
	Todo []int64
}

// PlanJob selects the documents of a new job (run == nil) or of the run
// being resumed, and keeps those still to send: not extracted in that run
// and, unless params.Force, not already extracted with info's extractor,
// model, prompt version and schema version.
func PlanJob(ctx context.Context, db JobStore, run *store.Run, params JobParams, info extract.Info) (*Job, error) {
	j := &Job{Run: run, Params: params, Info: info}
	if run == nil {
		if err := db.Freeze(ctx, &j.Params.Selection); err != nil {
			return nil, err
		}
	}
	ids, err := db.SelectDocuments(ctx, j.Params.Selection)
	if err != nil {
		return nil, err
	}
	j.Selected = len(ids)
	if run != nil {
		left, err := db.NotExtractedIn(ctx, run.ID, ids)
		if err != nil {
			return nil, err
		}
		j.Done, ids = len(ids)-len(left), left
	}
	if !j.Params.Force {
		left, err := db.Uncached(ctx, ids, store.CacheKey{Extractor: info.Extractor, Model: info.Model,
			PromptVersion: info.PromptVersion, SchemaVersion: schema.Version})
		if err != nil {
			return nil, err
		}
		j.Cached, ids = len(ids)-len(left), left
	}
	j.Todo = ids
	return j, nil
}

// Items are the pipeline items of the documents to send.
func (j *Job) Items() []Item {
	items := make([]Item, len(j.Todo))
	for i, id := range j.Todo {
		items[i] = Item{DocumentID: id}
	}
	return items
}

// CheckResumable refuses to resume run with an extractor, model, prompt or
// schema other than the one it started with.
func CheckResumable(run *store.Run, info extract.Info) error {
	if run.Kind != JobKind {
		return fmt.Errorf("run %d is an %s run: only reextract runs resume (start a new one with thesisdb reextract --run %d)", run.ID, run.Kind, run.ID)
	}
	if run.Extractor != info.Extractor || run.Model != info.Model || run.PromptVersion != info.PromptVersion || run.SchemaVersion != schema.Version {
		return fmt.Errorf("run %d extracts with %s; these settings give %s: resume it with the same --extractor and --model and the same thesisdb version, or start a new run (thesisdb reextract --run %d)",
			run.ID, Describe(run.Extractor, run.Model, run.PromptVersion, run.SchemaVersion),
			Describe(info.Extractor, info.Model, info.PromptVersion, schema.Version), run.ID)
	}
	return nil
}

// Describe names extraction settings for people: "llm gpt-4o, prompt v3,
// schema 2".
func Describe(extractor, model, prompt, schemaVersion string) string {
	s := extractor
	if model != "" {
		s += " " + model
	}
	return fmt.Sprintf("%s, prompt %s, schema %s", s, prompt, schemaVersion)
}

// Start records a new run for j, or sets the resumed one running again,
// and returns its id. It returns 0 when there is nothing to send (a
// resumed run is then marked done), and an error when a new job's
// selection holds no document.
func (j *Job) Start(ctx context.Context, db JobStore) (int64, error) {
	if j.Run != nil {
		if len(j.Todo) == 0 {
			if j.Run.Status != store.RunDone {
				return 0, db.SetRunStatus(ctx, j.Run.ID, store.RunDone)
			}
			return 0, nil
		}
		if err := db.ResumeRun(ctx, j.Run.ID); err != nil {
			return 0, err
		}
		return j.Run.ID, nil
	}
	switch {
	case j.Selected == 0:
		return 0, fmt.Errorf("no stored documents match %s", j.Params.Selection)
	case len(j.Todo) == 0:
		return 0, nil
	}
	id, err := db.StartRun(ctx, store.RunSpec{Kind: JobKind, Extractor: j.Info.Extractor, Model: j.Info.Model,
		PromptVersion: j.Info.PromptVersion, PromptHash: j.Info.PromptHash, SchemaVersion: schema.Version, Params: j.Params})
	if err != nil {
		return 0, err
	}
	if j.Cached > 0 {
		if err := db.AddSkipped(ctx, id, j.Cached); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// Estimator is an extractor that can price a document without sending it.
type Estimator interface {
	Estimate(doc *schema.Document) (promptTokens, outputTokens int, costUSD float64)
}

// Estimate is what sending a job's documents would cost.
type Estimate struct {
	PromptTokens, OutputTokens int
	CostUSD                    float64
}

// Estimate prices the documents j would send with ex, calling nothing; ok
// is false when ex cannot estimate (it calls no model).
func (j *Job) Estimate(ctx context.Context, db Store, ex extract.Extractor) (est Estimate, ok bool, err error) {
	e, ok := ex.(Estimator)
	if !ok {
		return est, false, nil
	}
	for _, id := range j.Todo {
		doc, err := db.Document(ctx, id)
		if err != nil {
			return est, true, err
		}
		p, o, c := e.Estimate(doc)
		est.PromptTokens, est.OutputTokens, est.CostUSD = est.PromptTokens+p, est.OutputTokens+o, est.CostUSD+c
	}
	return est, true, nil
}

// JobHooks are told of a job's progress; any may be nil.
type JobHooks struct {
	// OnEvent is called with each document's outcome, from one goroutine
	// at a time: the collected Batch API results first, then the
	// documents sent now.
	OnEvent func(Event)
	// OnSubmitted is called once the documents are submitted to the
	// Batch API.
	OnSubmitted func(runID int64, documents, batches int)
	// OnSend is called before the documents are sent to the extractor.
	OnSend func(runID int64, documents int)
	// OnPending is called for each batch of a resumed run still running.
	OnPending func(llm.BatchInfo)
}

// JobOutcome is what RunJob did.
type JobOutcome struct {
	// Job is the plan; nil when the job stopped at batches still running.
	Job *Job
	// RunID is the run worked on; 0 when there was nothing to do.
	RunID int64
	// Summary totals the documents collected from batches and sent now,
	// the cached ones included.
	Summary Summary
	// Waiting is set when the run waits for Batch API results: it is
	// recorded as store.RunWaiting and ends with a later resume. The run
	// is otherwise for the caller to finish with the Summary.
	Waiting bool
	// Pending counts the batches still running.
	Pending int
}

// RunJob re-extracts stored documents in a new run (run == nil) or in the
// interrupted or waiting run being resumed, with p's extractor, which must
// be a BatchExtractor when params.Batch. A resumed batch run first stores the results of
// its finished batches, and stops there while any is still running. A new
// batch run submits its documents to the Batch API and extracts right
// away only those too long for one request.
func (p *Pipeline) RunJob(ctx context.Context, db JobStore, run *store.Run, params JobParams, h JobHooks) (JobOutcome, error) {
	var out JobOutcome
	emit := func(e Event) {
		if h.OnEvent != nil {
			h.OnEvent(e)
		}
	}
	var bx BatchExtractor
	if params.Batch {
		var err error
		if bx, err = AsBatcher(p.Extractor); err != nil {
			return out, err
		}
	}
	if run != nil && params.Batch {
		out.RunID = run.ID
		pending, err := p.CollectBatches(ctx, db, bx, run.ID, func(e Event) {
			out.Summary.Add(e)
			emit(e)
		}, h.OnPending)
		if err != nil {
			return out, err
		}
		if pending > 0 {
			out.Waiting, out.Pending = true, pending
			return out, db.SetRunStatus(ctx, run.ID, store.RunWaiting)
		}
	}
	j, err := PlanJob(ctx, db, run, params, p.Extractor.Info())
	if err != nil {
		return out, err
	}
	out.Job = j
	if run != nil && len(j.Todo) == 0 && out.Summary.OK+out.Summary.Failed+out.Summary.Duplicate > 0 {
		return out, nil
	}
	runID, err := j.Start(ctx, db)
	if err != nil || runID == 0 {
		out.RunID = 0
		return out, err
	}
	out.RunID = runID
	if run != nil {
		p.logger().Info("resuming run", "run", runID, "done", j.Done, "left", len(j.Todo), "cached", j.Cached)
	} else {
		p.logger().Info("started run", "run", runID, "selection", j.Params.Selection.String(), "documents", len(j.Todo), "cached", j.Cached)
	}
	if params.Batch && run == nil {
		sub, err := p.SubmitBatch(ctx, db, bx, runID, j.Todo)
		if err != nil {
			db.SetRunStatus(context.WithoutCancel(ctx), runID, store.RunFailed)
			return out, err
		}
		j.Todo, out.Waiting = sub.Sync, true
		if h.OnSubmitted != nil {
			h.OnSubmitted(runID, sub.Documents, sub.Batches)
		}
		if len(j.Todo) > 0 {
			p.logger().Info("extracting now the documents too long for one batch request", "documents", len(j.Todo))
		}
	}
	if h.OnSend != nil {
		h.OnSend(runID, len(j.Todo))
	}
	sum := p.Run(ctx, runID, j.Items(), emit)
	sum.Cached += j.Cached
	if out.Waiting && ctx.Err() == nil && sum.Aborted == nil {
		out.Summary = sum
		return out, db.SetRunStatus(ctx, runID, store.RunWaiting)
	}
	out.Waiting = false
	out.Summary.Merge(sum)
	return out, nil
}
