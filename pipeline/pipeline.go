// Package pipeline carries documents from their source to stored rows: load,
// de-duplicate, extract, ground, store. It is shared by `thesisdb ingest`,
// the inbox watcher and re-extraction jobs, and it is where a bad document
// is contained: every failure becomes a recorded, per-document error and the
// rest of the batch goes on.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// Store is what the pipeline asks of the database: find stored documents
// and extractions, and save outcomes (satisfied by *store.DB). A new
// storage backend implements it.
type Store interface {
	// Document returns a stored document with its text.
	Document(ctx context.Context, id int64) (*schema.Document, error)
	// DocumentBySHA returns the id of the document with this content, or
	// store.ErrNotFound.
	DocumentBySHA(ctx context.Context, sha string) (int64, error)
	// ExtractionState says whether a document has a successful
	// extraction and, if not, its latest error.
	ExtractionState(ctx context.Context, docID int64) (ok bool, lastError string, err error)
	// HasExtraction says whether the document has a successful
	// extraction with the key's extractor, model, prompt and schema.
	HasExtraction(ctx context.Context, k store.CacheKey) (bool, error)
	// SaveDocumentAsync stores a new document with its outcome in run
	// runID, calling done once committed (store.ErrDuplicate for content
	// stored meanwhile).
	SaveDocumentAsync(ctx context.Context, runID int64, doc *schema.Document, out store.Outcome, done func(id int64, err error))
	// SaveExtractionAsync stores another outcome of a stored document.
	SaveExtractionAsync(ctx context.Context, runID, docID int64, out store.Outcome, done func(error))
	// RecordLoadFailure records a source that could not be loaded.
	RecordLoadFailure(ctx context.Context, runID int64, source, sha, errText string) error
	// AddSkipped counts documents a run skipped (duplicates, cached).
	AddSkipped(ctx context.Context, runID int64, n int) error
}

var _ Store = (*store.DB)(nil)

// Pipeline processes documents into one run of a store.
type Pipeline struct {
	Store     Store
	Extractor extract.Extractor
	// Load configures the loaders (size limits, PDF engine, HTTP client).
	Load *extract.Options
	// Concurrency bounds the documents in flight (default 4).
	Concurrency int
	// Force extracts documents already stored (ingest) or already extracted
	// with the same extractor, model, prompt and schema (re-extraction).
	Force bool
	// DropUngrounded drops data points whose quote or figures are not
	// found in the document text.
	DropUngrounded bool
	Logger         *slog.Logger
}

// Item is one unit of work: a file or URL to ingest, or a stored document
// to extract again.
type Item struct {
	Source     string   // path or URL (ingest)
	Name       string   // the source to record, when not Source (a file claimed into a work folder)
	DocumentID int64    // stored document (re-extraction)
	Tags       []string // labels recorded with a new document
	// Raw, when set, is the item's content already fetched (a scraped
	// page): it is loaded from these bytes instead of reading Source.
	Raw *extract.Raw
}

// String names the item as it is recorded (load_failures.source) and
// shown: a URL without its user name and password.
func (it Item) String() string {
	if it.Name != "" {
		return it.Name
	}
	if it.Source != "" {
		return extract.StripUserinfo(it.Source)
	}
	return fmt.Sprintf("document %d", it.DocumentID)
}

// Status is what became of an item.
type Status string

// The statuses of an Event.
const (
	OK          Status = "ok"
	Failed      Status = "failed"
	Duplicate   Status = "duplicate"   // same content already stored
	Cached      Status = "cached"      // same extraction already stored
	Interrupted Status = "interrupted" // cancelled before it was stored
)

// Event reports the outcome of one item.
type Event struct {
	Item       Item
	Status     Status
	DocumentID int64
	Title      string
	Kind       string
	DataPoints int
	Ungrounded int
	Dropped    int // ungrounded data points dropped
	// NoTheses is set when the document was extracted without error but
	// no thesis was found in it (stored, with a warning).
	NoTheses    bool
	Err         error
	Usage       schema.Usage
	Duration    time.Duration
	LoadWarning []string
}

// Summary totals a batch.
type Summary struct {
	OK, Failed, Duplicate, Cached, Interrupted int
	DataPoints, Ungrounded                     int
	// NoTheses counts the documents stored ok without any thesis.
	NoTheses int
	Usage    schema.Usage
	Elapsed  time.Duration
	// Aborted is the error that stopped the run early (see
	// extract.ErrAbortRun), or nil.
	Aborted error
}

