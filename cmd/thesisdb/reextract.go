package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/llm"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// newExtractor builds the extractor a re-extraction job uses from its
// flags; tests substitute extractors with another prompt version.
var newExtractor = (*extractFlags).extractor

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
			params := pipeline.JobParams{Selection: sel}
			if resume != 0 {
				if run, err = db.GetRun(ctx, resume); err != nil {
					return err
				}
				if params, err = pipeline.RunParams(run); err != nil {
					return err
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
			if run != nil {
				if err := pipeline.CheckResumable(run, ex.Info()); err != nil {
					return err
				}
			}
			if params.Batch {
				if _, err := pipeline.AsBatcher(ex); err != nil {
					return err
				}
			}
			p := a.newPipeline(db, ex, &ef)
			p.Force = params.Force
			if dryRun {
				j, err := pipeline.PlanJob(ctx, db, run, params, ex.Info())
				if err != nil {
					return err
				}
				return a.printDryRun(ctx, db, ex, j)
			}
			var prog *progress
			out, err := p.RunJob(ctx, db, run, params, pipeline.JobHooks{
				OnEvent: func(e pipeline.Event) {
					if prog != nil {
						prog.add(e)
					}
					if e.Status == pipeline.Failed {
						if prog != nil {
							prog.clear()
						}
						a.printEvent(e)
					}
				},
				OnPending: func(b llm.BatchInfo) {
					fmt.Fprintf(a.stderr, "batch %s: %s, %d of %d requests done\n", b.ID, b.Status, b.Completed+b.Failed, b.Total)
				},
				OnSubmitted: func(runID int64, documents, batches int) {
					fmt.Fprintf(a.stderr, "run %d: submitted %s in %s to the Batch API (results within 24 hours, at half price)\n",
						runID, plural(documents, "document"), plural(batches, "batch"))
				},
				OnSend: func(runID int64, documents int) {
					prog = newProgress(a.stderr, isTerminal(a.stderr), runID, documents, every)
				},
			})
			if prog != nil {
				prog.finish()
			}
			switch {
			case err != nil:
				return err
			case out.Waiting && out.Job == nil:
				a.printSummary(out.RunID, out.Summary, store.RunWaiting)
				fmt.Fprintf(a.stderr, "%s still running: collect the rest later with thesisdb reextract --resume %d\n", plural(out.Pending, "batch"), out.RunID)
				return nil
			case out.Waiting:
				a.printSummary(out.RunID, out.Summary, store.RunWaiting)
				fmt.Fprintf(a.stderr, "collect the batch results with: thesisdb reextract --resume %d\n", out.RunID)
				return nil
			case out.RunID == 0:
				a.printNothingToDo(out.Job)
				return nil
			}
			return a.finishRun(ctx, db, out.RunID, out.Summary)
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

// printNothingToDo says why a job sent nothing.
func (a *app) printNothingToDo(j *pipeline.Job) {
	if j.Run != nil {
		fmt.Fprintf(a.stderr, "run %d: nothing left to do (%d of %s done, %d cached)\n", j.Run.ID, j.Done, plural(j.Selected, "document"), j.Cached)
		return
	}
	fmt.Fprintf(a.stderr, "all %s selected are already extracted with %s: nothing to do (--force extracts them again)\n",
		plural(j.Selected, "document"), pipeline.Describe(j.Info.Extractor, j.Info.Model, j.Info.PromptVersion, schema.Version))
}

// printDryRun prints what j would send and cost, calling nothing.
func (a *app) printDryRun(ctx context.Context, db *store.DB, ex extract.Extractor, j *pipeline.Job) error {
	w := a.stdout
	what := "new run over " + j.Params.Selection.String()
	if j.Run != nil {
		what = fmt.Sprintf("resume of run %d (%d of %s already done)", j.Run.ID, j.Done, plural(j.Selected, "document"))
	}
	fmt.Fprintf(w, "dry run: %s with %s\n", what, pipeline.Describe(j.Info.Extractor, j.Info.Model, j.Info.PromptVersion, schema.Version))
	fmt.Fprintf(w, "selected:  %s\n", plural(j.Selected, "document"))
	if j.Cached > 0 {
		fmt.Fprintf(w, "cached:    %s already extracted this way, skipped (--force includes them)\n", plural(j.Cached, "document"))
	}
	fmt.Fprintf(w, "to send:   %s\n", plural(len(j.Todo), "document"))
	est, ok, err := j.Estimate(ctx, db, ex)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintf(w, "estimate:  0 tokens, $0 (the %s extractor calls no model)\n", j.Info.Extractor)
		return nil
	}
	fmt.Fprintf(w, "estimate:  %d input tokens, %d output tokens, est. cost $%.4f\n", est.PromptTokens, est.OutputTokens, est.CostUSD)
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
