package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

// pagedDoc is a three-page PDF document: page 2 starts at rune 12 and
// page 3 at rune 26 (the "é" is one character, two bytes).
func pagedDoc() *schema.Document {
	text := "Café note.\n\nCapex $20bn.\n\nMargins 61%."
	return &schema.Document{Kind: "pdf", Source: "paged.pdf", Title: "Paged", Text: text,
		SHA256: strings.Repeat("ab", 32), Bytes: 1000, PageStarts: []int{0, 12, 26}}
}

// pagedExtraction grounds one data point on each of pages 2 and 3, and
// leaves one unfound.
func pagedExtraction() *schema.Extraction {
	return &schema.Extraction{Theses: []schema.Thesis{{
		Title: "Capex", Statement: "Capex rises.", Stance: schema.Bullish,
		DataPoints: []schema.DataPoint{
			{Indicator: "Capex", Value: "$20bn", Quote: "Capex $20bn.", Ground: &schema.Grounding{Start: 12, End: 24, Method: "exact", Grounded: true}},
			{Indicator: "Margin", Value: "61%", Quote: "Margins 61%.", Ground: &schema.Grounding{Start: 26, End: 38, Method: "exact", Grounded: true}},
			{Indicator: "Yield", Value: "4%", Quote: "Yield 4%.", Ground: &schema.Grounding{}},
		},
	}}}
}

