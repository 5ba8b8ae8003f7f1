package pipeline

import (
	"context"
	"fmt"
	"testing"

	"github.com/thesisdb/thesisdb/store"
)

// TestRunReportsDocumentsOnceCommitted checks that Run, which lets the
// store group documents into shared transactions, reports a document only
// once its rows are visible to another connection, and that a failing
// document among them fails alone.
func TestRunReportsDocumentsOnceCommitted(t *testing.T) {
	p, db, run := newTest(t)
	dir := t.TempDir()
	var items []Item
	for i := range 60 {
		body := fmt.Sprintf("Note %d\nSpreads are %d bps\n", i, 100+i)
		if i == 7 {
			body = "INVALID 7\n" // fails validation: stored as a failed extraction
		}
		items = append(items, Item{Source: write(t, dir, fmt.Sprintf("n%02d.txt", i), []byte(body))})
	}
	r, err := store.OpenReader(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	failed := 0
	sum := p.Run(ctx, run, items, func(e Event) {
		if e.Status != OK {
			failed++
			return
		}
		res, err := r.Query(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM documents WHERE id = %d),
			(SELECT count(*) FROM current_data_points WHERE document_id = %[1]d)`, e.DocumentID), 0)
		if err != nil {
			t.Error(err)
			return
		}
		if docs, points := res.Rows[0][0], res.Rows[0][1]; docs != int64(1) || points != int64(1) {
			t.Errorf("%s reported stored before it was committed: %v documents, %v data points", e.Item, docs, points)
		}
	})
	if sum.OK != 59 || sum.Failed != 1 || failed != 1 {
		t.Errorf("summary %+v, %d failed events", sum, failed)
	}
	rows := query(t, db, `SELECT count(*), (SELECT count(*) FROM failures) FROM current_extraction`)
	if rows[0][0] != int64(59) || rows[0][1] != int64(1) {
		t.Errorf("current extractions, failures = %v", rows[0])
	}
}