// Add counts e into s.
func (s *Summary) Add(e Event) {
	switch e.Status {
	case OK:
		s.OK++
	case Failed:
		s.Failed++
	case Duplicate:
		s.Duplicate++
	case Cached:
		s.Cached++
	case Interrupted:
		s.Interrupted++
	}
	if e.Status == OK && e.NoTheses {
		s.NoTheses++
	}
	s.DataPoints += e.DataPoints
	s.Ungrounded += e.Ungrounded
	s.Usage.Add(e.Usage)
}

func (p *Pipeline) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.Default()
	}
	return p.Logger
}

// Process carries one item through the pipeline into run runID. It never
// panics and always returns an Event; failures are recorded in the store
// with their reason. Cancelling ctx abandons the item unstored.
func (p *Pipeline) Process(ctx context.Context, runID int64, it Item) Event {
	ch := make(chan Event, 1)
	p.process(ctx, runID, it, func(e Event) { ch <- e })
	return <-ch
}

// process is Process reporting through emit, called exactly once: from
// this goroutine when the item ends before its rows are written, else from
// the store once the transaction holding them has committed, so that the
// caller can go on with the next item meanwhile.
func (p *Pipeline) process(ctx context.Context, runID int64, it Item, emit func(Event)) {
	start := time.Now()
	done := func(ev Event) {
		ev.Duration = time.Since(start)
		emit(ev)
	}
	if ev, stored := p.prepare(ctx, runID, it, done); !stored {
		done(ev)
	}
}

// prepare carries an item up to its store; it returns stored = true once
// the store has the item and will report it through done.
func (p *Pipeline) prepare(ctx context.Context, runID int64, it Item, done func(Event)) (ev Event, stored bool) {
	ev = Event{Item: it}
	// Stores run to completion even after ctx is cancelled: a document is
	// either stored whole or not at all.
	sctx := context.WithoutCancel(ctx)

	var doc *schema.Document
	if it.DocumentID != 0 {
		d, err := p.Store.Document(ctx, it.DocumentID)
		if err != nil {
			ev.Status, ev.Err = Failed, err
			return ev, false
		}
		doc = d
		ev.DocumentID = it.DocumentID
		if !p.Force {
			info := p.Extractor.Info()
			cached, err := p.Store.HasExtraction(ctx, store.CacheKey{DocumentID: it.DocumentID, Extractor: info.Extractor,
				Model: info.Model, PromptVersion: info.PromptVersion, SchemaVersion: schema.Version})
			if err != nil {
				ev.Status, ev.Err = Failed, err
				return ev, false
			}
			if cached {
				ev.Status = Cached
				p.skip(sctx, runID)
				return ev, false
			}
		}
	} else {
		d, dup, err := p.load(ctx, it)
		if err != nil {
			if ctx.Err() != nil {
				ev.Status, ev.Err = Interrupted, ctx.Err()
				return ev, false
			}
			if it.Name != "" {
				err = fmt.Errorf("load %s: %w", it.Name, errors.Unwrap(err))
			}
			ev.Status, ev.Err = Failed, err
			if rerr := p.Store.RecordLoadFailure(sctx, runID, it.String(), "", err.Error()); rerr != nil {
				ev.Err = errors.Join(err, rerr)
			}
			return ev, false
		}
		if dup != 0 {
			ev.Status, ev.DocumentID = Duplicate, dup
			p.skip(sctx, runID)
			return ev, false
		}
		doc = d
		doc.Tags = it.Tags
		if it.Name != "" {
			doc.Source = it.Name
		}
		ev.LoadWarning = doc.Warnings
	}
	out := p.extract(ctx, doc)
	if out.Err != nil && (ctx.Err() != nil || errors.Is(out.Err, extract.ErrAbortRun)) {
		ev.Status, ev.Err = Interrupted, out.Err
		return ev, false
	}
	p.finishAsync(sctx, runID, doc, ev, out, done)
	return ev, true
}

// Complete stores the outcome of extracting stored document docID obtained
// outside Process (a Batch API result), grounding it as Process would.
func (p *Pipeline) Complete(ctx context.Context, runID, docID int64, res *schema.Result, err error) Event {
	ev := Event{Item: Item{DocumentID: docID}, DocumentID: docID}
	doc, derr := p.Store.Document(ctx, docID)
	if derr != nil {
		ev.Status, ev.Err = Failed, derr
		return ev
	}
	out := store.Outcome{Err: err}
	if res != nil {
		out.Usage, out.Duration = res.Usage, res.Duration
		if err == nil {
			out.Extraction = res.Extraction
		}
		for _, w := range res.Warnings {
			p.logger().Warn("extraction warning", "document", docID, "warning", w)
		}
	}
	if err != nil {
		out.Err = fmt.Errorf("extract: %w", err)
	}
	return p.finish(context.WithoutCancel(ctx), runID, doc, ev, out)
}

