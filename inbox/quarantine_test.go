package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// quarantineSentence is what the note of a set-aside file must say.
const quarantineSentence = "thesisdb stopped twice while processing this file (crash or kill); it was set aside so the inbox can go on"

// claimCrashed puts a file into .processing/ with an attempt record of n
// attempts, as a watcher that died while processing it leaves it.
func (h *harness) claimCrashed(name, content string, n int) string {
	h.t.Helper()
	p := filepath.Join(h.dir, ProcessingDir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
	if err := h.w.init(); err != nil {
		h.t.Fatal(err)
	}
	if n > 0 {
		if err := h.w.recordAttempt(p, name, n, ""); err != nil {
			h.t.Fatal(err)
		}
	}
	return p
}

func readAttemptRecord(t *testing.T, w *Watcher, rel string) attempt {
	t.Helper()
	b, err := os.ReadFile(w.attemptPath(rel))
	if err != nil {
		t.Fatalf("attempt record of %s: %v", rel, err)
	}
	var a attempt
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestPoisonFileSetAsideAfterSecondCrash(t *testing.T) {
	h := newHarness(t, Options{Recursive: true})
	proc := filepath.Join(h.dir, ProcessingDir)
	// Died twice while processing poison.md, once while processing
	// sub/once.md; renamed.md's record is of an earlier file of that name
	// (another size); nomarker.md was claimed just before a death.
	h.claimCrashed("poison.md", "POISON that crashes the parser", 2)
	h.claimCrashed("sub/once.md", "Crashed once, maybe not its fault", 1)
	other := h.claimCrashed("renamed.md", "An earlier file of this name", 2)
	os.WriteFile(other, []byte("A different, longer file now under the same name"), 0o644)
	h.claimCrashed("nomarker.md", "Claimed, the process died before the record was written", 0)
	// Debris: a record whose file was filed by hand, a record half written.
	h.claimCrashed("gone.md", "x", 1)
	os.Remove(filepath.Join(proc, "gone.md"))
	os.WriteFile(filepath.Join(proc, attemptsDir, ".tmp-123"), []byte(`{"na`), 0o644)
	h.write("new.md", "Dropped meanwhile")

	sum := h.once()
	if sum.OK != 4 || sum.Failed != 1 {
		t.Errorf("summary %+v, want 4 ok and 1 failed", sum)
	}
	assertFiles(t, proc) // no file, no record, no temporary file left
	assertFiles(t, filepath.Join(h.dir, "done"), "sub/once.md", "renamed.md", "nomarker.md", "new.md")
	assertFiles(t, filepath.Join(h.dir, "failed"), "poison.md", "poison.md.error.txt")
	e := h.waitEvent("poison.md")
	if e.Status != pipeline.Failed || !errors.Is(e.Err, ErrQuarantined) || e.Dest != filepath.Join(h.dir, "failed", "poison.md") {
		t.Errorf("poison.md: %s %v -> %s", e.Status, e.Err, e.Dest)
	}
	note, _ := os.ReadFile(filepath.Join(h.dir, "failed", "poison.md.error.txt"))
	for _, want := range []string{quarantineSentence, "Move it back into the inbox to try again", "mv " + filepath.Join(h.dir, "failed", "poison.md")} {
		if !strings.Contains(string(note), want) {
			t.Errorf("note lacks %q:\n%s", want, note)
		}
	}
	// Set aside without being processed a third time, and on record.
	if n := h.count(`SELECT count(*) FROM documents WHERE text LIKE '%POISON%'`); n != 0 {
		t.Errorf("the poison file was processed again: %d documents", n)
	}
	rows := h.query(`SELECT source, sha256, error FROM load_failures`)
	if len(rows) != 1 || text(rows[0][0]) != filepath.Join(h.dir, "poison.md") || len(text(rows[0][1])) != 64 || !strings.Contains(text(rows[0][2]), quarantineSentence) {
		t.Errorf("load_failures %q", rows)
	}

	// Moved back into the inbox, it starts with a clean count: processed
	// (here it no longer crashes anything) and stored.
	if err := os.Rename(filepath.Join(h.dir, "failed", "poison.md"), filepath.Join(h.dir, "poison.md")); err != nil {
		t.Fatal(err)
	}
	h.events = nil
	if sum := h.once(); sum.OK != 1 {
		t.Errorf("moved back: summary %+v, want 1 ok", sum)
	}
	assertFiles(t, proc)
	if _, err := os.Stat(filepath.Join(h.dir, "done", "poison.md")); err != nil {
		t.Errorf("moved back: %v", err)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "failed", "poison.md.error.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale note left after the retry: %v", err)
	}
}

func TestStoredFileFiledWhateverItsAttempts(t *testing.T) {
	// Died twice after storing the file and before filing it: it is
	// filed as done, not set aside.
	h := newHarness(t, Options{})
	p := h.claimCrashed("stored.md", "Stored before the crash", 2)
	if ev := h.w.Pipeline.Process(context.Background(), h.w.RunID, pipeline.Item{Source: p}); ev.Status != pipeline.OK {
		t.Fatalf("setup: %+v", ev)
	}
	h.once()
	assertFiles(t, filepath.Join(h.dir, ProcessingDir))
	assertFiles(t, filepath.Join(h.dir, "done"), "stored.md")
	if e := h.waitEvent("stored.md"); !e.Recovered || e.Status != pipeline.Duplicate {
		t.Errorf("stored.md: recovered=%v %s %v", e.Recovered, e.Status, e.Err)
	}
}

func TestAttemptRecordedBeforeProcessing(t *testing.T) {
	h := newHarness(t, Options{})
	content := "A SLOW document"
	h.write("slow.md", content)
	stop := h.start()
	<-h.ex.started // being processed: its record is on disk
	a := readAttemptRecord(t, h.w, "slow.md")
	if a.Name != "slow.md" || a.Size != int64(len(content)) || a.Attempts != 1 || a.PID != os.Getpid() {
		t.Errorf("record %+v", a)
	}
	stop() // put back into the inbox: not a crash, the record goes
	assertFiles(t, filepath.Join(h.dir, ProcessingDir))

	// A recovered file's retry is recorded with its SHA-256.
	h2 := newHarness(t, Options{})
	h2.claimCrashed("slow.md", content, 1)
	stop = h2.start()
	<-h2.ex.started
	a = readAttemptRecord(t, h2.w, "slow.md")
	if a.Attempts != 2 || len(a.SHA256) != 64 {
		t.Errorf("retry record %+v", a)
	}
	stop()
}

// concurrencyExtractor records, for every document, whether another one
// was in flight at the same time, taking a while over each.
type concurrencyExtractor struct {
	testExtractor
	mu       sync.Mutex
	inflight map[string]bool
	overlap  map[string]bool
}

func (e *concurrencyExtractor) Extract(ctx context.Context, doc *schema.Document) (*schema.Result, error) {
	e.mu.Lock()
	for other := range e.inflight {
		e.overlap[other], e.overlap[doc.Source] = true, true
	}
	e.inflight[doc.Source] = true
	e.mu.Unlock()
	time.Sleep(200 * time.Millisecond)
	e.mu.Lock()
	delete(e.inflight, doc.Source)
	e.mu.Unlock()
	return e.testExtractor.Extract(ctx, doc)
}

func TestSuspectsAreRetriedAlone(t *testing.T) {
	h := newHarness(t, Options{Concurrency: 4})
	ex := &concurrencyExtractor{inflight: map[string]bool{}, overlap: map[string]bool{}}
	h.w.Pipeline.Extractor = ex
	h.claimCrashed("suspect1.md", "Was in flight at a crash", 1)
	h.claimCrashed("suspect2.md", "Was in flight at the same crash", 1)
	h.claimCrashed("innocent.md", "Claimed, never started", 0)
	for _, n := range []string{"a.md", "b.md", "c.md", "d.md"} {
		h.write(n, "Fresh note "+n)
	}
	if sum := h.once(); sum.OK != 7 {
		t.Fatalf("summary %+v, want 7 ok", sum)
	}
	for _, n := range []string{"suspect1.md", "suspect2.md"} {
		if ex.overlap[filepath.Join(h.dir, n)] {
			t.Errorf("%s was retried while another file was in flight", n)
		}
	}
	overlaps := 0
	for range ex.overlap {
		overlaps++
	}
	if overlaps == 0 {
		t.Errorf("no two files were ever in flight together: the test proves nothing")
	}
}

// crashExtractor dies with a runtime fatal error, which no recover can
// catch (as running out of memory does), on any document that contains
// POISON.
type crashExtractor struct{ testExtractor }

func (e *crashExtractor) Extract(ctx context.Context, doc *schema.Document) (*schema.Result, error) {
	if strings.Contains(doc.Text, "POISON") {
		var mu sync.Mutex
		mu.Unlock() // fatal error: sync: unlock of unlocked mutex
	}
	return e.testExtractor.Extract(ctx, doc)
}

const poisonChildEnv = "THESISDB_INBOX_POISON_CHILD"

// TestPoisonFileKillsTheProcess runs the watcher in a child process (this
// test binary) whose extractor dies on one file. The first death leaves
// the file claimed; the restart retries it and dies again; the next start
// sets it aside in failed/ and ingests everything else.
func TestPoisonFileKillsTheProcess(t *testing.T) {
	if root := os.Getenv(poisonChildEnv); root != "" {
		poisonChild(t, root)
		return
	}
	root := t.TempDir()
	dir := filepath.Join(root, "inbox")
	os.MkdirAll(dir, 0o755)
	for name, content := range map[string]string{"a.md": "Note A", "b.md": "Note B", "c.md": "Note C", "d.md": "Note D", "poison.md": "POISON"} {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	proc := filepath.Join(dir, ProcessingDir)
	child := func() (int, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPoisonFileKillsTheProcess$")
		cmd.Env = append(os.Environ(), poisonChildEnv+"="+root)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), out.String()
	}
	w := &Watcher{Dir: dir}
	if err := w.init(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		code, out := child()
		if code == 0 || !strings.Contains(out, "fatal error: sync: unlock of unlocked mutex") {
			t.Fatalf("start %d: exit %d, want the process dead of the fatal error:\n%s", i, code, out)
		}
		if _, err := os.Stat(filepath.Join(proc, "poison.md")); err != nil {
			t.Fatalf("start %d: poison.md not left claimed: %v", i, err)
		}
		if a := readAttemptRecord(t, w, "poison.md"); a.Attempts != i {
			t.Errorf("start %d: record says %d attempts", i, a.Attempts)
		}
		if i == 2 {
			// Retried alone: it was the only file claimed when it died.
			if got := files(t, proc); len(got) != 2 || got[0] != ".attempts/"+filepath.Base(w.attemptPath("poison.md")) || got[1] != "poison.md" {
				t.Errorf("start 2: claimed when it died: %q", got)
			}
		}
	}
	code, out := child()
	if code != 0 {
		t.Fatalf("third start: exit %d:\n%s", code, out)
	}
	assertFiles(t, proc)
	assertFiles(t, filepath.Join(dir, "done"), "a.md", "b.md", "c.md", "d.md")
	assertFiles(t, filepath.Join(dir, "failed"), "poison.md", "poison.md.error.txt")
	note, _ := os.ReadFile(filepath.Join(dir, "failed", "poison.md.error.txt"))
	if !strings.Contains(string(note), quarantineSentence) {
		t.Errorf("note:\n%s", note)
	}
	db, err := store.Open(context.Background(), filepath.Join(root, "t.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, _ := db.Reader()
	defer r.Close()
	res, err := r.Query(context.Background(), `SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM load_failures)`, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0]; got[0] != int64(4) || got[1] != int64(1) {
		t.Errorf("documents, load failures: %v, want 4, 1", got)
	}
}

// poisonChild is the watcher run by TestPoisonFileKillsTheProcess.
func poisonChild(t *testing.T, root string) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(root, "t.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run, err := db.StartRun(ctx, store.RunSpec{Kind: "watch", Extractor: "test", PromptVersion: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	w := &Watcher{Dir: filepath.Join(root, "inbox"), RunID: run, Options: Options{Once: true, Concurrency: 2, Settle: time.Millisecond},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Pipeline: &pipeline.Pipeline{Store: db, Extractor: &crashExtractor{}}}
	if _, err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReadAttempt(t *testing.T) {
	h := newHarness(t, Options{})
	p := h.claimCrashed("a.md", "some content", 0)
	if n, _ := h.w.readAttempt(p, "a.md"); n != 0 {
		t.Errorf("no record: %d attempts, want 0", n)
	}
	// Died between creating the first record and writing it.
	os.MkdirAll(filepath.Dir(h.w.attemptPath("a.md")), 0o755)
	os.WriteFile(h.w.attemptPath("a.md"), nil, 0o644)
	if n, _ := h.w.readAttempt(p, "a.md"); n != 1 {
		t.Errorf("empty record: %d attempts, want 1", n)
	}
	if err := h.w.recordAttempt(p, "a.md", 2, "abc"); err != nil {
		t.Fatal(err)
	}
	if n, sha := h.w.readAttempt(p, "a.md"); n != 2 || sha != "abc" {
		t.Errorf("record: %d attempts, sha %q; want 2, abc", n, sha)
	}
	// The same name now holds another file.
	os.WriteFile(p, []byte("other content, other size"), 0o644)
	if n, _ := h.w.readAttempt(p, "a.md"); n != 0 {
		t.Errorf("record of another file: %d attempts, want 0", n)
	}
	if es, _ := os.ReadDir(filepath.Dir(h.w.attemptPath("a.md"))); len(es) != 1 {
		t.Errorf("%d entries in the records folder, want 1 (no temporary file left)", len(es))
	}
}
