package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// newExtractor builds the extractor a re-extraction job uses from its
// flags; tests substitute extractors with another prompt version.
var newExtractor = (*extractFlags).extractor

// jobKind is the runs.kind of re-extraction jobs.
const jobKind = "reextract"

// jobParams is what a re-extraction run records in runs.params: enough to
// rebuild its document set and settings when it is resumed.
type jobParams struct {
	Selection      store.Selection `json:"selection"`
	Concurrency    int             `json:"concurrency"`
	Force          bool            `json:"force"`
	DropUngrounded bool            `json:"drop_ungrounded"`
	// Batch sends the documents through the Batch API.
	Batch bool `json:"batch,omitempty"`
}

// job is a re-extraction planned over stored documents: which documents
// go to the extractor and which are skipped. A batch submission path
// shares it with the synchronous one.
type job struct {
	run    *store.Run // nil for a new job until it starts
	params jobParams
	info   extract.Info
	// selected counts the documents the selection holds; cached those
	// skipped as already extracted the same way; done those already
	// extracted in the run being resumed.
	selected, cached, done int
	todo                   []int64
}

// planJob selects the documents of a new job (run == nil) or of the run
// being resumed, and keeps those still to send: not extracted in that run
// and, unless params.Force, not already extracted with info's extractor,
// model, prompt version and schema version.
func planJob(ctx context.Context, db *store.DB, run *store.Run, params jobParams, info extract.Info) (*job, error) {
	j := &job{run: run, params: params, info: info}
	if run == nil {
		if err := db.Freeze(ctx, &j.params.Selection); err != nil {
			return nil, err
		}
	}
	ids, err := db.SelectDocuments(ctx, j.params.Selection)
	if err != nil {
		return nil, err
	}
	j.selected = len(ids)
	if run != nil {
		left, err := db.NotExtractedIn(ctx, run.ID, ids)
		if err != nil {
			return nil, err
		}
		j.done, ids = len(ids)-len(left), left
	}
	if !j.params.Force {
		left, err := db.Uncached(ctx, ids, store.CacheKey{Extractor: info.Extractor, Model: info.Model,
			PromptVersion: info.PromptVersion, SchemaVersion: schema.Version})
		if err != nil {
			return nil, err
		}
		j.cached, ids = len(ids)-len(left), left
	}
	j.todo = ids
	return j, nil
}

// items are the pipeline items of the documents to send.
func (j *job) items() []pipeline.Item {
	items := make([]pipeline.Item, len(j.todo))
	for i, id := range j.todo {
		items[i] = pipeline.Item{DocumentID: id}
	}
	return items
}

// checkResumable refuses to resume run with an extractor, model, prompt or
// schema other than the one it started with.
func checkResumable(run *store.Run, info extract.Info) error {
	if run.Kind != jobKind {
		return fmt.Errorf("run %d is an %s run: only reextract runs resume (start a new one with thesisdb reextract --run %d)", run.ID, run.Kind, run.ID)
	}
	if run.Extractor != info.Extractor || run.Model != info.Model || run.PromptVersion != info.PromptVersion || run.SchemaVersion != schema.Version {
		return fmt.Errorf("run %d extracts with %s; these settings give %s: resume it with the same --extractor and --model and the same thesisdb version, or start a new run (thesisdb reextract --run %d)",
			run.ID, describe(run.Extractor, run.Model, run.PromptVersion, run.SchemaVersion),
			describe(info.Extractor, info.Model, info.PromptVersion, schema.Version), run.ID)
	}
	return nil
}

func describe(extractor, model, prompt, schemaVersion string) string {
	s := extractor
	if model != "" {
		s += " " + model
	}
	return fmt.Sprintf("%s, prompt %s, schema %s", s, prompt, schemaVersion)
}

