package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

// oldCurrent is how the views chose each document's current extraction
// before migration 0005.
const oldCurrent = `SELECT e.document_id, e.id FROM extractions e WHERE e.status = 'ok'
	AND e.id = (SELECT max(e2.id) FROM extractions e2 WHERE e2.document_id = e.document_id AND e2.status = 'ok')
	ORDER BY 1`

// checkCurrent fails unless current_extraction, its counts and the
// maintained source counts agree with what they summarise.
func checkCurrent(t *testing.T, q interface {
	Query(string, ...any) (*sql.Rows, error)
}) {
	t.Helper()
	rowsOf := func(query string) string {
		t.Helper()
		rows, err := q.Query(query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var b strings.Builder
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	pairs := []struct{ name, got, want string }{
		{"current extraction", `SELECT document_id, extraction_id FROM current_extraction ORDER BY 1`, oldCurrent},
		{"run of the current extraction", `SELECT c.run_id FROM current_extraction c ORDER BY document_id`,
			`SELECT e.run_id FROM (` + oldCurrent + `) o JOIN extractions e ON e.id = o.id ORDER BY o.document_id`},
		{"counts per document", `SELECT document_id, data_points, grounded FROM current_documents WHERE data_points > 0 ORDER BY 1`,
			`SELECT document_id, count(*), sum(grounded) FROM current_data_points GROUP BY document_id ORDER BY 1`},
		{"perspective counts", `SELECT perspective, stance, views, round(avg_confidence, 6) FROM current_perspectives ORDER BY 1, 2`,
			`SELECT perspective, stance, count(*), round(avg(confidence), 6) FROM current_views GROUP BY 1, 2 ORDER BY 1, 2`},
		{"document titles", `SELECT document_id, document_title FROM current_extraction ORDER BY 1`,
			`SELECT c.document_id, d.title FROM current_extraction c JOIN documents d ON d.id = c.document_id ORDER BY 1`},
		{"source counts", `SELECT data_source, data_points, documents FROM current_sources ORDER BY 1`,
			`SELECT data_source, count(*), count(DISTINCT document_id) FROM current_data_points WHERE data_source IS NOT NULL GROUP BY data_source ORDER BY 1`},
	}
	for _, p := range pairs {
		if got, want := rowsOf(p.got), rowsOf(p.want); got != want {
			t.Errorf("%s:\n got %q\nwant %q", p.name, got, want)
		}
	}
}

func TestMigrationConvertsExistingDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.sqlite")
	// A database as thesisdb left it before migration 0005.
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.version >= 5 {
			break
		}
		if _, err := raw.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			t.Fatal(err)
		}
	}
	exec := func(q string, args ...any) int64 {
		t.Helper()
		res, err := raw.Exec(q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		id, _ := res.LastInsertId()
		return id
	}
	for r := 1; r <= 3; r++ {
		exec(`INSERT INTO runs (id, kind, extractor, prompt_version, schema_version) VALUES (?, 'ingest', 'rules', 'p', '1')`, r)
	}
	for d := 1; d <= 4; d++ {
		exec(`INSERT INTO documents (id, sha256, kind, source, title, text, bytes) VALUES (?, ?, 'text', ?, ?, 'x', 1)`,
			d, fmt.Sprint(d), fmt.Sprintf("d%d", d), fmt.Sprintf("Title %d", d))
		for r := 1; r <= 3; r++ {
			status := "ok"
			// Document 2's last extraction failed; document 3 never
			// succeeded; document 4 was extracted only in run 1.
			if (d == 2 && r == 3) || d == 3 {
				status = "failed"
			}
			if d == 4 && r > 1 {
				continue
			}
			e := exec(`INSERT INTO extractions (run_id, document_id, status, extractor, prompt_version, schema_version) VALUES (?, ?, ?, 'rules', 'p', '1')`, r, d, status)
			if status != "ok" {
				continue
			}
			th := exec(`INSERT INTO theses (extraction_id, document_id, ordinal, title, statement, stance) VALUES (?, ?, 0, 't', 's', 'bullish')`, e, d)
			exec(`INSERT INTO views (thesis_id, extraction_id, document_id, perspective, stance, confidence) VALUES (?, ?, ?, 'rates', ?, ?)`,
				th, e, d, []string{"bullish", "bearish"}[r%2], []any{nil, 0.7, 0.4}[d%3])
			for i := range d + r {
				exec(`INSERT INTO data_points (thesis_id, extraction_id, document_id, ordinal, indicator, value, quote, source, grounded, unit, value_num)
					VALUES (?, ?, ?, ?, 'i', '5%', 'q', ?, ?, '%', 5)`, th, e, d, i, []any{nil, "Fed", fmt.Sprintf("run %d", r)}[i%3], i%2)
			}
		}
	}
	want := map[int64]int64{}
	rows, err := raw.Query(oldCurrent)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d, e int64
		rows.Scan(&d, &e)
		want[d] = e
	}
	rows.Close()
	raw.Close()
	if len(want) != 3 {
		t.Fatalf("test database has %d documents with a current extraction, want 3", len(want))
	}

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkCurrent(t, db.r)
	if n := count(t, db, `SELECT count(*) FROM current_extraction`); n != 3 {
		t.Errorf("current_extraction has %d rows, want 3", n)
	}
	// The views kept every column they had, in order.
	for view, cols := range map[string]string{
		"current_data_points": "data_point_id,thesis_id,document_id,document_title,source,published,thesis_title,thesis_stance,indicator,value,value_num,value_low,value_high,unit,data_source,implication,perspective,quote,char_start,char_end,grounded,run_id,extraction_id,page",
		"current_theses":      "thesis_id,document_id,document_title,source,published,title,statement,subject,stance,confidence,conviction,horizon,run_id,extraction_id,extractor,model",
		"current_views":       "view_id,thesis_id,document_id,document_title,source,published,thesis_title,perspective,stance,confidence,conviction,horizon,summary,as_of,run_id,extraction_id",
	} {
		rows, err := db.r.Query(`SELECT * FROM ` + view + ` LIMIT 0`)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := rows.Columns()
		rows.Close()
		if strings.Join(got, ",") != cols {
			t.Errorf("%s columns = %s\nwant %s", view, strings.Join(got, ","), cols)
		}
	}
	// And thesisdb goes on keeping it right.
	run := startRun(t, db, "p4")
	if err := db.SaveExtraction(ctx, run, 4, Outcome{Extraction: testExtraction(schema.Bearish)}); err != nil {
		t.Fatal(err)
	}
	checkCurrent(t, db.r)
}

