package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// lineExtractor makes one data point of the first line that holds a
// number; text containing "PANIC" panics and "INVALID" yields an invalid
// extraction, so that the pipeline's containment can be observed.
type lineExtractor struct{ calls atomic.Int64 }

func (*lineExtractor) Info() extract.Info {
	return extract.Info{Extractor: "test", PromptVersion: "t1"}
}

func (e *lineExtractor) Extract(ctx context.Context, doc *schema.Document) (*schema.Result, error) {
	e.calls.Add(1)
	if strings.Contains(doc.Text, "PANIC") {
		panic("parser exploded")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	x := &schema.Extraction{Theses: []schema.Thesis{{Title: doc.Title, Statement: "s", Stance: schema.Bullish,
		Views: []schema.View{}, DataPoints: []schema.DataPoint{}}}}
	if strings.Contains(doc.Text, "INVALID") {
		x.Theses[0].Stance = "up"
	}
	for _, l := range strings.Split(doc.Text, "\n") {
		if strings.ContainsAny(l, "0123456789") {
			x.Theses[0].DataPoints = append(x.Theses[0].DataPoints, schema.DataPoint{Indicator: "figure", Value: strings.Fields(l)[len(strings.Fields(l))-1], Quote: l})
			break
		}
	}
	return &schema.Result{Extraction: x, Usage: schema.Usage{PromptTokens: 3, Requests: 1}}, nil
}

func newTest(t *testing.T) (*Pipeline, *store.DB, int64) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "t.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ex := &lineExtractor{}
	run, err := db.StartRun(context.Background(), store.RunSpec{Kind: "ingest", Extractor: "test", PromptVersion: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	return &Pipeline{Store: db, Extractor: ex, Concurrency: 4}, db, run
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func query(t *testing.T, db *store.DB, q string) [][]any {
	t.Helper()
	r, err := db.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Query(context.Background(), q, 0)
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows
}

func TestBadInputIsContained(t *testing.T) {
	p, db, run := newTest(t)
	dir := t.TempDir()
	good := write(t, dir, "good.txt", []byte("Title\nSpreads are 284 bps\n"))
	latin1 := write(t, dir, "latin1.txt", []byte("Caf\xe9 note\nYield is 4.2%\n"))
	empty := write(t, dir, "empty.txt", nil)
	binary := write(t, dir, "binary.txt", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00binary"))
	blank := write(t, dir, "blank.md", []byte("\n\n   \n"))
	unsupported := write(t, dir, "sheet.xlsx", []byte("PK\x03\x04"))
	os.Mkdir(filepath.Join(dir, "dir.txt"), 0o755)
	panics := write(t, dir, "panic.txt", []byte("PANIC 1\n"))
	invalid := write(t, dir, "invalid.txt", []byte("INVALID 2\n"))
	os.Symlink(filepath.Join(dir, "gone.txt"), filepath.Join(dir, "dangling.txt"))

	want := map[string]struct {
		status Status
		reason string
	}{
		good:                               {OK, ""},
		latin1:                             {OK, ""},
		empty:                              {Failed, "0 bytes"},
		binary:                             {Failed, "binary"},
		blank:                              {Failed, "no text"},
		unsupported:                        {Failed, "unsupported"},
		filepath.Join(dir, "dir.txt"):      {Failed, "is a directory"},
		filepath.Join(dir, "dangling.txt"): {Failed, "no such file"},
		panics:                             {Failed, "recovered panic"},
		invalid:                            {Failed, "invalid extraction"},
	}
	var items []Item
	for src := range want {
		items = append(items, Item{Source: src})
	}
	got := map[string]Event{}
	sum := p.Run(context.Background(), run, items, func(e Event) { got[e.Item.Source] = e })
	for src, w := range want {
		e := got[src]
		if e.Status != w.status || (w.reason != "" && (e.Err == nil || !strings.Contains(e.Err.Error(), w.reason))) {
			t.Errorf("%s: %s %v, want %s %q", filepath.Base(src), e.Status, e.Err, w.status, w.reason)
		}
	}
	if sum.OK != 2 || sum.Failed != 8 {
		t.Errorf("summary = %+v", sum)
	}
	if e := got[latin1]; len(e.LoadWarning) == 0 || !strings.Contains(e.LoadWarning[0], "Windows-1252") {
		t.Errorf("latin1 warnings = %v", e.LoadWarning)
	}
	// Every failure is recorded with its reason; the panicking and invalid
	// documents are stored (with their text) so they can be re-extracted.
	rows := query(t, db, "SELECT stage, source, error FROM failures ORDER BY source")
	if len(rows) != 8 {
		t.Fatalf("failures has %d rows, want 8: %v", len(rows), rows)
	}
	stages := map[string]string{}
	for _, r := range rows {
		stages[filepath.Base(r[1].(string))] = r[0].(string)
	}
	if stages["panic.txt"] != "extract" || stages["invalid.txt"] != "extract" || stages["empty.txt"] != "load" {
		t.Errorf("failure stages = %v", stages)
	}
	r, _ := db.GetRun(context.Background(), run)
	if r.DocumentsOK != 2 || r.DocumentsFailed != 8 {
		t.Errorf("run counters ok=%d failed=%d", r.DocumentsOK, r.DocumentsFailed)
	}
	if rows := query(t, db, "SELECT text FROM documents WHERE source LIKE '%latin1.txt'"); len(rows) != 1 || !strings.HasPrefix(rows[0][0].(string), "Café") {
		t.Errorf("latin1 text = %v", rows)
	}
}

func TestDuplicatesAndForce(t *testing.T) {
	p, db, run := newTest(t)
	dir := t.TempDir()
	a := write(t, dir, "a.txt", []byte("Note\nYield 4%\n"))
	b := write(t, dir, "copy-of-a.txt", []byte("Note\nYield 4%\n"))
	ctx := context.Background()
	if e := p.Process(ctx, run, Item{Source: a}); e.Status != OK || e.DataPoints != 1 {
		t.Fatalf("first: %+v", e)
	}
	e := p.Process(ctx, run, Item{Source: b})
	if e.Status != Duplicate || e.DocumentID == 0 {
		t.Fatalf("copy: %+v", e)
	}
	calls := p.Extractor.(*lineExtractor).calls.Load()
	if calls != 1 {
		t.Errorf("extractor called %d times, want 1 (duplicates are not extracted)", calls)
	}
	// --force extracts again, in a new run, keeping one document row.
	run2, _ := db.StartRun(ctx, store.RunSpec{Kind: "ingest", Extractor: "test", PromptVersion: "t1"})
	p.Force = true
	if e := p.Process(ctx, run2, Item{Source: b}); e.Status != OK {
		t.Fatalf("forced: %+v", e)
	}
	if rows := query(t, db, "SELECT count(*) FROM documents"); rows[0][0].(int64) != 1 {
		t.Errorf("documents = %v, want 1", rows[0][0])
	}
	if rows := query(t, db, "SELECT count(*) FROM extractions"); rows[0][0].(int64) != 2 {
		t.Errorf("extractions = %v, want 2", rows[0][0])
	}
	// Re-extraction of a stored document is cached unless forced.
	p.Force = false
	run3, _ := db.StartRun(ctx, store.RunSpec{Kind: "reextract", Extractor: "test", PromptVersion: "t1"})
	if e := p.Process(ctx, run3, Item{DocumentID: e.DocumentID}); e.Status != Cached {
		t.Errorf("re-extraction with the same prompt: %+v, want cached", e)
	}
	r, _ := db.GetRun(ctx, run3)
	if r.DocumentsSkipped != 1 {
		t.Errorf("skipped = %d", r.DocumentsSkipped)
	}
}

func TestThousandFilesOneBad(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	p, db, run := newTest(t)
	dir := t.TempDir()
	var items []Item
	for i := range 1000 {
		body := fmt.Sprintf("Note %d\nSpread %d bps\n", i, i)
		if i == 500 {
			body = "\x00\x01\x02 not text"
		}
		items = append(items, Item{Source: write(t, dir, fmt.Sprintf("n%04d.txt", i), []byte(body))})
	}
	sum := p.Run(context.Background(), run, items, nil)
	if sum.OK != 999 || sum.Failed != 1 {
		t.Fatalf("summary = %+v", sum)
	}
	if rows := query(t, db, "SELECT count(*) FROM current_data_points"); rows[0][0].(int64) != 999 {
		t.Errorf("data points = %v", rows[0][0])
	}
	if rows := query(t, db, "SELECT source FROM failures"); len(rows) != 1 || !strings.HasSuffix(rows[0][0].(string), "n0500.txt") {
		t.Errorf("failures = %v", rows)
	}
}

// blockingExtractor waits until its context ends.
type blockingExtractor struct{ started chan struct{} }

func (blockingExtractor) Info() extract.Info {
	return extract.Info{Extractor: "test", PromptVersion: "t1"}
}
func (b blockingExtractor) Extract(ctx context.Context, _ *schema.Document) (*schema.Result, error) {
	b.started <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestCancelLeavesNothingHalfDone(t *testing.T) {
	p, db, run := newTest(t)
	be := blockingExtractor{started: make(chan struct{}, 10)}
	p.Extractor = be
	p.Concurrency = 2
	dir := t.TempDir()
	var items []Item
	for i := range 6 {
		items = append(items, Item{Source: write(t, dir, fmt.Sprintf("%d.txt", i), []byte(fmt.Sprintf("doc %d", i)))})
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-be.started; <-be.started; cancel() }()
	sum := p.Run(ctx, run, items, nil)
	if sum.Interrupted != 2 || sum.OK+sum.Failed != 0 {
		t.Errorf("summary = %+v, want 2 interrupted and nothing else", sum)
	}
	if rows := query(t, db, "SELECT count(*) FROM documents"); rows[0][0].(int64) != 0 {
		t.Errorf("documents = %v after cancel, want 0", rows[0][0])
	}
	if rows := query(t, db, "SELECT count(*) FROM failures"); rows[0][0].(int64) != 0 {
		t.Errorf("failures = %v after cancel, want 0", rows[0][0])
	}
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o644) }

// quotaExtractor fails every document with an error that aborts the run.
type quotaExtractor struct{ calls atomic.Int64 }

func (*quotaExtractor) Info() extract.Info {
	return extract.Info{Extractor: "test", PromptVersion: "t1"}
}
func (q *quotaExtractor) Extract(context.Context, *schema.Document) (*schema.Result, error) {
	q.calls.Add(1)
	return nil, fmt.Errorf("429 insufficient_quota: %w", extract.ErrAbortRun)
}

func TestAbortRunStopsAndStoresNothing(t *testing.T) {
	p, db, run := newTest(t)
	q := &quotaExtractor{}
	p.Extractor, p.Concurrency = q, 1
	dir := t.TempDir()
	var items []Item
	for i := range 20 {
		items = append(items, Item{Source: write(t, dir, fmt.Sprintf("%d.txt", i), []byte(fmt.Sprintf("doc %d", i)))})
	}
	sum := p.Run(context.Background(), run, items, nil)
	if !errors.Is(sum.Aborted, extract.ErrAbortRun) {
		t.Fatalf("Aborted = %v", sum.Aborted)
	}
	if n := q.calls.Load(); n > 3 {
		t.Errorf("extractor called %d times after the run should have stopped", n)
	}
	// The documents stay unstored so the next run processes them.
	if rows := query(t, db, "SELECT count(*) FROM documents"); rows[0][0].(int64) != 0 {
		t.Errorf("documents = %v, want 0", rows[0][0])
	}
}

func TestEventDurationAndComplete(t *testing.T) {
	p, db, run := newTest(t)
	src := write(t, t.TempDir(), "a.txt", []byte("Note\nSpread 284 bps\n"))
	e := p.Process(context.Background(), run, Item{Source: src})
	if e.Status != OK || e.Duration <= 0 {
		t.Fatalf("event = %+v, want ok with a duration", e)
	}
	// A result obtained elsewhere (a batch) is grounded and stored in
	// another run, and becomes current.
	run2, _ := db.StartRun(context.Background(), store.RunSpec{Kind: "reextract", Extractor: "test", PromptVersion: "t2"})
	x := &schema.Extraction{Theses: []schema.Thesis{{Title: "t", Statement: "s", Stance: schema.Bearish, Views: []schema.View{},
		DataPoints: []schema.DataPoint{{Indicator: "spread", Value: "284 bps", Quote: "Spread 284 bps"}}}}}
	c := p.Complete(context.Background(), run2, e.DocumentID, &schema.Result{Extraction: x, Usage: schema.Usage{PromptTokens: 9}}, nil)
	if c.Status != OK || c.DataPoints != 1 || c.Ungrounded != 0 {
		t.Fatalf("complete = %+v", c)
	}
	if rows := query(t, db, "SELECT stance, run_id FROM current_theses"); rows[0][0] != "bearish" || rows[0][1].(int64) != run2 {
		t.Errorf("current = %v", rows)
	}
	f := p.Complete(context.Background(), run2, e.DocumentID, nil, errors.New("refused"))
	if f.Status != Duplicate {
		t.Errorf("a second outcome for the same run and document = %+v, want duplicate", f)
	}
}

// flakyExtractor fails its first call, then works.
type flakyExtractor struct {
	lineExtractor
	failed atomic.Bool
}

func (f *flakyExtractor) Extract(ctx context.Context, doc *schema.Document) (*schema.Result, error) {
	if !f.failed.Swap(true) {
		return nil, errors.New("server answered 503")
	}
	return f.lineExtractor.Extract(ctx, doc)
}

func TestFailedDocumentIsRetriedNotDuplicate(t *testing.T) {
	p, db, run := newTest(t)
	p.Extractor = &flakyExtractor{}
	dir := t.TempDir()
	claimed := write(t, dir, "claimed.txt", []byte("Note\nYield 4%\n"))
	it := Item{Source: claimed, Name: "/inbox/note.txt"}
	if e := p.Process(context.Background(), run, it); e.Status != Failed {
		t.Fatalf("first: %+v", e)
	}
	run2, _ := db.StartRun(context.Background(), store.RunSpec{Kind: "ingest", Extractor: "test", PromptVersion: "t1"})
	if e := p.Process(context.Background(), run2, it); e.Status != OK {
		t.Fatalf("second: %+v, want ok (a document with only failed extractions is retried)", e)
	}
	if e := p.Process(context.Background(), run2, Item{Source: claimed}); e.Status != Duplicate {
		t.Fatalf("third: %+v, want duplicate", e)
	}
	rows := query(t, db, "SELECT source, (SELECT count(*) FROM documents) FROM current_theses")
	if len(rows) != 1 || rows[0][0] != "/inbox/note.txt" || rows[0][1].(int64) != 1 {
		t.Errorf("current theses = %v, want one document recorded under its Name", rows)
	}
}

// claimingExtractor is a lineExtractor that says whether it validates its
// own extractions (extract.SelfValidating).
type claimingExtractor struct {
	lineExtractor
	validates bool
}

func (e *claimingExtractor) ValidatesExtractions() bool { return e.validates }

// TestSelfValidatingExtractorIsTrusted checks that the pipeline validates
// an extraction unless its extractor says it validated it already.
func TestSelfValidatingExtractorIsTrusted(t *testing.T) {
	for _, validates := range []bool{false, true} {
		p, _, run := newTest(t)
		p.Extractor = &claimingExtractor{validates: validates}
		src := write(t, t.TempDir(), "invalid.txt", []byte("INVALID 2\n"))
		var ev Event
		p.Run(context.Background(), run, []Item{{Source: src}}, func(e Event) { ev = e })
		rejected := ev.Err != nil && strings.Contains(ev.Err.Error(), "invalid extraction")
		if rejected == validates {
			t.Errorf("ValidatesExtractions() = %v: event %s %v", validates, ev.Status, ev.Err)
		}
	}
}
