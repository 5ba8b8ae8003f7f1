package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/schema"
)

func queryTestReader(t testing.TB, docs int) *Reader {
	t.Helper()
	ctx := context.Background()
	db := openTest(t)
	run := startRun(t, db, "p1")
	for i := 1; i <= docs; i++ {
		if _, err := db.SaveDocument(ctx, run, testDoc(i), Outcome{Extraction: testExtraction(schema.Bullish)}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := db.Reader()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestStatements(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		sql  string
		want []string
	}{
		{"SELECT 1", []string{"SELECT 1"}},
		{"SELECT 1;", []string{"SELECT 1;"}},
		{"SELECT 1; -- done", []string{"SELECT 1;"}},
		{"SELECT 1; /* done", []string{"SELECT 1;"}},
		{"SELECT 1;;; \n\t;", []string{"SELECT 1;"}},
		{"-- why\n;SELECT 1 -- c; SELECT 2", []string{"SELECT 1 -- c; SELECT 2"}},
		{"SELECT ';' AS a, \"x;y\" AS [b;c], `;` /* ; */ FROM t; SELECT 2", []string{"SELECT ';' AS a, \"x;y\" AS [b;c], `;` /* ; */ FROM t;", " SELECT 2"}},
		{"SELECT 1; SELECT 2;", []string{"SELECT 1;", " SELECT 2;"}},
		{"CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END; SELECT 3", []string{"CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;", " SELECT 3"}},
		{"", nil},
		{" -- only a comment", nil},
		{";;", nil},
	} {
		got, err := statements(ctx, c.sql)
		if err != nil {
			t.Errorf("%q: %v", c.sql, err)
			continue
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("%q: statements %q, want %q", c.sql, got, c.want)
		}
	}
	if _, err := statements(ctx, "SELECT 1\x00; DELETE FROM documents"); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("NUL byte: %v", err)
	}
}

func TestQueryOneStatement(t *testing.T) {
	ctx := context.Background()
	r := queryTestReader(t, 3)
	// Trailing semicolons, comments and whitespace never change a result.
	for _, q := range []string{
		"SELECT count(*) FROM documents",
		"SELECT count(*) FROM documents;",
		"SELECT count(*) FROM documents; -- how many",
		"SELECT count(*) FROM documents; /* how many */ ;;\n",
		"/* lead */ SELECT count(*) FROM documents -- trail",
		"SELECT count(*) FROM documents;\n-- a note; with semicolons; SELECT 99",
	} {
		res, err := r.Query(ctx, q, 0)
		if err != nil {
			t.Errorf("%q: %v", q, err)
			continue
		}
		if len(res.Rows) != 1 || res.Rows[0][0] != int64(3) {
			t.Errorf("%q: rows %v, want [[3]]", q, res.Rows)
		}
	}
	for _, q := range []string{
		"SELECT 1; SELECT 2",
		"SELECT 1; SELECT 2;",
		"SELECT count(*) FROM documents; DELETE FROM documents",
		"SELECT ';'; SELECT 2",
	} {
		_, err := r.Query(ctx, q, 0)
		if !errors.Is(err, ErrMultipleStatements) {
			t.Errorf("%q: err = %v, want ErrMultipleStatements", q, err)
		}
	}
	for _, q := range []string{"", "  ", "-- nothing", ";"} {
		if _, err := r.Query(ctx, q, 0); !errors.Is(err, ErrNoStatement) {
			t.Errorf("%q: err = %v, want ErrNoStatement", q, err)
		}
	}
	// A semicolon inside a string is data.
	res, err := r.Query(ctx, "SELECT 'a;b' AS s; -- end", 0)
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0] != "a;b" {
		t.Errorf("string with ;: %v %v", res, err)
	}
}

