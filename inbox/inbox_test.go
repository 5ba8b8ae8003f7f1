package inbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// testExtractor makes one thesis with one data point per document. Text
// containing "FAIL" fails extraction; text containing "SLOW" blocks until
// the context is cancelled, after announcing itself on started.
type testExtractor struct {
	started chan string
}

func (*testExtractor) Info() extract.Info {
	return extract.Info{Extractor: "test", PromptVersion: "t1"}
}

func (e *testExtractor) Extract(ctx context.Context, doc *schema.Document) (*schema.Result, error) {
	if strings.Contains(doc.Text, "SLOW") {
		if e.started != nil {
			e.started <- doc.Source
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if strings.Contains(doc.Text, "FAIL") {
		return nil, errors.New("the model said no")
	}
	if strings.Contains(doc.Text, "QUOTA") {
		return nil, fmt.Errorf("429 insufficient_quota: %w", extract.ErrAbortRun)
	}
	line := extract.FirstLine(doc.Text)
	return &schema.Result{Extraction: &schema.Extraction{Theses: []schema.Thesis{{
		Title: line, Statement: line, Stance: schema.Bullish, Views: []schema.View{},
		DataPoints: []schema.DataPoint{{Indicator: "line", Value: "1", Quote: line}},
	}}}}, nil
}

// harness is an inbox with a store and a watcher, recording events.
type harness struct {
	t      *testing.T
	dir    string
	db     *store.DB
	w      *Watcher
	ex     *testExtractor
	mu     sync.Mutex
	events []Event
}

func newHarness(t *testing.T, o Options) *harness {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "inbox")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), filepath.Join(root, "t.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	run, err := db.StartRun(context.Background(), store.RunSpec{Kind: "watch", Extractor: "test", PromptVersion: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, dir: dir, db: db, ex: &testExtractor{started: make(chan string, 16)}}
	if o.Settle == 0 {
		o.Settle = 100 * time.Millisecond
	}
	h.w = &Watcher{Dir: dir, RunID: run, Options: o, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Pipeline: &pipeline.Pipeline{Store: db, Extractor: h.ex, Concurrency: 2},
		OnEvent: func(e Event) {
			h.mu.Lock()
			h.events = append(h.events, e)
			h.mu.Unlock()
		},
	}
	return h
}

func (h *harness) write(name, content string) string {
	h.t.Helper()
	p := filepath.Join(h.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// once runs the watcher with Once and returns its summary.
func (h *harness) once() pipeline.Summary {
	h.t.Helper()
	h.w.Once = true
	sum, err := h.w.Run(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return sum
}

// start runs the watcher until the returned stop is called.
func (h *harness) start() (stop func() pipeline.Summary) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	type out struct {
		sum pipeline.Summary
		err error
	}
	ch := make(chan out, 1)
	go func() {
		sum, err := h.w.Run(ctx)
		ch <- out{sum, err}
	}()
	var o *out
	stop = func() pipeline.Summary {
		if o == nil {
			cancel()
			r := <-ch
			o = &r
			if r.err != nil {
				h.t.Fatal(r.err)
			}
		}
		return o.sum
	}
	h.t.Cleanup(func() { stop() })
	return stop
}

func (h *harness) eventFor(name string) (Event, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.events {
		if e.Name == name {
			return e, true
		}
	}
	return Event{}, false
}

// waitEvent waits for name's event; the deadline only guards against a
// hang, it is not a speed requirement.
func (h *harness) waitEvent(name string) Event {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if e, ok := h.eventFor(name); ok {
			return e
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("no event for %s", name)
	return Event{}
}

func (h *harness) query(q string) [][]any {
	h.t.Helper()
	r, err := h.db.Reader()
	if err != nil {
		h.t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Query(context.Background(), q, 0)
	if err != nil {
		h.t.Fatalf("%s: %v", q, err)
	}
	return res.Rows
}

func (h *harness) count(q string) int {
	h.t.Helper()
	rows := h.query(q)
	n, _ := rows[0][0].(int64)
	return int(n)
}

// files lists the regular files under dir relative to it, slash-separated,
// skipping the lock.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && d.Name() != ".lock" {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func assertFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := files(t, dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("files in %s:\n got %q\nwant %q", filepath.Base(dir), got, want)
	}
}

func TestIgnored(t *testing.T) {
	for name, want := range map[string]bool{
		"note.md": false, "Q3 outlook.pdf": false, "page.html": false, "report.txt": false,
		".hidden.md": true, ".DS_Store": true, "Thumbs.db": true, "thumbs.DB": true, "~$draft.md": true,
		"a.tmp": true, "a.md.part": true, "a.partial": true, "a.pdf.crdownload": true, "a.filepart": true,
		"A.PDF.PART": true, "note.md.error.txt": true, "": true,
	} {
		if got := Ignored(name); got != want {
			t.Errorf("Ignored(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSuffixed(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{{"a/b.pdf", 0, "a/b.pdf"}, {"a/b.pdf", 2, "a/b-2.pdf"}, {"b.tar.gz", 1, "b.tar-1.gz"}, {"README", 3, "README-3"}, {"d/.md", 1, "d/.md-1"}} {
		if got := suffixed(filepath.FromSlash(c.in), c.n); got != filepath.FromSlash(c.want) {
			t.Errorf("suffixed(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestMoveNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	var m mover
	for i, content := range []string{"one", "two", "three"} {
		src := filepath.Join(dir, fmt.Sprintf("src%d", i))
		os.WriteFile(src, []byte(content), 0o644)
		got, err := m.move(src, filepath.Join(dir, "out", "x.md"))
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(dir, "out", []string{"x.md", "x-1.md", "x-2.md"}[i])
		if got != want {
			t.Errorf("move %d went to %s, want %s", i, got, want)
		}
	}
	for name, want := range map[string]string{"x.md": "one", "x-1.md": "two", "x-2.md": "three"} {
		if b, _ := os.ReadFile(filepath.Join(dir, "out", name)); string(b) != want {
			t.Errorf("%s holds %q, want %q", name, b, want)
		}
	}
	if _, err := m.move(filepath.Join(dir, "missing"), filepath.Join(dir, "out", "y.md")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("moving a missing file: %v, want ErrNotExist", err)
	}
}

func TestFilesBeforeAndAfterStartWithSubfolders(t *testing.T) {
	for _, mode := range []string{"events", "poll"} {
		t.Run(mode, func(t *testing.T) {
			o := Options{Recursive: true}
			if mode == "poll" {
				o.Poll = 50 * time.Millisecond
			}
			h := newHarness(t, o)
			h.write("before.md", "Before start\nfigure 1")
			h.write("clientA/deep/nested.txt", "Nested note")
			stop := h.start()
			h.waitEvent("before.md")
			h.write("after.md", "After start")
			h.write("clientB/new.md", "In a folder made after start")
			for _, n := range []string{"after.md", "clientB/new.md", "clientA/deep/nested.txt"} {
				if e := h.waitEvent(n); e.Status != pipeline.OK {
					t.Errorf("%s: %s %v", n, e.Status, e.Err)
				}
			}
			sum := stop()
			if sum.OK != 4 {
				t.Errorf("summary %+v, want 4 ok", sum)
			}
			assertFiles(t, filepath.Join(h.dir, "done"), "before.md", "after.md", "clientA/deep/nested.txt", "clientB/new.md")
			assertFiles(t, filepath.Join(h.dir, ProcessingDir))
			got := h.query(`SELECT coalesce(tags, '') FROM documents ORDER BY tags`)
			var tags []string
			for _, r := range got {
				tags = append(tags, text(r[0]))
			}
			if want := ",,clientA/deep,clientB"; strings.Join(tags, ",") != want {
				t.Errorf("tags %q, want %q", strings.Join(tags, ","), want)
			}
			e, _ := h.eventFor("clientB/new.md")
			if e.Item.Source != filepath.Join(h.dir, "clientB", "new.md") {
				t.Errorf("event source %q is not where the file was dropped", e.Item.Source)
			}
			if e.Dest != filepath.Join(h.dir, "done", "clientB", "new.md") {
				t.Errorf("event dest %q", e.Dest)
			}
		})
	}
}

func TestSlowWriterIsTakenOnlyWhenComplete(t *testing.T) {
	for _, mode := range []string{"events", "poll"} {
		t.Run(mode, func(t *testing.T) {
			o := Options{Recursive: true, Settle: time.Second}
			if mode == "poll" {
				o.Poll = 30 * time.Millisecond
			}
			h := newHarness(t, o)
			stop := h.start()
			f, err := os.Create(filepath.Join(h.dir, "slow.md"))
			if err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			// 25 chunks 60 ms apart: 1.5 s of writing, each pause well
			// under the settling time.
			for i := range 25 {
				chunk := fmt.Sprintf("line %d of a note written slowly\n", i)
				want.WriteString(chunk)
				if _, err := f.WriteString(chunk); err != nil {
					t.Fatal(err)
				}
				time.Sleep(60 * time.Millisecond)
			}
			f.Close()
			e := h.waitEvent("slow.md")
			stop()
			if e.Status != pipeline.OK {
				t.Fatalf("slow.md: %s %v", e.Status, e.Err)
			}
			if n := h.count(`SELECT count(*) FROM documents`); n != 1 {
				t.Errorf("%d documents, want 1", n)
			}
			if got := h.count(`SELECT bytes FROM documents`); got != want.Len() {
				t.Errorf("stored %d bytes of %d: taken before the writer finished", got, want.Len())
			}
			if b, _ := os.ReadFile(filepath.Join(h.dir, "done", "slow.md")); string(b) != want.String() {
				t.Errorf("done/slow.md holds %d bytes, want %d", len(b), want.Len())
			}
		})
	}
}

func TestTempNamesIgnoredAndRenameIntoPlace(t *testing.T) {
	h := newHarness(t, Options{Recursive: true})
	stop := h.start()
	ignored := []string{".hidden.md", "a.tmp", "b.md.part", "c.partial", "d.pdf.crdownload", "e.filepart", "~$draft.md", "Thumbs.db", ".DS_Store", "sub/.x.md"}
	for _, n := range ignored {
		h.write(n, "Temporary FAIL content")
	}
	// Written under a temporary name, then renamed into place.
	part := h.write("report.md.part", "Complete report")
	if err := os.Rename(part, filepath.Join(h.dir, "report.md")); err != nil {
		t.Fatal(err)
	}
	// Moved in from outside the inbox.
	outside := filepath.Join(filepath.Dir(h.dir), "outside.md")
	os.WriteFile(outside, []byte("Moved in"), 0o644)
	if err := os.Rename(outside, filepath.Join(h.dir, "moved.md")); err != nil {
		t.Fatal(err)
	}
	h.waitEvent("report.md")
	h.waitEvent("moved.md")
	// Let a few settling periods and a rescan pass over the ignored files.
	h.w.Rescan = 50 * time.Millisecond
	time.Sleep(5 * h.w.Settle)
	stop()
	h.mu.Lock()
	n := len(h.events)
	h.mu.Unlock()
	if n != 2 {
		t.Errorf("%d events, want 2 (report.md, moved.md): %+v", n, h.events)
	}
	assertFiles(t, filepath.Join(h.dir, "done"), "report.md", "moved.md")
	// The ignored files are left where they are, untouched.
	for _, name := range ignored {
		if _, err := os.Stat(filepath.Join(h.dir, filepath.FromSlash(name))); err != nil {
			t.Errorf("ignored file %s: %v", name, err)
		}
	}
	if n := h.count(`SELECT count(*) FROM failures`); n != 0 {
		t.Errorf("%d failures recorded for ignored files", n)
	}
}

func TestDuplicateContentGoesToDone(t *testing.T) {
	h := newHarness(t, Options{Recursive: true})
	h.write("a.md", "Same research note")
	h.write("copy/a-copy.md", "Same research note")
	h.once()
	a, b := h.waitEvent("a.md"), h.waitEvent("copy/a-copy.md")
	if b.Status == pipeline.OK { // processed concurrently: either may come first
		a, b = b, a
	}
	if a.Status != pipeline.OK || b.Status != pipeline.Duplicate {
		t.Fatalf("statuses %s, %s; want one ok, one duplicate", a.Status, b.Status)
	}
	if b.DocumentID != a.DocumentID {
		t.Errorf("duplicate names document %d, want %d", b.DocumentID, a.DocumentID)
	}
	if n := h.count(`SELECT count(*) FROM documents`); n != 1 {
		t.Errorf("%d documents, want 1", n)
	}
	assertFiles(t, filepath.Join(h.dir, "done"), "a.md", "copy/a-copy.md")
}

func TestBadFilesNextToGoodOnes(t *testing.T) {
	h := newHarness(t, Options{Recursive: true})
	h.write("good1.md", "A good note")
	h.write("empty.md", "")
	h.write("memo.docx", "not a supported type")
	h.write("sub/refused.md", "The extractor will FAIL on this")
	h.write("good2.txt", "Another good note")
	sum := h.once()
	if sum.OK != 2 || sum.Failed != 3 {
		t.Errorf("summary %+v, want 2 ok and 3 failed", sum)
	}
	assertFiles(t, filepath.Join(h.dir, "done"), "good1.md", "good2.txt")
	failed := filepath.Join(h.dir, "failed")
	assertFiles(t, failed, "empty.md", "empty.md.error.txt", "memo.docx", "memo.docx.error.txt", "sub/refused.md", "sub/refused.md.error.txt")
	assertFiles(t, h.dir+"/"+ProcessingDir)
	for name, want := range map[string][]string{
		"empty.md":       {"empty", "Nothing was stored", "mv ", "ingest "},
		"memo.docx":      {"unsupported", ".pdf", "Nothing was stored"},
		"sub/refused.md": {"the model said no", "stored (document", "reextract --failed"},
	} {
		b, err := os.ReadFile(filepath.Join(failed, filepath.FromSlash(name)) + ".error.txt")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s.error.txt lacks %q:\n%s", name, w, b)
			}
		}
	}
	if n := h.count(`SELECT count(*) FROM failures`); n != 3 {
		t.Errorf("%d failures in the database, want 3", n)
	}
	// A failed extraction stores the document with its failure; a failed
	// load stores no document.
	if n := h.count(`SELECT count(*) FROM documents`); n != 3 {
		t.Errorf("%d documents, want 3", n)
	}
}

func TestRetryAfterFixClearsNote(t *testing.T) {
	h := newHarness(t, Options{})
	h.write("note.md", "")
	h.once()
	note := filepath.Join(h.dir, "failed", "note.md.error.txt")
	if _, err := os.Stat(note); err != nil {
		t.Fatal(err)
	}
	// The analyst fixes the file and moves it back, leaving the note.
	os.Remove(filepath.Join(h.dir, "failed", "note.md"))
	h.write("note.md", "Fixed note")
	h.once()
	if e := h.events[len(h.events)-1]; e.Status != pipeline.OK {
		t.Fatalf("retry: %s %v", e.Status, e.Err)
	}
	if _, err := os.Stat(note); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale note left behind after a successful retry: %v", err)
	}
}

func TestNameClashesGetSuffixes(t *testing.T) {
	h := newHarness(t, Options{})
	os.MkdirAll(filepath.Join(h.dir, "done"), 0o755)
	os.WriteFile(filepath.Join(h.dir, "done", "n.md"), []byte("earlier"), 0o644)
	h.write("n.md", "A new note with the same name")
	h.once()
	assertFiles(t, filepath.Join(h.dir, "done"), "n.md", "n-1.md")
	if b, _ := os.ReadFile(filepath.Join(h.dir, "done", "n.md")); string(b) != "earlier" {
		t.Errorf("done/n.md was overwritten: %q", b)
	}
	if e := h.waitEvent("n.md"); e.Dest != filepath.Join(h.dir, "done", "n-1.md") {
		t.Errorf("dest %s", e.Dest)
	}
}

func TestDeleteDoneAndNotRecursive(t *testing.T) {
	h := newHarness(t, Options{DeleteDone: true})
	h.write("a.md", "Stored then deleted")
	h.write("sub/b.md", "Not taken: not recursive")
	h.once()
	assertFiles(t, h.dir, "sub/b.md")
	if n := h.count(`SELECT count(*) FROM documents`); n != 1 {
		t.Errorf("%d documents, want 1", n)
	}
}

func TestCustomDoneAndFailedDirs(t *testing.T) {
	h := newHarness(t, Options{Recursive: true})
	h.w.DoneDir = filepath.Join(h.dir, "archive", "ok")
	h.w.FailedDir = filepath.Join(filepath.Dir(h.dir), "rejected")
	h.write("a.md", "Good")
	h.write("b.md", "")
	h.once()
	// A second pass must not take the files back out of the custom folders.
	h.once()
	assertFiles(t, h.w.DoneDir, "a.md")
	assertFiles(t, h.w.FailedDir, "b.md", "b.md.error.txt")
	if len(h.events) != 2 {
		t.Errorf("%d events, want 2", len(h.events))
	}
}

func TestDoneDirMustNotContainTheInbox(t *testing.T) {
	h := newHarness(t, Options{})
	h.w.DoneDir = filepath.Dir(h.dir)
	if err := h.w.Lock(); err == nil || !strings.Contains(err.Error(), "cannot be the inbox") {
		t.Errorf("done dir above the inbox: %v", err)
	}
}

func TestCancelMidBatchReleasesFilesInFlight(t *testing.T) {
	h := newHarness(t, Options{Concurrency: 2})
	for i := range 4 {
		h.write(fmt.Sprintf("slow%d.md", i), "A SLOW document")
	}
	h.write("fast.md", "A fast one")
	stop := h.start()
	<-h.ex.started
	<-h.ex.started // both workers are busy with slow documents
	sum := stop()
	if sum.Interrupted != 2 {
		t.Errorf("summary %+v, want 2 interrupted", sum)
	}
	assertFiles(t, filepath.Join(h.dir, ProcessingDir))
	var inbox []string
	for _, f := range files(t, h.dir) {
		if !strings.Contains(f, "/") {
			inbox = append(inbox, f)
		}
	}
	if len(inbox) < 4 {
		t.Errorf("after the stop the inbox holds %q: slow files lost", inbox)
	}
	if n := h.count(`SELECT count(*) FROM documents WHERE text LIKE '%SLOW%'`); n != 0 {
		t.Errorf("%d interrupted documents stored", n)
	}
	if n := h.count(`SELECT count(*) FROM load_failures`); n != 0 {
		t.Errorf("%d load failures recorded for interrupted files", n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range h.events {
		if e.Status == pipeline.Interrupted && e.Dest != filepath.Join(h.dir, e.Name) {
			t.Errorf("%s released to %q, want back in the inbox", e.Name, e.Dest)
		}
	}
}

func TestRecoveryFromProcessing(t *testing.T) {
	h := newHarness(t, Options{Recursive: true})
	// A watcher died after storing stored.md and before filing it, and
	// while processing fresh.md; failed.md's extraction had failed.
	proc := filepath.Join(h.dir, ProcessingDir)
	for name, content := range map[string]string{"stored.md": "Stored before the crash", "sub/fresh.md": "Not stored yet", "failed.md": "This will FAIL"} {
		p := filepath.Join(proc, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	for _, name := range []string{"stored.md", "failed.md"} {
		ev := h.w.Pipeline.Process(context.Background(), h.w.RunID, pipeline.Item{Source: filepath.Join(proc, name)})
		if ev.DocumentID == 0 {
			t.Fatalf("setup: %s not stored: %+v", name, ev)
		}
	}
	h.write("sub/fresh.md", "Same name, different content, dropped meanwhile")
	h.once()
	assertFiles(t, proc)
	assertFiles(t, filepath.Join(h.dir, "done"), "stored.md", "sub/fresh.md", "sub/fresh-1.md")
	assertFiles(t, filepath.Join(h.dir, "failed"), "failed.md", "failed.md.error.txt")
	if e := h.waitEvent("stored.md"); !e.Recovered || e.Status != pipeline.Duplicate {
		t.Errorf("stored.md: recovered=%v status=%s", e.Recovered, e.Status)
	}
	if e := h.waitEvent("failed.md"); !e.Recovered || e.Status != pipeline.Failed || !strings.Contains(fmt.Sprint(e.Err), "the model said no") {
		t.Errorf("failed.md: recovered=%v status=%s err=%v", e.Recovered, e.Status, e.Err)
	}
	if n := h.count(`SELECT count(*) FROM documents`); n != 4 {
		t.Errorf("%d documents, want 4", n)
	}
	if n := h.count(`SELECT count(*) FROM documents WHERE tags = 'sub'`); n != 2 {
		t.Errorf("%d documents tagged sub, want 2", n)
	}
}

// TestStopMidFilingLeavesNoDebris restarts after a watcher was killed
// while filing: one failed file had its note half written and was still
// claimed; a cross-device move had copied part of a file beside its
// destination. The restart files the claimed file once, with a whole note,
// and removes the partial copy but no file of the user's.
func TestStopMidFilingLeavesNoDebris(t *testing.T) {
	h := newHarness(t, Options{})
	proc := filepath.Join(h.dir, ProcessingDir)
	os.MkdirAll(proc, 0o755)
	os.WriteFile(filepath.Join(proc, "bad.md"), []byte("This will FAIL"), 0o644)
	failed := filepath.Join(h.dir, "failed")
	os.MkdirAll(filepath.Join(h.dir, "done", "sub"), 0o755)
	os.MkdirAll(failed, 0o755)
	os.WriteFile(filepath.Join(failed, "bad.md.error.txt"), []byte("thesisdb watch could not"), 0o644)
	partial := filepath.Join(h.dir, "done", "sub", partialCopyPrefix+"123")
	os.WriteFile(partial, []byte("half a fi"), 0o644)
	os.WriteFile(filepath.Join(proc, journalPrefix+"1"), []byte(partial), 0o644)
	// A journal note whose copy was renamed into place before the stop.
	os.WriteFile(filepath.Join(h.dir, "done", "kept.md"), []byte("whole"), 0o644)
	os.WriteFile(filepath.Join(proc, journalPrefix+"2"), []byte(filepath.Join(h.dir, "done", partialCopyPrefix+"456")), 0o644)
	os.WriteFile(filepath.Join(h.dir, "done", ".keep"), nil, 0o644)

	h.once()
	assertFiles(t, proc)
	assertFiles(t, failed, "bad.md", "bad.md.error.txt")
	assertFiles(t, filepath.Join(h.dir, "done"), ".keep", "kept.md")
	note, err := os.ReadFile(filepath.Join(failed, "bad.md.error.txt"))
	if err != nil || !strings.Contains(string(note), "the model said no") || !strings.Contains(string(note), "reextract --failed") {
		t.Errorf("note not rewritten whole: %v\n%s", err, note)
	}
}

func TestSecondWatcherRefused(t *testing.T) {
	h := newHarness(t, Options{})
	stop := h.start()
	h.write("a.md", "x")
	h.waitEvent("a.md")
	other := &Watcher{Dir: h.dir, Pipeline: h.w.Pipeline, RunID: h.w.RunID, Options: Options{Once: true}}
	if err := other.Lock(); !errors.Is(err, ErrLocked) {
		t.Errorf("second watcher's Lock: %v, want ErrLocked", err)
	}
	if _, err := other.Run(context.Background()); !errors.Is(err, ErrLocked) {
		t.Errorf("second watcher: %v, want ErrLocked", err)
	}
	stop()
	// Released when the first one stops.
	if err := other.Lock(); err != nil {
		t.Errorf("Lock after the first watcher stopped: %v", err)
	}
	other.unlock()
}

func TestSummaryReportsProgress(t *testing.T) {
	h := newHarness(t, Options{SummaryEvery: 20 * time.Millisecond})
	var mu sync.Mutex
	var got []Stats
	h.w.OnSummary = func(s Stats) { mu.Lock(); got = append(got, s); mu.Unlock() }
	stop := h.start()
	h.write("a.md", "x")
	h.waitEvent("a.md")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(got)
		last := Stats{}
		if n > 0 {
			last = got[n-1]
		}
		mu.Unlock()
		if last.OK == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Idle: no further summaries while nothing changes.
	mu.Lock()
	before := len(got)
	mu.Unlock()
	time.Sleep(200 * time.Millisecond)
	stop()
	mu.Lock()
	defer mu.Unlock()
	if before == 0 || got[before-1].OK != 1 {
		t.Fatalf("summaries %+v, want one with 1 ok", got)
	}
	if len(got) != before {
		t.Errorf("%d summaries while idle, want none", len(got)-before)
	}
}

func TestAbortingErrorStopsTheWatch(t *testing.T) {
	h := newHarness(t, Options{Rescan: time.Hour})
	h.write("a.txt", "QUOTA 1")
	done := make(chan pipeline.Summary, 1)
	go func() {
		sum, err := h.w.Run(context.Background()) // no Once, never cancelled
		if err != nil {
			t.Error(err)
		}
		done <- sum
	}()
	select {
	case sum := <-done:
		if !errors.Is(sum.Aborted, extract.ErrAbortRun) {
			t.Errorf("Aborted = %v", sum.Aborted)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the watch kept going after an error every file would meet")
	}
	// The file is back in the inbox, unstored, for the next start.
	if _, err := os.Stat(filepath.Join(h.dir, "a.txt")); err != nil {
		t.Errorf("file not put back: %v", err)
	}
	if n := h.count("SELECT count(*) FROM documents"); n != 0 {
		t.Errorf("documents = %d", n)
	}
}

// text renders a query cell as a string.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}