func TestCurrentExtractionFollowsExtractions(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	current := func(docID int64) (run int64) {
		t.Helper()
		err := db.r.QueryRow(`SELECT run_id FROM current_extraction WHERE document_id = ?`, docID).Scan(&run)
		if errors.Is(err, sql.ErrNoRows) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	withSource := func(src string) *schema.Extraction {
		x := testExtraction(schema.Bullish)
		x.Theses[0].DataPoints[1].Source = ptr(src)
		return x
	}
	r1 := startRun(t, db, "p1")
	d1, err := db.SaveDocument(ctx, r1, testDoc(1), Outcome{Extraction: withSource("ECB")})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := db.SaveDocument(ctx, r1, testDoc(2), Outcome{Extraction: withSource("ECB")})
	if err != nil {
		t.Fatal(err)
	}
	if current(d1) != r1 || current(d2) != r1 {
		t.Fatalf("after run 1: current runs %d %d", current(d1), current(d2))
	}
	checkCurrent(t, db.r)

	// Re-extraction moves the document to the new run.
	r2 := startRun(t, db, "p2")
	if err := db.SaveExtraction(ctx, r2, d1, Outcome{Extraction: withSource("BoJ")}); err != nil {
		t.Fatal(err)
	}
	if current(d1) != r2 || current(d2) != r1 {
		t.Errorf("after run 2: current runs %d %d", current(d1), current(d2))
	}
	checkCurrent(t, db.r)

	// A failed extraction leaves the last good one current.
	r3 := startRun(t, db, "p3")
	if err := db.SaveExtraction(ctx, r3, d1, Outcome{Err: errors.New("model refused")}); err != nil {
		t.Fatal(err)
	}
	if current(d1) != r2 {
		t.Errorf("after a failed extraction: current run %d, want %d", current(d1), r2)
	}
	// A save that fails half-way (an invalid stance) rolls back with the
	// rest of its rows: the document stays on run 2.
	bad := withSource("Nobody")
	bad.Theses = append(bad.Theses, schema.Thesis{Title: "bad", Statement: "s", Stance: "sideways"})
	r4 := startRun(t, db, "p4")
	if err := db.SaveExtraction(ctx, r4, d1, Outcome{Extraction: bad}); err == nil {
		t.Fatal("an invalid stance was stored")
	}
	if current(d1) != r2 {
		t.Errorf("after a rolled-back save: current run %d, want %d", current(d1), r2)
	}
	if n := count(t, db, `SELECT count(*) FROM current_sources WHERE data_source = 'Nobody'`); n != 0 {
		t.Error("a rolled-back save counted its source")
	}
	checkCurrent(t, db.r)

	// Extractions deleted or failed by hand: the previous good one
	// becomes current again, or none.
	mustExec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.w.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`DELETE FROM extractions WHERE run_id = ? AND document_id = ?`, r2, d1)
	if current(d1) != r1 {
		t.Errorf("after deleting run 2's extraction: current run %d, want %d", current(d1), r1)
	}
	checkCurrent(t, db.r)
	mustExec(`UPDATE extractions SET status = 'failed' WHERE document_id = ?`, d2)
	if current(d2) != 0 {
		t.Errorf("document without a good extraction is current in run %d", current(d2))
	}
	checkCurrent(t, db.r)
	mustExec(`UPDATE extractions SET status = 'ok' WHERE document_id = ?`, d2)
	if current(d2) != r1 {
		t.Errorf("restored extraction: current run %d, want %d", current(d2), r1)
	}
	checkCurrent(t, db.r)
}

func TestFiguresByPageInTitleOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.sqlite")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	// PDFs of two pages, a data point on each (testDoc's second sentence
	// starts at 45), with titles out of id order, two the same; and a
	// text note, whose data points have no page.
	paged := func(n int, title string) *schema.Document {
		d := testDoc(n)
		d.Kind, d.Title, d.PageStarts = "pdf", title, []int{0, 45}
		return d
	}
	extraction := func() *schema.Extraction {
		x := testExtraction(schema.Bullish)
		x.Theses[0].DataPoints[1].Ground = &schema.Grounding{Start: 45, End: 69, Method: "exact", Grounded: true}
		return x
	}
	r1 := startRun(t, db, "p1")
	docs := []*schema.Document{paged(1, "Zeta"), paged(2, "Alpha"), paged(3, "Mid"), paged(4, "Alpha"), testDoc(5), paged(6, "Beta")}
	for _, d := range docs {
		if _, err := db.SaveDocument(ctx, r1, d, Outcome{Extraction: extraction()}); err != nil {
			t.Fatal(err)
		}
	}
	// Document 3 extracted again: its new current extraction keeps the title.
	if err := db.SaveExtraction(ctx, startRun(t, db, "p2"), 3, Outcome{Extraction: extraction()}); err != nil {
		t.Fatal(err)
	}
	// A title changed by hand follows.
	if _, err := db.w.Exec(`UPDATE documents SET title = 'Beta' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	checkCurrent(t, db.r)
	// The planner sorts a few rows rather than walk indexes: give it the
	// statistics of a million current data points that all have a page,
	// two extractions of each of 20,000 documents (as ANALYZE wrote them
	// for the README's benchmark database of PDFs).
	if _, err := db.w.Exec(`DELETE FROM sqlite_stat1 WHERE tbl IN ('current_extraction', 'data_points', 'documents', 'theses', 'extractions');
		INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
			('current_extraction', 'current_extraction_title', '20000 1 1'),
			('current_extraction', 'sqlite_autoindex_current_extraction_1', '20000 1'),
			('extractions', 'extractions_document', '40000 2 2 1'),
			('extractions', 'sqlite_autoindex_extractions_1', '40000 20000 1'),
			('theses', 'theses_extraction', '40000 1'),
			('data_points', 'data_points_page', '2000000 50 9'),
			('data_points', 'data_points_unit_num', '2000000 333334 30 2'),
			('data_points', 'data_points_unit_high', '2000000 333334 30 2'),
			('data_points', 'data_points_extraction', '2000000 50'),
			('documents', 'sqlite_autoindex_documents_1', '20000 1');
		`); err != nil {
		t.Fatal(err)
	}
	// Connections read the statistics when they open.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	const q = `SELECT document_title, page, indicator, value FROM current_data_points WHERE page IS NOT NULL ORDER BY document_title, page`
	// Title order comes from the current extractions' title index, each
	// one's pages from the page index: only documents of the same title
	// are sorted among themselves.
	p := plan(t, db, q)
	if !strings.Contains(p, "current_extraction_title") || !strings.Contains(p, "data_points_page") ||
		strings.Contains(p, "TEMP B-TREE FOR ORDER BY") || strings.Contains(p, "SEARCH d ") {
		t.Errorf("figures by page:\n%s", p)
	}
	rows, err := db.r.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var title, indicator, value string
		var page int
		if err := rows.Scan(&title, &page, &indicator, &value); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s p%d %s", title, page, indicator))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	want := []string{
		"Alpha p1 HY OAS", "Alpha p1 HY OAS", "Alpha p2 Small-cap P/E", "Alpha p2 Small-cap P/E",
		"Beta p1 HY OAS", "Beta p1 HY OAS", "Beta p2 Small-cap P/E", "Beta p2 Small-cap P/E",
		"Mid p1 HY OAS", "Mid p2 Small-cap P/E",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("figures by page:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A query that selects the title but no other document column does
	// not look the document up.
	p = plan(t, db, `SELECT document_title, indicator, value, value_num FROM current_data_points WHERE unit = 'bp' ORDER BY value_num DESC`)
	if strings.Contains(p, "SEARCH d ") || strings.Contains(p, "TEMP B-TREE") {
		t.Errorf("bp in value order:\n%s", p)
	}
}
