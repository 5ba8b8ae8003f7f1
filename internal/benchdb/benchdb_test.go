package benchdb

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/thesisdb/thesisdb/extract/rules"
	"github.com/thesisdb/thesisdb/store"
)

func TestPointsFromEnvironment(t *testing.T) {
	t.Setenv("THESISDB_BENCH_POINTS", "")
	if n := Points(t); n != 100_000 {
		t.Errorf("default Points = %d, want 100000", n)
	}
	t.Setenv("THESISDB_BENCH_POINTS", "1500")
	if n := Points(t); n != 1500 {
		t.Errorf("Points = %d, want 1500", n)
	}
}

// count runs a query returning one number on the database at path.
func count(t *testing.T, path, q string) int {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestBuildRunsEveryExtractor(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.sqlite")
	Build(t, path, filepath.Join(dir, "notes"), 150, rules.New(), rules.New())
	if n := count(t, path, `SELECT count(*) FROM documents`); n != 3 {
		t.Errorf("%d documents, want 3", n)
	}
	if n := count(t, path, `SELECT count(*) FROM runs WHERE status = 'done'`); n != 3 {
		t.Errorf("%d finished runs, want 3", n)
	}
	if n := count(t, path, `SELECT count(*) FROM extractions WHERE status = 'ok'`); n != 9 {
		t.Errorf("%d extractions, want 9", n)
	}
	if n := count(t, path, `SELECT count(*) FROM current_data_points`); n != 150 {
		t.Errorf("%d current data points, want 150", n)
	}
}

func TestLargeIsBuiltOnceThenReused(t *testing.T) {
	t.Setenv("THESISDB_BENCH_DIR", t.TempDir())
	updates := 0
	update := func(ctx context.Context, db *store.DB) error { updates++; return db.Optimize(ctx) }
	path := Large(t, 100, update)
	if updates != 0 {
		t.Errorf("a new database was updated %d times", updates)
	}
	if filepath.Base(path) != "thesisdb-100.sqlite" {
		t.Errorf("path = %s, want thesisdb-100.sqlite", path)
	}
	if again := Large(t, 100, update); again != path || updates != 1 {
		t.Errorf("second Large = %s with %d updates, want %s with 1", again, updates, path)
	}
	if n := count(t, path, `SELECT count(*) FROM runs`); n != 2 {
		t.Errorf("%d runs after reuse, want 2 (not built again)", n)
	}
}