func (a *app) reextractCommand() *cobra.Command {
	var ef extractFlags
	var sel store.Selection
	var resume int64
	var dryRun, batch bool
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "reextract [--where COND | --failed | --run N] [--dry-run] | --resume RUN",
		Short: "Extract stored documents again in a new run",
		Long: `Reextract runs extraction again over stored documents — their stored text,
nothing is downloaded — in a new run, typically after the prompt, schema or
model changed. Select the documents with --where (one SQL expression on
the documents table, checked read-only), --failed (documents whose latest
extraction failed) or --run N (documents extracted in run N); they combine,
and without any every document is selected. Documents already extracted
with the same extractor, model, prompt version and schema version are
skipped unless --force.

Older extractions are kept: the current_* views show each document's latest
successful extraction, and every run stays queryable by run_id.

--dry-run prints how many documents would be sent and the estimated tokens
and cost, and calls no model (an LLM server is only asked what it serves,
to size the estimate). Progress is a bar on a terminal and a log line
every --progress-every otherwise. Ctrl-C leaves the run interrupted, and so
does a crash once the database is next opened; --resume RUN extracts
exactly the documents of its selection not yet done in it, with the same
extractor, model and prompt (and refuses a run another live process is
working on).

--batch submits the documents to OpenAI's Batch API (at most 50,000
requests and 200 MB per batch; half the price; results within 24 hours)
and records the batches, so a closed laptop loses nothing: --resume RUN
polls them, stores the results that are ready and says what is still
running. Documents too long for one request are extracted right away.`,
		Example: `  thesisdb reextract --dry-run
  thesisdb reextract --where "published >= '2026-01-01'" --model gpt-4o
  thesisdb reextract --failed --concurrency 8
  thesisdb reextract --resume 7
  thesisdb reextract --batch --model gpt-4o-mini && thesisdb reextract --resume 8
  thesisdb diff 6 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			fs := cmd.Flags()
			if resume != 0 && (fs.Changed("where") || fs.Changed("failed") || fs.Changed("run") || fs.Changed("force") || fs.Changed("batch")) {
				return errors.New("--resume continues a run with its own selection: it takes no --where, --failed, --run, --force or --batch")
			}
			db, err := store.Open(ctx, a.dbPath)
			if err != nil {
				return err
			}
			defer db.Close()

			var run *store.Run
			params := jobParams{Selection: sel}
			if resume != 0 {
				if run, err = db.GetRun(ctx, resume); err != nil {
					return err
				}
				if run.Kind == jobKind {
					if err := json.Unmarshal([]byte(run.ParamsJSON), &params); err != nil {
						return fmt.Errorf("run %d: read its params: %w", run.ID, err)
					}
				}
				// Settings not given again come from the run.
				if !fs.Changed("extractor") {
					ef.kind = run.Extractor
				}
				if !fs.Changed("model") && run.Model != "" {
					ef.llm.model = run.Model
				}
				if !fs.Changed("concurrency") && params.Concurrency > 0 {
					ef.concurrency = params.Concurrency
				}
				if !fs.Changed("drop-ungrounded") {
					ef.dropUngrounded = params.DropUngrounded
				}
			}
			params.Concurrency, params.DropUngrounded = ef.concurrency, ef.dropUngrounded
			if run == nil {
				params.Force, params.Batch = ef.force, batch
			}
			ex, err := newExtractor(&ef, a.log)
			if err != nil {
				return err
			}
			info := ex.Info()
			if run != nil {
				if err := checkResumable(run, info); err != nil {
					return err
				}
			}
			p := a.newPipeline(db, ex, &ef)
			p.Force = params.Force
			var bx batchExtractor
			var collected pipeline.Summary
			if params.Batch {
				if bx, err = asBatcher(ex); err != nil {
					return err
				}
			}
			if run != nil && params.Batch && !dryRun {
				pending, err := a.collectBatches(ctx, db, bx, p, run.ID, func(e pipeline.Event) {
					collected.Add(e)
					if e.Status == pipeline.Failed {
						a.printEvent(e)
					}
				})
				if err != nil {
					return err
				}
				if pending > 0 {
					a.printSummary(run.ID, collected, store.RunWaiting)
					fmt.Fprintf(a.stderr, "%s still running: collect the rest later with thesisdb reextract --resume %d\n", plural(pending, "batch"), run.ID)
					return db.SetRunStatus(ctx, run.ID, store.RunWaiting)
				}
			}
			j, err := planJob(ctx, db, run, params, info)
			if err != nil {
				return err
			}
			if dryRun {
				return a.printDryRun(ctx, db, ex, j)
			}
			if run != nil && len(j.todo) == 0 && collected.OK+collected.Failed+collected.Duplicate > 0 {
				return a.finishRun(ctx, db, run.ID, collected)
			}
			runID, err := a.startJob(ctx, db, j)
			if err != nil || runID == 0 {
				return err
			}
			waiting := false
			if params.Batch && run == nil {
				if j.todo, err = a.submitBatch(ctx, db, bx, runID, j.todo); err != nil {
					db.SetRunStatus(context.WithoutCancel(ctx), runID, store.RunFailed)
					return err
				}
				waiting = true
				if len(j.todo) > 0 {
					a.log.Info("extracting now the documents too long for one batch request", "documents", len(j.todo))
				}
			}
			prog := newProgress(a.stderr, isTerminal(a.stderr), runID, len(j.todo), every)
			sum := p.Run(ctx, runID, j.items(), func(e pipeline.Event) {
				prog.add(e)
				if e.Status == pipeline.Failed {
					prog.clear()
					a.printEvent(e)
				}
			})
			prog.finish()
			sum.Cached += j.cached
			if waiting && ctx.Err() == nil && sum.Aborted == nil {
				a.printSummary(runID, sum, store.RunWaiting)
				fmt.Fprintf(a.stderr, "collect the batch results with: thesisdb reextract --resume %d\n", runID)
				return db.SetRunStatus(ctx, runID, store.RunWaiting)
			}
			collected.Merge(sum)
			return a.finishRun(ctx, db, runID, collected)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&sel.Where, "where", "", `one SQL expression on the documents table, e.g. "published >= '2026-01-01'" (no UNION, ORDER BY or second statement)`)
	fs.BoolVar(&sel.Failed, "failed", false, "documents whose latest extraction failed")
	fs.Int64Var(&sel.Run, "run", 0, "documents extracted in this run")
	fs.Int64Var(&resume, "resume", 0, "finish this interrupted (or crashed) reextract run")
	fs.BoolVar(&batch, "batch", false, "send the documents through OpenAI's Batch API (half price, results within 24h); collect them with --resume RUN")
	fs.BoolVar(&dryRun, "dry-run", false, "print how many documents would be sent, estimated tokens and cost; call no model")
	fs.DurationVar(&every, "progress-every", 10*time.Second, "without a terminal, log progress this often (and every 10% of the documents)")
	ef.register(cmd)
	return cmd
}

// startJob records a new run for j, or sets the resumed one running
// again. It returns 0 and prints why when there is nothing to do.
func (a *app) startJob(ctx context.Context, db *store.DB, j *job) (int64, error) {
	if j.run != nil {
		if len(j.todo) == 0 {
			fmt.Fprintf(a.stderr, "run %d: nothing left to do (%d of %s done, %d cached)\n", j.run.ID, j.done, plural(j.selected, "document"), j.cached)
			if j.run.Status != store.RunDone {
				return 0, db.SetRunStatus(ctx, j.run.ID, store.RunDone)
			}
			return 0, nil
		}
		if err := db.ResumeRun(ctx, j.run.ID); err != nil {
			return 0, err
		}
		a.log.Info("resuming run", "run", j.run.ID, "done", j.done, "left", len(j.todo), "cached", j.cached)
		return j.run.ID, nil
	}
	switch {
	case j.selected == 0:
		return 0, fmt.Errorf("no stored documents match %s", j.params.Selection)
	case len(j.todo) == 0:
		fmt.Fprintf(a.stderr, "all %s selected are already extracted with %s: nothing to do (--force extracts them again)\n",
			plural(j.selected, "document"), describe(j.info.Extractor, j.info.Model, j.info.PromptVersion, schema.Version))
		return 0, nil
	}
	id, err := db.StartRun(ctx, store.RunSpec{Kind: jobKind, Extractor: j.info.Extractor, Model: j.info.Model,
		PromptVersion: j.info.PromptVersion, PromptHash: j.info.PromptHash, SchemaVersion: schema.Version, Params: j.params})
	if err != nil {
		return 0, err
	}
	if j.cached > 0 {
		if err := db.AddSkipped(ctx, id, j.cached); err != nil {
			return 0, err
		}
	}
	a.log.Info("started run", "run", id, "selection", j.params.Selection.String(), "documents", len(j.todo), "cached", j.cached)
	return id, nil
}

// estimator is an extractor that can price a document without sending it.
type estimator interface {
	Estimate(doc *schema.Document) (promptTokens, outputTokens int, costUSD float64)
}

// printDryRun prints what j would send and cost, calling nothing.
func (a *app) printDryRun(ctx context.Context, db *store.DB, ex extract.Extractor, j *job) error {
	w := a.stdout
	what := "new run over " + j.params.Selection.String()
	if j.run != nil {
		what = fmt.Sprintf("resume of run %d (%d of %s already done)", j.run.ID, j.done, plural(j.selected, "document"))
	}
	fmt.Fprintf(w, "dry run: %s with %s\n", what, describe(j.info.Extractor, j.info.Model, j.info.PromptVersion, schema.Version))
	fmt.Fprintf(w, "selected:  %s\n", plural(j.selected, "document"))
	if j.cached > 0 {
		fmt.Fprintf(w, "cached:    %s already extracted this way, skipped (--force includes them)\n", plural(j.cached, "document"))
	}
	fmt.Fprintf(w, "to send:   %s\n", plural(len(j.todo), "document"))
	est, ok := ex.(estimator)
	if !ok {
		fmt.Fprintf(w, "estimate:  0 tokens, $0 (the %s extractor calls no model)\n", j.info.Extractor)
		return nil
	}
	var in, out int
	var cost float64
	for _, id := range j.todo {
		doc, err := db.Document(ctx, id)
		if err != nil {
			return err
		}
		p, o, c := est.Estimate(doc)
		in, out, cost = in+p, out+o, cost+c
	}
	fmt.Fprintf(w, "estimate:  %d input tokens, %d output tokens, est. cost $%.4f\n", in, out, cost)
	return nil
}

// progress reports a job's advance: a bar on a terminal, otherwise a log
// line every interval or every tenth of the documents.
type progress struct {
	w       io.Writer
	bar     *progressbar.ProgressBar
	runID   int64
	total   int
	done    int
	failed  int
	usage   schema.Usage
	start   time.Time
	last    time.Time
	every   time.Duration
	step    int
	nextLog int
}

func newProgress(w io.Writer, terminal bool, runID int64, total int, every time.Duration) *progress {
	p := &progress{w: w, runID: runID, total: total, start: time.Now(), every: every, step: max(1, total/10)}
	p.last, p.nextLog = p.start, p.step
	if terminal && total > 0 {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(fmt.Sprintf("run %d", runID)),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("docs"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	return p
}

// add counts one finished document.
func (p *progress) add(e pipeline.Event) {
	if e.Status == pipeline.Interrupted {
		return // not done: it stays for --resume
	}
	p.done++
	if e.Status == pipeline.Failed {
		p.failed++
	}
	p.usage.Add(e.Usage)
	if p.bar != nil {
		p.bar.Describe(p.tally())
		p.bar.Add(1)
		return
	}
	if now := time.Now(); p.done >= p.nextLog || now.Sub(p.last) >= p.every || p.done == p.total {
		p.log(now)
	}
}

// tally is the failures, tokens and cost so far.
func (p *progress) tally() string {
	s := fmt.Sprintf("run %d", p.runID)
	if p.failed > 0 {
		s += fmt.Sprintf(", %d failed", p.failed)
	}
	if u := p.usage; u.PromptTokens+u.CompletionTokens > 0 {
		s += fmt.Sprintf(", %d+%d tokens", u.PromptTokens, u.CompletionTokens)
		if u.CostUnknown {
			s += ", cost unknown"
		} else {
			s += fmt.Sprintf(", $%.4f", u.CostUSD)
		}
	}
	return s
}

func (p *progress) log(now time.Time) {
	p.last = now
	for p.nextLog <= p.done {
		p.nextLog += p.step
	}
	elapsed := now.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.done) / elapsed
	}
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "progress: %d/%d documents (%.0f%%), %.1f docs/s, ETA %s; %s\n",
		p.done, p.total, 100*float64(p.done)/float64(max(p.total, 1)), rate, eta, p.tally())
}

// clear makes room on a terminal for a line about one document.
func (p *progress) clear() {
	if p.bar != nil {
		p.bar.Clear()
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
