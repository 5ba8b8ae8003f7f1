package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/compare"
	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
	"github.com/thesisdb/thesisdb/extract/rules"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// cli runs the CLI in-process with ctx, leaving the environment as the
// test set it.
func cli(t *testing.T, ctx context.Context, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// noLLM clears the LLM environment for the test.
func noLLM(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv("THESISDB_MODEL", "")
}

// variant is the rules extractor under another prompt version, with its
// output edited, failing some documents or cancelling the job at a call.
type variant struct {
	*rules.Extractor
	version string
	edit    func(*schema.Extraction)
	fail    func(doc *schema.Document) bool
	// cancel is called, and the call abandoned, at call number cancelAt.
	cancel   context.CancelFunc
	cancelAt int

	mu    sync.Mutex
	calls map[string]int // by source
	n     int
}

func newVariant(version string) *variant {
	return &variant{Extractor: rules.New(), version: version, calls: map[string]int{}}
}

func (v *variant) Info() extract.Info {
	i := v.Extractor.Info()
	i.PromptVersion = v.version
	return i
}

func (v *variant) Extract(ctx context.Context, doc *schema.Document) (*schema.Result, error) {
	v.mu.Lock()
	v.n++
	n := v.n
	v.calls[doc.Source]++
	v.mu.Unlock()
	if v.cancel != nil && n == v.cancelAt {
		v.cancel()
		return nil, ctx.Err()
	}
	if v.fail != nil && v.fail(doc) {
		return nil, errors.New("scripted failure")
	}
	res, err := v.Extractor.Extract(ctx, doc)
	if err == nil && v.edit != nil {
		v.edit(res.Extraction)
	}
	return res, err
}

func (v *variant) callCount() (total int, perDoc map[string]int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	perDoc = map[string]int{}
	for k, c := range v.calls {
		perDoc[k] = c
		total += c
	}
	return total, perDoc
}

// useExtractor makes reextract use ex whatever the flags say.
func useExtractor(t *testing.T, ex extract.Extractor) {
	t.Helper()
	prev := newExtractor
	newExtractor = func(*extractFlags, *slog.Logger) (extract.Extractor, error) { return ex, nil }
	t.Cleanup(func() { newExtractor = prev })
}

// notes writes n small research notes the rules extractor reads and
// returns their folder.
func notes(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for i := 1; i <= n; i++ {
		text := fmt.Sprintf("Note %d: we are bullish on small caps.\n\nHigh-yield spreads stand at %d bps, per Fidelity.\nSmall caps trade at %d.5x forward earnings.\n", i, 200+i, 10+i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("note-%02d.txt", i)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func queryInt(t *testing.T, dbPath, q string, args ...any) int {
	t.Helper()
	db, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func getRun(t *testing.T, dbPath string, id int64) *store.Run {
	t.Helper()
	db, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.GetRun(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustCLI(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	out, errs, code := cli(t, context.Background(), args...)
	if code != want {
		t.Fatalf("thesisdb %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errs)
	}
	return out, errs
}

func TestReextractNewPromptVersion(t *testing.T) {
	noLLM(t)
	db := filepath.Join(t.TempDir(), "t.sqlite")
	mustCLI(t, 0, "--db", db, "ingest", "--extractor", "rules", "../../samples")
	docs := queryInt(t, db, "SELECT count(*) FROM documents")
	if docs < 5 {
		t.Fatalf("only %d samples stored", docs)
	}

	// Prompt v2 flips each stance and rewrites the data points.
	v2 := newVariant("rules-test-2")
	v2.edit = func(x *schema.Extraction) {
		th := &x.Theses[0]
		th.Stance = map[schema.Stance]schema.Stance{schema.Bullish: schema.Bearish}[th.Stance]
		if th.Stance == "" {
			th.Stance = schema.Bullish
		}
		th.DataPoints[0].Value = "999 bps"
		th.DataPoints = append(th.DataPoints, schema.DataPoint{Indicator: "Scripted indicator", Value: "42", Quote: "not in the text"})
	}
	useExtractor(t, v2)
	_, stderr := mustCLI(t, 0, "--db", db, "reextract")
	if !strings.Contains(stderr, fmt.Sprintf("run 2 done: %d documents — %d ok", docs, docs)) {
		t.Errorf("summary:\n%s", stderr)
	}
	// Without a terminal: progress lines, the last one complete.
	if !strings.Contains(stderr, fmt.Sprintf("progress: %d/%d documents (100%%)", docs, docs)) {
		t.Errorf("no final progress line:\n%s", stderr)
	}
	r2 := getRun(t, db, 2)
	if r2.Kind != "reextract" || r2.PromptVersion != "rules-test-2" || r2.Status != store.RunDone || r2.DocumentsOK != docs {
		t.Errorf("run 2: %+v", r2)
	}
	var params pipeline.JobParams
	if err := json.Unmarshal([]byte(r2.ParamsJSON), &params); err != nil || params.Selection.MaxDocumentID != int64(docs) {
		t.Errorf("run 2 params %s: %v", r2.ParamsJSON, err)
	}
	// The old run is kept; the current views switch to the new one.
	if n := queryInt(t, db, "SELECT count(*) FROM extractions WHERE run_id = 1 AND status = 'ok'"); n != docs {
		t.Errorf("run 1 keeps %d extractions, want %d", n, docs)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM current_theses WHERE run_id = 2"); n != docs {
		t.Errorf("%d current theses from run 2, want %d", n, docs)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM current_data_points WHERE indicator = 'Scripted indicator' AND grounded = 0"); n != docs {
		t.Errorf("%d scripted data points current, want %d", n, docs)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM theses a JOIN extractions ea ON ea.id = a.extraction_id AND ea.run_id = 1
		JOIN theses b ON b.document_id = a.document_id JOIN extractions eb ON eb.id = b.extraction_id AND eb.run_id = 2
		WHERE a.stance = b.stance`); n != 0 {
		t.Errorf("%d theses kept their stance", n)
	}

	// The same prompt again: everything cached, no new run; --force sends all.
	_, stderr = mustCLI(t, 0, "--db", db, "reextract")
	if !strings.Contains(stderr, "nothing to do") || queryInt(t, db, "SELECT count(*) FROM runs") != 2 {
		t.Errorf("re-running the same prompt: %s", stderr)
	}
	out, _ := mustCLI(t, 0, "--db", db, "reextract", "--force", "--dry-run")
	if !strings.Contains(out, fmt.Sprintf("to send:   %d documents", docs)) {
		t.Errorf("--force --dry-run:\n%s", out)
	}
	if total, _ := v2.callCount(); total != docs {
		t.Errorf("extractor called %d times for %d documents", total, docs)
	}

	// diff reports the scripted changes, per document.
	out, _ = mustCLI(t, 0, "--db", db, "diff", "--format", "json", "1", "2")
	var rep compare.DiffReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if s := rep.Summary; s.Compared != docs || s.Changed != docs || s.OnlyA != 0 || s.OnlyB != 0 {
		t.Errorf("summary %+v", s)
	}
	for _, d := range rep.Documents {
		dd := d.Diff
		if dd == nil || len(dd.Theses) != 1 || dd.Theses[0].Changes[0].Field != "stance" {
			t.Errorf("%s: thesis diff %+v", d.Source, dd)
			continue
		}
		added, removed, changed := dd.Count()
		if added != 1 || removed != 0 || changed != 1 {
			t.Errorf("%s: data points +%d -%d ~%d, want +1 -0 ~1: %+v", d.Source, added, removed, changed, dd.DataPoints)
		}
		for _, c := range dd.DataPoints {
			if (c.Status == "changed" && c.To != "999 bps") || (c.Status == "added" && c.Indicator != "Scripted indicator") {
				t.Errorf("%s: %+v", d.Source, c)
			}
		}
	}
	out, _ = mustCLI(t, 0, "--db", db, "diff", "1", "2")
	for _, want := range []string{"stance: bullish → bearish", "→ 999 bps", "+ data point Scripted indicator: 42",
		fmt.Sprintf("run 1 → run 2: %d documents compared, %d changed, 0 unchanged; 0 only in run 1, 0 only in run 2", docs, docs)} {
		if !strings.Contains(out, want) {
			t.Errorf("diff table lacks %q:\n%s", want, out)
		}
	}
	if _, stderr, code := cli(t, context.Background(), "--db", db, "diff", "1", "9"); code == 0 || !strings.Contains(stderr, "run 9") {
		t.Errorf("diff with a missing run: %d %s", code, stderr)
	}
}

func TestReextractResumesCancelledRun(t *testing.T) {
	noLLM(t)
	db := filepath.Join(t.TempDir(), "t.sqlite")
	mustCLI(t, 0, "--db", db, "ingest", "--extractor", "rules", notes(t, 10))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := newVariant("v2")
	first.cancel, first.cancelAt = cancel, 4
	useExtractor(t, first)
	_, stderr, code := cli(t, ctx, "--db", db, "reextract", "--concurrency", "1")
	if code != 130 || !strings.Contains(stderr, "run 2 interrupted") {
		t.Fatalf("cancelled reextract: exit %d\n%s", code, stderr)
	}
	if r := getRun(t, db, 2); r.Status != store.RunInterrupted || r.DocumentsOK != 3 {
		t.Fatalf("after Ctrl-C: %+v", r)
	}

	// Another prompt version may not finish it.
	useExtractor(t, newVariant("v3"))
	if _, stderr, code := cli(t, context.Background(), "--db", db, "reextract", "--resume", "2"); code == 0 || !strings.Contains(stderr, "prompt v2") {
		t.Errorf("resume with another prompt: exit %d %s", code, stderr)
	}
	if _, stderr, code := cli(t, context.Background(), "--db", db, "reextract", "--resume", "2", "--failed"); code == 0 || !strings.Contains(stderr, "takes no") {
		t.Errorf("resume with a selection: exit %d %s", code, stderr)
	}

	// While another live process holds the run, it is not resumed twice.
	hold := func(owner, heartbeat string) {
		t.Helper()
		sdb, err := sql.Open("sqlite3", db)
		if err != nil {
			t.Fatal(err)
		}
		defer sdb.Close()
		if _, err := sdb.Exec(`UPDATE runs SET status = 'running', owner = ?, heartbeat_at = `+heartbeat+` WHERE id = 2`, owner); err != nil {
			t.Fatal(err)
		}
	}
	hold("elsewhere.example:4242", `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`)
	busy := newVariant("v2")
	useExtractor(t, busy)
	if _, stderr, code := cli(t, context.Background(), "--db", db, "reextract", "--resume", "2"); code == 0 || !strings.Contains(stderr, "another thesisdb process is working on it (elsewhere.example:4242") {
		t.Errorf("resume of a run another process holds: exit %d %s", code, stderr)
	}
	if n, _ := busy.callCount(); n != 0 {
		t.Errorf("refused resume made %d calls", n)
	}
	// Silent for an hour: that process is presumed dead, the run interrupted.
	hold("elsewhere.example:4242", `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour')`)

	second := newVariant("v2")
	useExtractor(t, second)
	out, _ := mustCLI(t, 0, "--db", db, "reextract", "--resume", "2", "--dry-run")
	if !strings.Contains(out, "resume of run 2 (3 of 10 documents already done)") || !strings.Contains(out, "to send:   7 documents") {
		t.Errorf("resume dry run:\n%s", out)
	}
	mustCLI(t, 0, "--db", db, "reextract", "--resume", "2")
	total, perDoc := second.callCount()
	if total != 7 {
		t.Errorf("resume extracted %d documents, want the 7 left", total)
	}
	// Each document is extracted once: the 3 stored before Ctrl-C, the
	// one abandoned at it and the 6 never started go to the second pass.
	_, firstPerDoc := first.callCount()
	overlap := 0
	for src, n := range perDoc {
		if n != 1 {
			t.Errorf("%s extracted %d times on resume", src, n)
		}
		overlap += firstPerDoc[src]
	}
	if overlap != 1 {
		t.Errorf("%d documents of the first pass extracted again, want only the abandoned one", overlap)
	}
	if r := getRun(t, db, 2); r.Status != store.RunDone || r.DocumentsOK != 10 || r.DocumentsFailed != 0 {
		t.Errorf("after resume: %+v", r)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM extractions WHERE run_id = 2"); n != 10 {
		t.Errorf("run 2 holds %d extractions, want 10", n)
	}
	// Nothing left: resuming again changes nothing.
	_, stderr = mustCLI(t, 0, "--db", db, "reextract", "--resume", "2")
	if !strings.Contains(stderr, "nothing left to do") {
		t.Errorf("second resume: %s", stderr)
	}
}

func TestReextractResumesCrashedRun(t *testing.T) {
	noLLM(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.sqlite")
	mustCLI(t, 0, "--db", path, "ingest", "--extractor", "rules", notes(t, 10))

	// A job over documents 1..8 crashed after storing 1..4: still running.
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ex := newVariant("v2")
	info := ex.Info()
	params := pipeline.JobParams{Selection: store.Selection{Where: "id <= 8"}, Concurrency: 2}
	if err := db.Freeze(ctx, &params.Selection); err != nil {
		t.Fatal(err)
	}
	runID, err := db.StartRun(ctx, store.RunSpec{Kind: pipeline.JobKind, Extractor: info.Extractor, PromptVersion: info.PromptVersion, Params: params})
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline.Pipeline{Store: db, Extractor: ex}
	for id := int64(1); id <= 4; id++ {
		if e := p.Process(ctx, runID, pipeline.Item{DocumentID: id}); e.Status != pipeline.OK {
			t.Fatalf("document %d: %+v", id, e)
		}
	}
	db.Close()
	// The process that held it is gone.
	gone := exec.Command(os.Args[0], "-test.run=^$")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if n := queryInt(t, path, "SELECT count(*) FROM runs WHERE id = ? AND status = 'running'", runID); n != 1 {
		t.Fatalf("setup: run %d not running", runID)
	}
	sdb, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(`UPDATE runs SET owner = ? WHERE id = ?`, fmt.Sprintf("%s:%d", host, gone.Process.Pid), runID); err != nil {
		t.Fatal(err)
	}
	sdb.Close()
	// Documents stored after the job started are not part of it; opening
	// the database marks the orphaned run interrupted.
	mustCLI(t, 0, "--db", path, "ingest", "--extractor", "rules", notes(t, 12))
	if r := getRun(t, path, runID); r.Status != store.RunInterrupted || r.FinishedAt == "" {
		t.Errorf("orphaned run after the next open: %s, finished %q", r.Status, r.FinishedAt)
	}

	resumed := newVariant("v2")
	useExtractor(t, resumed)
	mustCLI(t, 0, "--db", path, "reextract", "--resume", fmt.Sprint(runID))
	if total, perDoc := resumed.callCount(); total != 4 || len(perDoc) != 4 {
		t.Errorf("resume extracted %d documents (%v), want 4", total, perDoc)
	}
	r := getRun(t, path, runID)
	if r.Status != store.RunDone || r.DocumentsOK != 8 {
		t.Errorf("after resume: %+v", r)
	}
	if n := queryInt(t, path, "SELECT count(DISTINCT document_id) FROM extractions WHERE run_id = ? AND document_id <= 8", runID); n != 8 {
		t.Errorf("%d of documents 1..8 extracted in the run", n)
	}
}

func TestReextractSelections(t *testing.T) {
	noLLM(t)
	db := filepath.Join(t.TempDir(), "t.sqlite")
	mustCLI(t, 0, "--db", db, "ingest", "--extractor", "rules", notes(t, 6))

	// Run 2 fails the even notes.
	v2 := newVariant("v2")
	v2.fail = func(d *schema.Document) bool {
		return strings.Contains(d.Text, "Note 2:") || strings.Contains(d.Text, "Note 4:")
	}
	useExtractor(t, v2)
	_, stderr := mustCLI(t, 1, "--db", db, "reextract")
	if strings.Count(stderr, "failed     document") != 2 {
		t.Errorf("failures not listed:\n%s", stderr)
	}

	v3 := newVariant("v3")
	useExtractor(t, v3)
	out, _ := mustCLI(t, 0, "--db", db, "reextract", "--failed", "--dry-run")
	if !strings.Contains(out, "selected:  2 documents") || !strings.Contains(out, "0 tokens") {
		t.Errorf("--failed --dry-run:\n%s", out)
	}
	if n := queryInt(t, db, "SELECT count(*) FROM runs"); n != 2 {
		t.Errorf("dry run started a run: %d runs", n)
	}
	mustCLI(t, 0, "--db", db, "reextract", "--failed")
	if total, _ := v3.callCount(); total != 2 {
		t.Errorf("--failed extracted %d documents, want 2", total)
	}
	out, _ = mustCLI(t, 0, "--db", db, "reextract", "--run", "3", "--dry-run")
	if !strings.Contains(out, "selected:  2 documents") || !strings.Contains(out, "cached:    2 documents") {
		t.Errorf("--run 3 --dry-run:\n%s", out)
	}
	// note-02 was extracted again by v3 (--failed), note-05 was not.
	out, _ = mustCLI(t, 0, "--db", db, "reextract", "--where", "source LIKE '%note-02.txt' OR source LIKE '%note-05.txt'", "--dry-run")
	if !strings.Contains(out, "selected:  2 documents") || !strings.Contains(out, "to send:   1 document\n") {
		t.Errorf("--where --dry-run:\n%s", out)
	}
	if _, stderr, code := cli(t, context.Background(), "--db", db, "reextract", "--where", "1; DELETE FROM documents"); code == 0 || !strings.Contains(stderr, "one condition") {
		t.Errorf("--where with a statement: exit %d %s", code, stderr)
	}
	if _, stderr, code := cli(t, context.Background(), "--db", db, "reextract", "--where", "id > 100"); code == 0 || !strings.Contains(stderr, "no stored documents match") {
		t.Errorf("empty selection: exit %d %s", code, stderr)
	}
}

func TestReextractLLM(t *testing.T) {
	srv := llmtest.New(t)
	t.Setenv("OPENAI_BASE_URL", srv.BaseURL())
	t.Setenv("OPENAI_API_KEY", "test-key")
	t.Setenv("THESISDB_MODEL", "")
	db := filepath.Join(t.TempDir(), "t.sqlite")
	mustCLI(t, 0, "--db", db, "ingest", "--extractor", "rules", notes(t, 4))

	// A dry run estimates and sends nothing.
	out, _ := mustCLI(t, 0, "--db", db, "reextract", "--extractor", "llm", "--model", "gpt-4o-mini", "--dry-run")
	if !strings.Contains(out, "to send:   4 documents") || !strings.Contains(out, "input tokens") || strings.Contains(out, " 0 input tokens") {
		t.Errorf("llm dry run:\n%s", out)
	}
	if srv.Calls() != 0 {
		t.Errorf("dry run made %d requests", srv.Calls())
	}

	answer, _ := json.Marshal(schema.Extraction{Theses: []schema.Thesis{{
		Title: "Small caps", Statement: "Small caps lag.", Stance: schema.Bearish, Views: []schema.View{},
		DataPoints: []schema.DataPoint{{Indicator: "High-yield spreads", Value: "250 bps", Quote: "High-yield spreads stand at"}},
	}}})
	srv.Otherwise(func(llmtest.Request) llmtest.Response {
		r := llmtest.Completion(string(answer))
		r.Usage = &llmtest.Usage{Prompt: 1000, Completion: 100}
		return r
	})
	_, stderr := mustCLI(t, 0, "--db", db, "reextract", "--extractor", "llm", "--model", "gpt-4o-mini", "--llm-mode", "json_schema")
	if srv.Calls() != 4 {
		t.Errorf("%d requests for 4 documents", srv.Calls())
	}
	if !strings.Contains(stderr, "4000+400 tokens") {
		t.Errorf("progress lacks tokens:\n%s", stderr)
	}
	r := getRun(t, db, 2)
	if r.Extractor != "llm" || r.Model != "gpt-4o-mini" || r.DocumentsOK != 4 || r.Usage.PromptTokens != 4000 || r.Usage.CostUSD <= 0 {
		t.Errorf("llm run: %+v", r)
	}
	out, _ = mustCLI(t, 0, "--db", db, "diff", "--format", "json", "1", "2")
	var rep compare.DiffReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Changed != 4 {
		t.Fatalf("diff summary %+v", rep.Summary)
	}
	for _, d := range rep.Documents {
		if ch := d.Diff.Theses[0].Changes[0]; ch.Field != "stance" || ch.To != "bearish" {
			t.Errorf("%s: %+v", d.Source, ch)
		}
	}
	// Resuming the finished run with its model sends nothing more.
	calls := srv.Calls()
	_, stderr = mustCLI(t, 0, "--db", db, "reextract", "--resume", "2")
	if srv.Calls() != calls || !strings.Contains(stderr, "nothing left to do") {
		t.Errorf("resume of a done run: %d new requests; %s", srv.Calls()-calls, stderr)
	}
	if _, stderr, code := cli(t, context.Background(), "--db", db, "reextract", "--resume", "2", "--model", "gpt-4o"); code == 0 || !strings.Contains(stderr, "gpt-4o-mini") {
		t.Errorf("resume with another model: exit %d %s", code, stderr)
	}
}

func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false, 7, 20, time.Hour)
	for i := 0; i < 20; i++ {
		e := pipeline.Event{Status: pipeline.OK, Usage: schema.Usage{PromptTokens: 10, CompletionTokens: 1, CostUSD: 0.001}}
		if i == 3 {
			e.Status = pipeline.Failed
		}
		p.add(e)
	}
	p.add(pipeline.Event{Status: pipeline.Interrupted})
	p.finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 10 || !strings.HasPrefix(lines[9], "progress: 20/20 documents (100%)") || !strings.Contains(lines[9], "run 7, 1 failed, 200+20 tokens, $0.0200") {
		t.Errorf("log lines:\n%s", buf.String())
	}

	buf.Reset()
	p = newProgress(&buf, true, 7, 3, time.Hour)
	for i := 0; i < 3; i++ {
		p.add(pipeline.Event{Status: pipeline.OK})
	}
	p.finish()
	if !strings.Contains(buf.String(), "3/3") || !strings.Contains(buf.String(), "docs") {
		t.Errorf("bar output: %q", buf.String())
	}
}

// fixed is a zero-latency extractor returning one ready extraction: it
// leaves only the job machinery (pipeline and store) to measure.
type fixed struct{ x *schema.Extraction }

func (fixed) Info() extract.Info { return extract.Info{Extractor: "fixed", PromptVersion: "bench"} }

func (f fixed) Extract(context.Context, *schema.Document) (*schema.Result, error) {
	x := *f.x
	x.Theses = append([]schema.Thesis(nil), f.x.Theses...)
	x.Theses[0].DataPoints = append([]schema.DataPoint(nil), f.x.Theses[0].DataPoints...)
	return &schema.Result{Extraction: &x}, nil
}

// benchDB stores n documents (the samples' texts, each made unique) with
// store calls, and returns the database path.
func benchDB(b *testing.B, n int) string {
	b.Helper()
	ctx := context.Background()
	var texts []*schema.Document
	entries, err := os.ReadDir("../../samples")
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if extract.KindOf(e.Name()) == "" {
			continue
		}
		d, err := extract.Load(ctx, filepath.Join("../../samples", e.Name()), nil)
		if err != nil {
			b.Fatal(err)
		}
		texts = append(texts, d)
	}
	path := filepath.Join(b.TempDir(), "bench.sqlite")
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	runID, err := db.StartRun(ctx, store.RunSpec{Kind: "ingest", Extractor: "none", PromptVersion: "0"})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		d := *texts[i%len(texts)]
		d.Text += fmt.Sprintf("\n\nCopy %d.", i)
		d.SHA256 = fmt.Sprintf("%064x", i+1)
		if _, err := db.SaveDocument(ctx, runID, &d, store.Outcome{Err: errors.New("not extracted")}); err != nil {
			b.Fatal(err)
		}
	}
	return path
}

// benchReextract runs `thesisdb reextract --force` over the stored
// documents with ex and reports documents per second.
func benchReextract(b *testing.B, n int, ex extract.Extractor) {
	path := benchDB(b, n)
	prev := newExtractor
	newExtractor = func(*extractFlags, *slog.Logger) (extract.Extractor, error) { return ex, nil }
	defer func() { newExtractor = prev }()
	b.ResetTimer()
	for b.Loop() {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"--db", path, "--log-level", "warn", "reextract", "--force", "--concurrency", "4"},
			strings.NewReader(""), &out, &errb); code != 0 {
			b.Fatalf("exit %d: %s", code, errb.String())
		}
	}
	b.StopTimer()
	perDoc := b.Elapsed().Seconds() / float64(b.N*n)
	b.ReportMetric(1/perDoc, "docs/s")
	b.ReportMetric(perDoc*1e6, "µs/doc")
}

// BenchmarkReextract10kRules re-extracts 10,000 stored documents with the
// rules extractor: go test ./cmd/thesisdb -run '^$' -bench Reextract -benchtime 1x
func BenchmarkReextract10kRules(b *testing.B) { benchReextract(b, 10_000, rules.New()) }

// BenchmarkReextract10kZeroLatency measures the job machinery alone
// (selection, pipeline, store) with an extractor that returns at once.
func BenchmarkReextract10kZeroLatency(b *testing.B) {
	one := 0.5
	x := &schema.Extraction{Theses: []schema.Thesis{{Title: "Bench", Statement: "Small caps beat mega caps.", Stance: schema.Bullish,
		Conviction: &one, Views: []schema.View{{Perspective: "credit", Stance: schema.Bearish}},
		DataPoints: []schema.DataPoint{
			{Indicator: "Copy", Value: "1", Quote: "Copy 1."},
			{Indicator: "HY OAS", Value: "284 bps", Quote: "High-yield spreads stand at 284 bps."},
			{Indicator: "Small-cap P/E", Value: "18x", Quote: "Small caps trade at 18x."},
		}}}}
	benchReextract(b, 10_000, fixed{x})
}
