package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/schema"
)

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ptr[T any](v T) *T { return &v }

func testDoc(n int) *schema.Document {
	text := fmt.Sprintf("Note %d.\nHigh-yield spreads stand at 284 bps.\nSmall caps trade at 18x.", n)
	return &schema.Document{Kind: "text", Source: fmt.Sprintf("note-%d.txt", n), Title: fmt.Sprintf("Note %d", n),
		Text: text, SHA256: fmt.Sprintf("%064x", n), Bytes: int64(len(text))}
}

func testExtraction(stance schema.Stance) *schema.Extraction {
	return &schema.Extraction{Theses: []schema.Thesis{{
		Title: "Rotation", Statement: "Small caps beat mega caps.", Stance: stance, Conviction: ptr(0.5),
		Views: []schema.View{{Perspective: "credit", Stance: schema.Bearish, Confidence: ptr(0.7)}},
		DataPoints: []schema.DataPoint{
			{Indicator: "HY OAS", Value: "284 bps", Source: ptr("Fidelity"), Quote: "High-yield spreads stand at 284 bps.",
				Ground: &schema.Grounding{Start: 8, End: 44, Method: "exact", Grounded: true}},
			{Indicator: "Small-cap P/E", Value: "18x", Quote: "Small caps trade at 18x."},
		},
	}}}
}

