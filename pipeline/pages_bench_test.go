package pipeline_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/internal/synth"
	"github.com/thesisdb/thesisdb/store"
)

// benchPageSize is the characters per page of the paged benchmark
// database: a 50-point note has about six pages.
const benchPageSize = 1500

// queryDB is the database the query benchmarks read: the large database,
// or with THESISDB_BENCH_PAGES=1 a copy of it made a database of PDFs
// (pagedDB).
func queryDB(b *testing.B, points int) string {
	if os.Getenv("THESISDB_BENCH_PAGES") == "1" {
		return pagedDB(b, points)
	}
	return largeDB(b, points)
}

// pagedDB returns the path of a copy of the large database in which every
// document has pages (synth.PageStarts of its text) and every data point
// found in the text, current or superseded, the page it stands on, as
// ingesting the notes as PDFs would store them; built when it is not there.
func pagedDB(b *testing.B, points int) string {
	base := largeDB(b, points)
	path := strings.TrimSuffix(base, ".sqlite") + "-pages.sqlite"
	ctx := context.Background()
	if _, err := os.Stat(path); err != nil {
		start := time.Now()
		tmp := path + ".building"
		copyFile(b, tmp, base)
		if err := addPages(ctx, tmp); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %s (pages of %d characters) in %s", path, benchPageSize, time.Since(start).Round(time.Second))
	}
	// Bring it up to date, statistics included.
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// addPages gives every document of the database at path its pages and
// every located data point its page, in one transaction.
func addPages(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("add pages: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add pages: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, text FROM documents ORDER BY id`)
	if err != nil {
		return fmt.Errorf("add pages: %w", err)
	}
	type doc struct {
		id     int64
		starts []int
	}
	var docs []doc
	for rows.Next() {
		var id int64
		var text string
		if err := rows.Scan(&id, &text); err != nil {
			rows.Close()
			return fmt.Errorf("add pages: %w", err)
		}
		docs = append(docs, doc{id, synth.PageStarts(text, benchPageSize)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("add pages: %w", err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO document_pages (document_id, page, char_start) VALUES (?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("add pages: %w", err)
	}
	for _, d := range docs {
		for i, s := range d.starts {
			if _, err := ins.ExecContext(ctx, d.id, i+1, s); err != nil {
				return fmt.Errorf("add pages: document %d: %w", d.id, err)
			}
		}
	}
	// The last page starting at or before the data point, as
	// schema.Document.PageAt.
	if _, err := tx.ExecContext(ctx, `UPDATE data_points SET page = (SELECT max(g.page) FROM document_pages g
		WHERE g.document_id = data_points.document_id AND g.char_start <= data_points.char_start)
		WHERE char_start IS NOT NULL`); err != nil {
		return fmt.Errorf("add pages: data points: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add pages: %w", err)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("add pages: %w", err)
	}
	return nil
}