// finish grounds a successful extraction, completes the document's
// metadata from it and stores the outcome; a store refusal is itself
// recorded as the document's failure.
func (p *Pipeline) finish(ctx context.Context, runID int64, doc *schema.Document, ev Event, out store.Outcome) Event {
	ch := make(chan Event, 1)
	p.finishAsync(ctx, runID, doc, ev, out, func(e Event) { ch <- e })
	return <-ch
}

// finishAsync is finish reporting through done once the outcome is
// committed.
func (p *Pipeline) finishAsync(ctx context.Context, runID int64, doc *schema.Document, ev Event, out store.Outcome, done func(Event)) {
	fillMetadata(doc, out.Extraction)
	ev.Title, ev.Kind = doc.Title, doc.Kind
	if out.Extraction != nil {
		ev.Ungrounded = extract.Ground(doc.Text, out.Extraction)
		if p.DropUngrounded {
			ev.Dropped = extract.DropUngrounded(out.Extraction)
			ev.Ungrounded -= ev.Dropped
		}
		for _, t := range out.Extraction.Theses {
			ev.DataPoints += len(t.DataPoints)
		}
		ev.NoTheses = len(out.Extraction.Theses) == 0
	}
	ev.Usage = out.Usage

	p.saveAsync(ctx, runID, doc, ev.DocumentID, out, func(id int64, err error) {
		ev.DocumentID = id
		if err != nil && !errors.Is(err, store.ErrDuplicate) {
			// The store refused the extraction (a constraint, a full disk):
			// record the document as failed with that reason instead.
			out = store.Outcome{Err: fmt.Errorf("store: %w", err), Usage: out.Usage, Duration: out.Duration}
			ev.DataPoints, ev.Ungrounded = 0, 0
			err = p.save(ctx, runID, doc, &ev, out)
			if err != nil && !errors.Is(err, store.ErrDuplicate) {
				ev.Status, ev.Err = Failed, err
				done(ev)
				return
			}
		}
		switch {
		case errors.Is(err, store.ErrDuplicate):
			// The same content was stored in this run meanwhile.
			ev.Status, ev.DataPoints, ev.Ungrounded = Duplicate, 0, 0
			p.skip(ctx, runID)
		case out.Err != nil:
			ev.Status, ev.Err = Failed, out.Err
		default:
			ev.Status = OK
		}
		done(ev)
	})
}

// load reads an item and decodes it, unless (without Force) its content is
// already stored with a successful extraction: then it returns that
// document's id, having spent no time parsing. Content whose extractions
// all failed is decoded and extracted again.
func (p *Pipeline) load(ctx context.Context, it Item) (doc *schema.Document, dup int64, err error) {
	raw := it.Raw
	if raw == nil {
		raw, err = extract.Read(ctx, it.Source, p.Load)
		if err != nil {
			return nil, 0, err
		}
	}
	if !p.Force {
		st, err := p.Lookup(ctx, raw.SHA256)
		if err != nil {
			return nil, 0, err
		}
		if st.Extracted {
			return nil, st.DocumentID, nil
		}
	}
	doc, err = raw.Decode(ctx)
	return doc, 0, err
}

func (p *Pipeline) save(ctx context.Context, runID int64, doc *schema.Document, ev *Event, out store.Outcome) error {
	ch := make(chan error, 1)
	p.saveAsync(ctx, runID, doc, ev.DocumentID, out, func(id int64, err error) {
		ev.DocumentID = id
		ch <- err
	})
	return <-ch
}

// saveAsync stores the outcome of extracting doc (stored document docID
// when not 0) and calls done once it has committed or failed.
func (p *Pipeline) saveAsync(ctx context.Context, runID int64, doc *schema.Document, docID int64, out store.Outcome, done func(int64, error)) {
	if docID != 0 {
		p.Store.SaveExtractionAsync(ctx, runID, docID, out, func(err error) { done(docID, err) })
		return
	}
	p.Store.SaveDocumentAsync(ctx, runID, doc, out, done)
}