func startRun(t testing.TB, db *DB, prompt string) int64 {
	t.Helper()
	id, err := db.StartRun(context.Background(), RunSpec{Kind: "ingest", Extractor: "rules", PromptVersion: prompt})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func count(t testing.TB, db *DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.r.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.sqlite")
	for i := 0; i < 2; i++ {
		db, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		v, err := db.SchemaVersion(context.Background())
		if err != nil || v != migrationCount(t) {
			t.Fatalf("schema version = %d, %v", v, err)
		}
		db.Close()
	}
}

func TestSaveDocumentAndViews(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	run := startRun(t, db, "p1")
	docID, err := db.SaveDocument(ctx, run, testDoc(1), Outcome{Extraction: testExtraction(schema.Bullish), Usage: schema.Usage{PromptTokens: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM current_data_points WHERE document_id = ?`, docID); n != 2 {
		t.Errorf("current_data_points = %d rows, want 2", n)
	}
	var num, lo float64
	var unit string
	var start, end, grounded int
	if err := db.r.QueryRow(`SELECT value_num, value_low, unit, char_start, char_end, grounded FROM data_points WHERE indicator = 'HY OAS'`).
		Scan(&num, &lo, &unit, &start, &end, &grounded); err != nil {
		t.Fatal(err)
	}
	if num != 284 || lo != 284 || unit != "bp" || start != 8 || end != 44 || grounded != 1 {
		t.Errorf("HY OAS row = %v %v %q %d %d %d", num, lo, unit, start, end, grounded)
	}
	// The offsets are characters: substr returns the quote.
	var passage string
	db.r.QueryRow(`SELECT substr(d.text, p.char_start + 1, p.char_end - p.char_start) FROM data_points p JOIN documents d ON d.id = p.document_id WHERE p.indicator = 'HY OAS'`).Scan(&passage)
	if passage != "High-yield spreads stand at 284 bps." {
		t.Errorf("substr passage = %q", passage)
	}
	r, err := db.GetRun(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if r.DocumentsOK != 1 || r.DataPoints != 2 || r.Ungrounded != 1 || r.Usage.PromptTokens != 10 {
		t.Errorf("run counters = %+v", r)
	}
	// Full-text search sees documents and data points.
	if n := count(t, db, `SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'spreads'`); n != 1 {
		t.Errorf("documents_fts match = %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM data_points_fts WHERE data_points_fts MATCH 'fidelity'`); n != 1 {
		t.Errorf("data_points_fts match = %d", n)
	}

	// A later run's extraction becomes current; the old one stays queryable.
	run2 := startRun(t, db, "p2")
	if err := db.SaveExtraction(ctx, run2, docID, Outcome{Extraction: testExtraction(schema.Bearish)}); err != nil {
		t.Fatal(err)
	}
	var stance string
	db.r.QueryRow(`SELECT stance FROM current_theses WHERE document_id = ?`, docID).Scan(&stance)
	if stance != "bearish" {
		t.Errorf("current stance = %q, want bearish (the newer run)", stance)
	}
	if n := count(t, db, `SELECT count(*) FROM theses t JOIN extractions e ON e.id = t.extraction_id WHERE e.run_id = ?`, run); n != 1 {
		t.Errorf("old run's theses = %d", n)
	}
	// A failed newer extraction does not hide the last good one.
	run3 := startRun(t, db, "p3")
	if err := db.SaveExtraction(ctx, run3, docID, Outcome{Err: errors.New("model refused")}); err != nil {
		t.Fatal(err)
	}
	db.r.QueryRow(`SELECT stance FROM current_theses WHERE document_id = ?`, docID).Scan(&stance)
	if stance != "bearish" {
		t.Errorf("after a failure current stance = %q, want bearish", stance)
	}
	if err := db.SaveExtraction(ctx, run3, docID, Outcome{Err: errors.New("again")}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second extraction in one run: %v, want ErrDuplicate", err)
	}
	ok, err := db.HasExtraction(ctx, CacheKey{DocumentID: docID, Extractor: "rules", PromptVersion: "p2", SchemaVersion: schema.Version})
	if err != nil || !ok {
		t.Errorf("HasExtraction(p2) = %v, %v", ok, err)
	}
	ok, _ = db.HasExtraction(ctx, CacheKey{DocumentID: docID, Extractor: "rules", PromptVersion: "p3", SchemaVersion: schema.Version})
	if ok {
		t.Error("HasExtraction(p3) is true for a failed extraction")
	}
}

func TestSaveIsAtomic(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	run := startRun(t, db, "p1")
	x := testExtraction(schema.Bullish)
	x.Theses = append(x.Theses, schema.Thesis{Title: "bad", Statement: "s", Stance: "sideways"}) // violates CHECK
	if _, err := db.SaveDocument(ctx, run, testDoc(1), Outcome{Extraction: x}); err == nil {
		t.Fatal("SaveDocument accepted an invalid stance")
	}
	for _, table := range []string{"documents", "extractions", "theses", "views", "data_points"} {
		if n := count(t, db, "SELECT count(*) FROM "+table); n != 0 {
			t.Errorf("%s has %d rows after a failed save", table, n)
		}
	}
	if r, _ := db.GetRun(ctx, run); r.DocumentsOK+r.DocumentsFailed != 0 {
		t.Errorf("run counted a failed save: %+v", r)
	}
	// A failed extraction is recorded with its document and error.
	id, err := db.SaveDocument(ctx, run, testDoc(2), Outcome{Err: errors.New("llm: 3 validation errors")})
	if err != nil {
		t.Fatal(err)
	}
	var status, msg string
	db.r.QueryRow(`SELECT status, error FROM extractions WHERE document_id = ?`, id).Scan(&status, &msg)
	if status != "failed" || !strings.Contains(msg, "validation") {
		t.Errorf("failed extraction row = %q %q", status, msg)
	}
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	run := startRun(t, db, "p1")
	// A second handle on the same file, as a watcher and a re-extraction
	// job would have: writes must queue, never fail with "locked".
	db2, err := Open(ctx, db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	reader, err := db.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			h := db
			if w%2 == 1 {
				h = db2
			}
			for i := 0; i < 25; i++ {
				if _, err := h.SaveDocument(ctx, run, testDoc(w*100+i), Outcome{Extraction: testExtraction(schema.Bullish)}); err != nil {
					errs <- err
				}
				if _, err := reader.Query(ctx, "SELECT count(*) FROM current_data_points", 0); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := count(t, db, "SELECT count(*) FROM documents"); n != 100 {
		t.Errorf("documents = %d, want 100", n)
	}
	if r, _ := db.GetRun(ctx, run); r.DocumentsOK != 100 || r.DataPoints != 200 {
		t.Errorf("run counters = ok %d points %d", r.DocumentsOK, r.DataPoints)
	}
}

func TestReaderRefusesWrites(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	run := startRun(t, db, "p1")
	if _, err := db.SaveDocument(ctx, run, testDoc(1), Outcome{Extraction: testExtraction(schema.Bullish)}); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, q := range []string{
		"DELETE FROM documents",
		"UPDATE theses SET stance = 'bearish'",
		"INSERT INTO runs (kind, extractor, prompt_version, schema_version) VALUES ('x', 'x', 'x', 'x')",
		"DROP TABLE data_points",
		"CREATE TABLE x (a)",
		"ATTACH DATABASE ':memory:' AS other",
		"PRAGMA user_version = 99",
		"PRAGMA journal_mode = DELETE",
		"WITH t AS (SELECT 1) DELETE FROM documents",
	} {
		if _, err := r.Query(ctx, q, 0); !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s: err = %v, want ErrReadOnly", q, err)
		}
	}
	if n := count(t, db, "SELECT count(*) FROM documents"); n != 1 {
		t.Fatalf("documents = %d after refused writes", n)
	}
	if v, _ := db.SchemaVersion(ctx); v != migrationCount(t) {
		t.Fatalf("user_version = %d after refused PRAGMA", v)
	}
	// Reading works, including pragmas and recursive CTEs.
	res, err := r.Query(ctx, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 5) SELECT i FROM n", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 3 || !res.Truncated {
		t.Errorf("rows = %d truncated = %v, want 3 and true", len(res.Rows), res.Truncated)
	}
	if _, err := r.Query(ctx, "PRAGMA user_version", 0); err != nil {
		t.Errorf("reading a pragma: %v", err)
	}
	// A runaway query is interrupted by the context deadline.
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = r.Query(tctx, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n", 0)
	if err == nil || !strings.Contains(err.Error(), "interrupt") {
		t.Errorf("runaway query: %v, want interrupted", err)
	}
}

func TestOpenReaderMissing(t *testing.T) {
	_, err := OpenReader(filepath.Join(t.TempDir(), "none.sqlite"))
	if err == nil || !strings.Contains(err.Error(), "thesisdb ingest") {
		t.Fatalf("err = %v", err)
	}
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	run := startRun(t, db, "p1")
	db.SaveDocument(ctx, run, testDoc(1), Outcome{Extraction: testExtraction(schema.Bullish)})
	db.SaveDocument(ctx, run, testDoc(2), Outcome{Err: errors.New("boom")})
	var recs []ExportRecord
	if err := db.Export(ctx, 0, func(r ExportRecord) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("exported %d records, want 1 (failed extractions are not current)", len(recs))
	}
	x, err := schema.Parse(recs[0].Extraction)
	if err != nil {
		t.Fatalf("exported extraction is not a valid schema document: %v", err)
	}
	if x.Theses[0].DataPoints[0].Value != "284 bps" || recs[0].Run.ID != run || recs[0].Document.Source != "note-1.txt" {
		t.Errorf("record = %+v", recs[0])
	}
}

func migrationCount(t testing.TB) int {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func TestExtractionState(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	run := startRun(t, db, "p1")
	id, err := db.SaveDocument(ctx, run, testDoc(1), Outcome{Err: errors.New("server answered 503")})
	if err != nil {
		t.Fatal(err)
	}
	ok, last, err := db.ExtractionState(ctx, id)
	if err != nil || ok || last != "server answered 503" {
		t.Fatalf("after a failure: %v %q %v", ok, last, err)
	}
	if err := db.SaveExtraction(ctx, startRun(t, db, "p2"), id, Outcome{Extraction: testExtraction(schema.Bullish)}); err != nil {
		t.Fatal(err)
	}
	ok, last, err = db.ExtractionState(ctx, id)
	if err != nil || !ok || last != "" {
		t.Fatalf("after a success: %v %q %v", ok, last, err)
	}
}
