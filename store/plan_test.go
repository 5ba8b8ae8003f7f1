package store

import (
	"context"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

// plan returns the query plan of q, one step per line.
func plan(t *testing.T, db *DB, q string) string {
	t.Helper()
	rows, err := db.r.Query("EXPLAIN QUERY PLAN " + q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCurrentViewsPlans(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	run := startRun(t, db, "p1")
	for i := range 3 {
		d := testDoc(i)
		if i == 0 {
			d.Kind, d.PageStarts = "pdf", []int{0, 30}
		}
		x := testExtraction(schema.Bullish)
		if _, err := db.SaveDocument(ctx, run, d, Outcome{Extraction: x}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	// The figures of a unit, in value order, come from the unit index,
	// and no thesis is read when no thesis column is asked for.
	p := plan(t, db, `SELECT document_title, indicator, value, value_num FROM current_data_points WHERE unit = 'bp' ORDER BY value_num DESC`)
	if !strings.Contains(p, "data_points_unit_num") || strings.Contains(p, "TEMP B-TREE") || strings.Contains(p, "SEARCH t ") {
		t.Errorf("bp in value order:\n%s", p)
	}
	// Theses in conviction order come from the conviction index, and no
	// extraction row is read for them.
	p = plan(t, db, `SELECT document_title, stance, confidence, conviction, horizon FROM current_theses ORDER BY conviction DESC NULLS LAST`)
	if !strings.Contains(p, "theses_conviction") || strings.Contains(p, "TEMP B-TREE") || strings.Contains(p, "SEARCH e ") {
		t.Errorf("theses by conviction:\n%s", p)
	}
	if n := count(t, db, `SELECT count(*) FROM current_theses WHERE extractor = 'rules' AND document_title LIKE 'Note %'`); n != 3 {
		t.Errorf("%d current theses with their extraction and document, want 3", n)
	}
	// Data points with a page are found in the page index.
	p = plan(t, db, `SELECT document_title, page, indicator, value FROM current_data_points WHERE page IS NOT NULL ORDER BY document_title, page`)
	if !strings.Contains(p, "data_points_page") {
		t.Errorf("data points with a page:\n%s", p)
	}
	// The view still has every current data point, its thesis and its
	// document; only the first document's has a page.
	if n := count(t, db, `SELECT count(*) FROM current_data_points WHERE page IS NOT NULL`); n != 1 {
		t.Errorf("%d data points with a page, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM current_data_points WHERE thesis_stance = 'bullish' AND document_title LIKE 'Note %'`); n != 6 {
		t.Errorf("%d current data points with their thesis and document, want 6", n)
	}
}