func (p *Pipeline) skip(ctx context.Context, runID int64) {
	if err := p.Store.AddSkipped(ctx, runID, 1); err != nil {
		p.logger().Warn("count skipped document", "run", runID, "err", err)
	}
}

// fillMetadata completes what the loader could not tell about a document
// from what the extractor read in it, then falls back to the first line as
// the title.
func fillMetadata(doc *schema.Document, x *schema.Extraction) {
	if x != nil {
		for _, f := range []struct {
			dst *string
			src *string
		}{{&doc.Title, x.Title}, {&doc.Author, x.Author}, {&doc.Published, x.Published}} {
			if *f.dst == "" && f.src != nil {
				*f.dst = strings.TrimSpace(*f.src)
			}
		}
	}
	if doc.Title == "" {
		doc.Title = extract.TitleLine(doc.Text)
	}
}

// extract runs the extractor with panics contained.
func (p *Pipeline) extract(ctx context.Context, doc *schema.Document) store.Outcome {
	start := time.Now()
	var res *schema.Result
	err := extract.Safely(func() error {
		var err error
		res, err = p.Extractor.Extract(ctx, doc)
		return err
	})
	out := store.Outcome{Err: err, Duration: time.Since(start)}
	if res != nil {
		out.Usage = res.Usage
		if err == nil {
			out.Extraction = res.Extraction
			// An extractor that validated its result itself (the rules
			// extractor) is not validated again: the same check on the
			// same values, a tenth of a note's CPU.
			sv, self := p.Extractor.(extract.SelfValidating)
			if !self || !sv.ValidatesExtractions() {
				if verr := schema.Validate(res.Extraction); verr != nil {
					out.Err, out.Extraction = fmt.Errorf("%s extractor returned an invalid extraction: %w", p.Extractor.Info().Extractor, verr), nil
				}
			}
		}
		// The extractor's warnings (a limit that cut the extraction) are
		// stored with a new document, and logged: a stored document's
		// row is not rewritten by a re-extraction.
		for _, w := range res.Warnings {
			p.logger().Warn("extraction warning", "document", doc.Source, "warning", w)
		}
		doc.Warnings = append(doc.Warnings, res.Warnings...)
	}
	if out.Err != nil {
		out.Err = fmt.Errorf("extract: %w", out.Err)
	}
	return out
}

// Merge adds the counts of another summary of the same run.
func (s *Summary) Merge(o Summary) {
	s.OK += o.OK
	s.Failed += o.Failed
	s.Duplicate += o.Duplicate
	s.Cached += o.Cached
	s.Interrupted += o.Interrupted
	s.DataPoints += o.DataPoints
	s.Ungrounded += o.Ungrounded
	s.NoTheses += o.NoTheses
	s.Usage.Add(o.Usage)
	s.Elapsed += o.Elapsed
	if s.Aborted == nil {
		s.Aborted = o.Aborted
	}
}

// Run processes items with bounded concurrency, calling onEvent (from one
// goroutine at a time) as each finishes. When ctx is cancelled, or an
// extractor error says the run cannot go on (extract.ErrAbortRun), it stops
// taking items, lets the ones in flight finish or abandon them, and
// returns; items not taken are not reported.
func (p *Pipeline) Run(ctx context.Context, runID int64, items []Item, onEvent func(Event)) Summary {
	start := time.Now()
	ctx, abort := context.WithCancel(ctx)
	defer abort()
	n := p.Concurrency
	if n <= 0 {
		n = 4
	}
	work := make(chan Item)
	events := make(chan Event)
	// A worker hands an extracted document to the store and takes the
	// next item; its event comes once the document's transaction has
	// committed, so the store can group many documents in one.
	var wg, pending sync.WaitGroup
	for range min(n, max(len(items), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				pending.Add(1)
				p.process(ctx, runID, it, func(e Event) {
					events <- e
					pending.Done()
				})
			}
		}()
	}
	go func() {
		defer close(work)
		for _, it := range items {
			select {
			case work <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); pending.Wait(); close(events) }()
	var sum Summary
	for e := range events {
		if sum.Aborted == nil && errors.Is(e.Err, extract.ErrAbortRun) {
			sum.Aborted = e.Err
			p.logger().Error("stopping the run: every remaining document would fail the same way", "err", e.Err)
			abort()
		}
		sum.Add(e)
		if onEvent != nil {
			onEvent(e)
		}
	}
	sum.Elapsed = time.Since(start)
	return sum
}
