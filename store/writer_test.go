package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/schema"
)

func openBatched(t *testing.T, o WriteOptions) *DB {
	t.Helper()
	db, err := OpenWith(context.Background(), filepath.Join(t.TempDir(), "t.sqlite"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// saveAll submits docs asynchronously and waits for every outcome.
func saveAll(t *testing.T, db *DB, run int64, n int, outcome func(i int) Outcome) []error {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		db.SaveDocumentAsync(context.Background(), run, testDoc(i), outcome(i), func(_ int64, err error) {
			errs[i] = err
			wg.Done()
		})
	}
	wg.Wait()
	return errs
}

func TestBatchedDocumentFailsAlone(t *testing.T) {
	db := openBatched(t, WriteOptions{MaxDocs: 64, MaxTime: 5 * time.Second, Linger: time.Second})
	run := startRun(t, db, "p1")
	const n, bad = 40, 17
	errs := saveAll(t, db, run, n, func(i int) Outcome {
		x := testExtraction(schema.Bullish)
		if i == bad {
			// Its thesis is written, then its second one violates a
			// CHECK constraint.
			x.Theses = append(x.Theses, schema.Thesis{Title: "bad", Statement: "s", Stance: "sideways"})
		}
		return Outcome{Extraction: x}
	})
	for i, err := range errs {
		if (err != nil) != (i == bad) {
			t.Errorf("document %d: %v", i, err)
		}
	}
	if c := db.commits.Load(); c >= n/2 {
		t.Errorf("%d documents took %d transactions: not grouped", n, c)
	}
	if got := count(t, db, `SELECT count(*) FROM documents`); got != n-1 {
		t.Errorf("%d documents stored, want %d", got, n-1)
	}
	// The failing document left nothing behind; the others are whole.
	if got := count(t, db, `SELECT count(*) FROM documents WHERE sha256 = ?`, testDoc(bad).SHA256); got != 0 {
		t.Error("the failed document's row was kept")
	}
	for table, want := range map[string]int{"extractions": n - 1, "theses": n - 1, "views": n - 1, "data_points": 2 * (n - 1),
		"current_extraction": n - 1, "data_points_fts": 2 * (n - 1)} {
		if got := count(t, db, `SELECT count(*) FROM `+table); got != want {
			t.Errorf("%s: %d rows, want %d", table, got, want)
		}
	}
	r, err := db.GetRun(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	if r.DocumentsOK != n-1 || r.DataPoints != 2*(n-1) {
		t.Errorf("run counts %d documents, %d data points", r.DocumentsOK, r.DataPoints)
	}
	checkCurrent(t, db.r)
	checkFullText(t, db, n-1)
}

// checkFullText fails unless the full-text indexes hold exactly the
// stored documents and data points (docs of them, as testDoc and
// testExtraction write them).
func checkFullText(t *testing.T, db *DB, docs int) {
	t.Helper()
	for _, ix := range []string{"documents_fts", "data_points_fts"} {
		if _, err := db.w.Exec(`INSERT INTO ` + ix + `(` + ix + `) VALUES ('integrity-check')`); err != nil {
			t.Errorf("%s: %v", ix, err)
		}
	}
	if got := count(t, db, `SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'spreads'`); got != docs {
		t.Errorf("%d documents found by full-text search, want %d", got, docs)
	}
	if got := count(t, db, `SELECT count(*) FROM data_points_fts WHERE data_points_fts MATCH 'fidelity'`); got != docs {
		t.Errorf("%d data points found by full-text search, want %d", got, docs)
	}
}

func TestBatchLostAsWholeIsWrittenDocumentByDocument(t *testing.T) {
	ctx := context.Background()
	db := openBatched(t, WriteOptions{MaxDocs: 64, MaxTime: 5 * time.Second, Linger: time.Second})
	run := startRun(t, db, "p1")
	// A document whose writes end the transaction itself (as a full disk
	// or an I/O error does) takes the batch down with it; the others are
	// written again, each alone, and stored.
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		fn := func(ctx context.Context, tx *wtx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO load_failures (run_id, source, error) VALUES (?, ?, 'x')`, run, fmt.Sprint(i))
			return err
		}
		if i == 3 {
			fn = func(ctx context.Context, tx *wtx) error {
				if _, err := tx.ExecContext(ctx, `ROLLBACK`); err != nil {
					return err
				}
				return errors.New("transaction lost")
			}
		}
		if err := db.submit(ctx, &writeReq{async: true, fn: fn, done: func(err error) { errs[i] = err; wg.Done() }}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for i, err := range errs {
		if (err != nil) != (i == 3) {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if got := count(t, db, `SELECT count(*) FROM load_failures`); got != 9 {
		t.Errorf("%d rows stored, want 9", got)
	}
}

func TestSynchronousSavesDoNotWait(t *testing.T) {
	// A lone synchronous save commits at once, not after Linger: were it
	// to wait for company, it would wait an hour, past the test timeout.
	db := openBatched(t, WriteOptions{MaxTime: time.Hour, Linger: time.Hour})
	run := startRun(t, db, "p1")
	for i := range 3 {
		if _, err := db.SaveDocument(context.Background(), run, testDoc(i), Outcome{Extraction: testExtraction(schema.Bullish)}); err != nil {
			t.Fatal(err)
		}
	}
	if c := db.commits.Load(); c != 3 {
		t.Errorf("3 documents saved one after the other took %d transactions", c)
	}
}

// TestCrashMidBatch kills a process that is saving documents in batches
// and checks that every document it was told was committed is stored,
// whole, and that no document is stored in part.
func TestCrashMidBatch(t *testing.T) {
	if os.Getenv("THESISDB_CRASH_CHILD") != "" {
		crashChild()
		return
	}
	path := filepath.Join(t.TempDir(), "crash.sqlite")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidBatch$")
	cmd.Env = append(os.Environ(), "THESISDB_CRASH_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	committed := map[string]bool{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		sha, ok := strings.CutPrefix(sc.Text(), "committed ")
		if !ok {
			continue
		}
		committed[sha] = true
		if len(committed) == 300 {
			cmd.Process.Kill()
			break
		}
	}
	cmd.Wait()
	if len(committed) < 300 {
		t.Fatalf("child reported %d commits before it ended", len(committed))
	}
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.r.Query(`SELECT d.sha256, count(DISTINCT e.id), count(p.id) FROM documents d
		LEFT JOIN extractions e ON e.document_id = d.id LEFT JOIN data_points p ON p.extraction_id = e.id GROUP BY d.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := 0
	for rows.Next() {
		var sha string
		var ext, points int
		if err := rows.Scan(&sha, &ext, &points); err != nil {
			t.Fatal(err)
		}
		stored++
		if ext != 1 || points != 2 {
			t.Errorf("document %s stored in part: %d extractions, %d data points", sha, ext, points)
		}
		delete(committed, sha)
	}
	if len(committed) > 0 {
		t.Errorf("%d documents reported committed are missing", len(committed))
	}
	if stored < 300 {
		t.Errorf("%d documents stored", stored)
	}
	checkCurrent(t, db.r)
}

// crashChild saves documents forever, printing each one's SHA-256 once
// its transaction has committed.
func crashChild() {
	db, err := OpenWith(context.Background(), os.Getenv("THESISDB_CRASH_CHILD"), WriteOptions{MaxDocs: 50, Linger: 50 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	run, err := db.StartRun(context.Background(), RunSpec{Kind: "ingest", Extractor: "rules", PromptVersion: "p"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		doc := testDoc(i)
		db.SaveDocumentAsync(context.Background(), run, doc, Outcome{Extraction: testExtraction(schema.Bullish)}, func(_ int64, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				w.WriteString("committed " + doc.SHA256 + "\n")
				w.Flush()
			} else {
				fmt.Fprintln(os.Stderr, "document", strconv.Itoa(i), err)
			}
		})
	}
}

// At the default bounds a batch holds thousands of documents; each is
// still all or nothing, and one failing rolls back no other.
func TestDefaultBatchDocumentsFailAlone(t *testing.T) {
	db := openBatched(t, WriteOptions{})
	if db.wopt.MaxDocs < 1000 {
		t.Fatalf("default batch of %d documents", db.wopt.MaxDocs)
	}
	run := startRun(t, db, "p1")
	const n = 1500
	// The first fails before any other is written, the others after
	// hundreds were.
	bad := map[int]bool{0: true, 700: true, 1499: true}
	errs := saveAll(t, db, run, n, func(i int) Outcome {
		x := testExtraction(schema.Bullish)
		if bad[i] {
			x.Theses = append(x.Theses, schema.Thesis{Title: "bad", Statement: "s", Stance: "sideways"})
		}
		return Outcome{Extraction: x}
	})
	for i, err := range errs {
		if (err != nil) != bad[i] {
			t.Errorf("document %d: %v", i, err)
		}
	}
	if c := db.commits.Load(); c >= n/2 {
		t.Errorf("%d documents took %d transactions: not grouped", n, c)
	}
	ok := n - len(bad)
	for table, want := range map[string]int{"documents": ok, "extractions": ok, "theses": ok, "data_points": 2 * ok, "current_extraction": ok} {
		if got := count(t, db, `SELECT count(*) FROM `+table); got != want {
			t.Errorf("%s: %d rows, want %d", table, got, want)
		}
	}
	for i := range bad {
		if got := count(t, db, `SELECT count(*) FROM documents WHERE sha256 = ?`, testDoc(i).SHA256); got != 0 {
			t.Errorf("failed document %d: its row was kept", i)
		}
	}
	checkCurrent(t, db.r)
	checkFullText(t, db, ok)
}

// A batch commits once it holds MaxBytes of text and JSON, whatever its
// count of documents.
func TestBatchBoundedByBytes(t *testing.T) {
	js, err := json.Marshal(testExtraction(schema.Bullish))
	if err != nil {
		t.Fatal(err)
	}
	size := len(testDoc(0).Text) + len(js) // testDoc's texts differ by a digit or two
	// Two documents stay under the bound, the third reaches it.
	db := openBatched(t, WriteOptions{MaxDocs: 1000, MaxTime: time.Hour, Linger: 2 * time.Second, MaxBytes: 2*size + 10})
	run := startRun(t, db, "p1")
	const n = 30
	for i, err := range saveAll(t, db, run, n, func(int) Outcome { return Outcome{Extraction: testExtraction(schema.Bullish)} }) {
		if err != nil {
			t.Errorf("document %d: %v", i, err)
		}
	}
	if c := db.commits.Load(); c != n/3 {
		t.Errorf("%d documents in %d transactions, want %d of three", n, c, n/3)
	}
}