func TestStreamLimits(t *testing.T) {
	ctx := context.Background()
	r := queryTestReader(t, 1)
	// Blobs stay blobs (the caller encodes them), text stays text.
	var got []any
	_, err := r.Stream(ctx, "SELECT x'00ff41', 'text', 1, 1.5, NULL", Limits{}, func([]string) error { return nil },
		func(v []any) error { got = v; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := got[0].([]byte); !ok || string(b) != "\x00\xffA" || got[1] != "text" || got[2] != int64(1) || got[3] != 1.5 || got[4] != nil {
		t.Errorf("values = %#v", got)
	}
	// The byte budget stops before the row that would pass it.
	q := "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100) SELECT printf('%010d', i) FROM n"
	rows := 0
	sum, err := r.Stream(ctx, q, Limits{MaxBytes: 35}, func([]string) error { return nil }, func([]any) error { rows++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if rows != 3 || sum.Rows != 3 || sum.Bytes != 30 || !sum.CutBytes || sum.CutRows {
		t.Errorf("budget 35: rows %d summary %+v, want 3 rows, 30 bytes, cut by bytes", rows, sum)
	}
	sum, err = r.Stream(ctx, q, Limits{MaxRows: 5}, func([]string) error { return nil }, func([]any) error { return nil })
	if err != nil || sum.Rows != 5 || !sum.CutRows || sum.CutBytes {
		t.Errorf("max rows 5: %+v %v", sum, err)
	}
	// SQLite refuses to build a huge value instead of allocating it.
	_, err = r.Stream(ctx, "SELECT randomblob(999999999), randomblob(999999999)", Limits{}, func([]string) error { return nil }, func([]any) error { return nil })
	if !errors.Is(err, ErrTooBig) {
		t.Errorf("randomblob(999999999): err = %v, want ErrTooBig", err)
	}
	// A larger budget raises the value limit too.
	_, err = r.Stream(ctx, "SELECT length(zeroblob(100000000))", Limits{MaxBytes: 200 << 20}, func([]string) error { return nil }, func([]any) error { return nil })
	if err != nil {
		t.Errorf("100 MB value within a 200 MiB budget: %v", err)
	}
}

func TestQueryTimeoutInterrupts(t *testing.T) {
	r := queryTestReader(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// Never ends on its own: only the interrupt stops it.
	_, err := r.Query(ctx, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n", 0)
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(fmtErr(err), "interrupt") {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if !strings.Contains(fmtErr(err), "interrupted") {
		t.Errorf("err = %v, want it called interrupted", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestDocumentIDsWhere(t *testing.T) {
	ctx := context.Background()
	r := queryTestReader(t, 3)
	for _, c := range []struct {
		where string
		want  []int64
	}{
		{"", []int64{1, 2, 3}},
		{"id >= 2", []int64{2, 3}},
		{"id = 1 -- first only", []int64{1}},
		{"title = 'Note 2' OR source = 'a;b'", []int64{2}},
		{"(id) = 3", []int64{3}},
		{"id", []int64{1, 2, 3}},
		{"title LIKE '%)%'", nil},
		{"id IN (SELECT document_id FROM extractions WHERE status = 'ok')", []int64{1, 2, 3}},
		{"(id = 1) OR (id = 3)", []int64{1, 3}},
		{"'1'", []int64{1, 2, 3}},
		{"NULL", nil},
		// Parentheses that balance inside the condition keep it one
		// expression: (1) OR (1).
		{"1) OR (1", []int64{1, 2, 3}},
	} {
		got, err := r.DocumentIDs(ctx, c.where)
		if err != nil {
			t.Errorf("%q: %v", c.where, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q: ids %v, want %v", c.where, got, c.want)
		}
	}
	for _, where := range []string{
		"0) UNION SELECT 'abc' --",
		"0) UNION SELECT 'abc', 1 --",
		"0) IS TRUE FROM documents UNION SELECT 'abc', (1",
		"0) IS TRUE FROM documents UNION SELECT 99, (1",
		"0) IS TRUE FROM documents UNION SELECT 99, 1 UNION SELECT 98, (1",
		"1) IS TRUE, 2 AS \"(1\n) IS TRUE\" FROM documents UNION SELECT 1, (1",
		"0) UNION SELECT (1",
		"1; SELECT 2",
		"1; DELETE FROM documents",
		"1) ORDER BY id; --",
		"1 /*",
		"'unterminated",
		"1) LIMIT 1 --",
		"1\x00) UNION SELECT 'abc' --",
		"id = 1) IS TRUE FROM documents --",
		"$a(() ) UNION SELECT 'abc' --",
		"no_such_column = 1",
	} {
		ids, err := r.DocumentIDs(ctx, where)
		if !errors.Is(err, ErrBadWhere) {
			t.Errorf("%q: ids %v err %v, want ErrBadWhere", where, ids, err)
		}
	}
	// Loading an extension is refused.
	if _, err := r.DocumentIDs(ctx, "id IN (SELECT load_extension('x'))"); err == nil {
		t.Errorf("load_extension in --where ran")
	}
}

// FuzzDocumentIDsWhere checks that any --where either fails with an error
// or selects some of the stored documents, in order: never a panic, never
// rows that are not document ids.
func FuzzDocumentIDsWhere(f *testing.F) {
	for _, s := range []string{"id > 1", "0) UNION SELECT 'abc' --", "0) IS TRUE FROM documents UNION SELECT 99, (1",
		"1) OR (1", "title LIKE '%;%'", "1 /*", "$a(() ) UNION SELECT 9 --", "id IN (SELECT 1 UNION SELECT 2)", "[id] = \"id\""} {
		f.Add(s)
	}
	r := queryTestReader(f, 3)
	f.Fuzz(func(t *testing.T, where string) {
		ids, err := r.DocumentIDs(context.Background(), where)
		if err != nil {
			return
		}
		prev := int64(0)
		for _, id := range ids {
			if id <= prev || id > 3 {
				t.Fatalf("%q selected ids %v", where, ids)
			}
			prev = id
		}
	})
}