// pages returns the page column of current_data_points, by indicator.
func pages(t *testing.T, db *DB, docID int64) map[string]any {
	t.Helper()
	rows, err := db.r.Query(`SELECT indicator, page FROM current_data_points WHERE document_id = ?`, docID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]any{}
	for rows.Next() {
		var ind string
		var page sql.NullInt64
		if err := rows.Scan(&ind, &page); err != nil {
			t.Fatal(err)
		}
		got[ind] = nil
		if page.Valid {
			got[ind] = page.Int64
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestDataPointPages(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	run := startRun(t, db, "p1")
	pdfID, err := db.SaveDocument(ctx, run, pagedDoc(), Outcome{Extraction: pagedExtraction()})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Capex": int64(2), "Margin": int64(3), "Yield": nil}
	if got := pages(t, db, pdfID); !reflect.DeepEqual(got, want) {
		t.Errorf("PDF data point pages = %v, want %v", got, want)
	}
	txtID, err := db.SaveDocument(ctx, run, testDoc(1), Outcome{Extraction: testExtraction(schema.Bullish)})
	if err != nil {
		t.Fatal(err)
	}
	if got := pages(t, db, txtID); !reflect.DeepEqual(got, map[string]any{"HY OAS": nil, "Small-cap P/E": nil}) {
		t.Errorf("text document's data point pages = %v, want all NULL", got)
	}

	// Stored pages come back with the document, and a re-extraction of
	// the stored document gets them too.
	doc, err := db.Document(ctx, pdfID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc.PageStarts, []int{0, 12, 26}) {
		t.Errorf("Document(%d).PageStarts = %v", pdfID, doc.PageStarts)
	}
	run2 := startRun(t, db, "p2")
	x := pagedExtraction()
	x.Theses[0].DataPoints = x.Theses[0].DataPoints[1:2]
	if err := db.SaveExtraction(ctx, run2, pdfID, Outcome{Extraction: x}); err != nil {
		t.Fatal(err)
	}
	if got := pages(t, db, pdfID); !reflect.DeepEqual(got, map[string]any{"Margin": int64(3)}) {
		t.Errorf("after re-extraction, pages = %v, want Margin on 3", got)
	}

	// The export carries the page count and each data point's page.
	var recs []ExportRecord
	if err := db.Export(ctx, run, func(r ExportRecord) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Document.ID != pdfID || recs[0].Document.Pages != 3 || recs[1].Document.Pages != 0 {
		t.Fatalf("export records = %+v", recs)
	}
	var got []string
	for _, l := range recs[0].DataPoints {
		got = append(got, fmt.Sprintf("%d.%d:%s", l.Thesis, l.DataPoint, intOrNull(l.Page)))
	}
	if w := []string{"0.0:2", "0.1:3", "0.2:null"}; !reflect.DeepEqual(got, w) {
		t.Errorf("exported data point pages = %v, want %v", got, w)
	}
	for _, l := range recs[1].DataPoints {
		if l.Page != nil {
			t.Errorf("text document's data point %d.%d exported with page %d", l.Thesis, l.DataPoint, *l.Page)
		}
	}
}

func intOrNull(p *int) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// oldDB creates a database at schema version 3, before pages, holding a
// PDF document and a text document, each with a stored extraction.
func oldDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.sqlite")
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:3] {
		if _, err := raw.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	pdf := pagedDoc()
	for _, q := range []string{
		`PRAGMA user_version = 3`,
		`INSERT INTO runs (id, kind, extractor, prompt_version, schema_version, status) VALUES (1, 'ingest', 'rules', 'p0', '1', 'done')`,
		fmt.Sprintf(`INSERT INTO documents (id, sha256, kind, source, text, bytes) VALUES (1, '%s', 'pdf', 'paged.pdf', '%s', 1000)`, pdf.SHA256, pdf.Text),
		`INSERT INTO documents (id, sha256, kind, source, text, bytes) VALUES (2, 'cd', 'text', 'note.txt', 'Capex $20bn.', 12)`,
		`INSERT INTO extractions (id, run_id, document_id, status, extractor, prompt_version, schema_version, result) VALUES
			(1, 1, 1, 'ok', 'rules', 'p0', '1', '{}'), (2, 1, 2, 'ok', 'rules', 'p0', '1', '{}')`,
		`INSERT INTO theses (id, extraction_id, document_id, ordinal, title, statement, stance) VALUES
			(1, 1, 1, 0, 'Capex', 'Capex rises.', 'bullish'), (2, 2, 2, 0, 'Capex', 'Capex rises.', 'bullish')`,
		`INSERT INTO data_points (thesis_id, extraction_id, document_id, ordinal, indicator, value, quote, char_start, char_end, grounded) VALUES
			(1, 1, 1, 0, 'Capex', '$20bn', 'Capex $20bn.', 12, 24, 1),
			(1, 1, 1, 1, 'Margin', '61%', 'Margins 61%.', 26, 38, 1),
			(1, 1, 1, 2, 'Yield', '4%', 'Yield 4%.', NULL, NULL, 0),
			(2, 2, 2, 0, 'Capex', '$20bn', 'Capex $20bn.', 0, 12, 1)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}

func TestMigrationAddsPages(t *testing.T) {
	ctx := context.Background()
	path := oldDB(t)
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// current_data_points keeps every column it had, in order, and ends
	// with page.
	rows, err := db.r.Query(`SELECT * FROM current_data_points LIMIT 0`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := rows.Columns()
	rows.Close()
	if err != nil {
		t.Fatal(err)
	}
	old := []string{"data_point_id", "thesis_id", "document_id", "document_title", "source", "published",
		"thesis_title", "thesis_stance", "indicator", "value", "value_num", "value_low", "value_high", "unit",
		"data_source", "implication", "perspective", "quote", "char_start", "char_end", "grounded", "run_id", "extraction_id"}
	if !reflect.DeepEqual(cols, append(old, "page")) {
		t.Errorf("current_data_points columns = %v, want the old ones then page", cols)
	}

	// Pages of documents stored before 0004 are unknown, not guessed.
	for _, id := range []int64{1, 2} {
		for k, v := range pages(t, db, id) {
			if v != nil {
				t.Errorf("document %d: %s has page %v before its pages are known", id, k, v)
			}
		}
	}

	// Ingesting the PDF again with another text (a newer reader, say)
	// must not pin offsets of that text on the stored one.
	other := pagedDoc()
	other.Text = "A different reading.\n\n" + other.Text
	run := startRun(t, db, "p1")
	if _, err := db.SaveDocument(ctx, run, other, Outcome{Err: fmt.Errorf("boom")}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM document_pages WHERE document_id = 1`); n != 0 {
		t.Errorf("pages of another text were stored for document 1: %d rows", n)
	}

	// Ingesting it again to the same text fills its pages, and the data
	// points stored before get theirs.
	run = startRun(t, db, "p2")
	if _, err := db.SaveDocument(ctx, run, pagedDoc(), Outcome{Err: fmt.Errorf("boom")}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM data_points WHERE document_id = 1 AND page IS NOT NULL`); n != 2 {
		t.Errorf("%d old data points got a page, want 2", n)
	}
	want := map[string]any{"Capex": int64(2), "Margin": int64(3), "Yield": nil}
	if got := pages(t, db, 1); !reflect.DeepEqual(got, want) {
		t.Errorf("after ingesting again, pages = %v, want %v", got, want)
	}
	if got := pages(t, db, 2); !reflect.DeepEqual(got, map[string]any{"Capex": nil}) {
		t.Errorf("text document's pages = %v, want NULL", got)
	}
}
