package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestBrowseIndexes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.sqlite")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Query(ctx, `SELECT name FROM sqlite_schema WHERE type = 'index' AND name IN ('documents_published', 'documents_title') ORDER BY name`, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 {
		t.Fatalf("indexes %v", res.Rows)
	}
	// The first page of the list reads the index in order instead of
	// sorting every document.
	plan, err := r.Query(ctx, `EXPLAIN QUERY PLAN SELECT d.id FROM documents d LEFT JOIN current_extraction c ON c.document_id = d.id
		ORDER BY d.published DESC, d.id DESC LIMIT 51`, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range plan.Rows {
		if s, _ := row[3].(string); s == "USE TEMP B-TREE FOR ORDER BY" {
			t.Errorf("the list sorts instead of reading documents_published: %v", plan.Rows)
		}
	}
}
