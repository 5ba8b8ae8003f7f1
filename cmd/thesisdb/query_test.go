package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// queryDB is a database holding three small notes.
func queryDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for i, body := range []string{
		"Bullish on credit.\nHigh-yield spreads stand at 284 bps.",
		"Bearish on duration.\nThe 10-year yield is 4.2%.",
		"Neutral on equities.\nSmall caps trade at 18x earnings.",
	} {
		if err := os.WriteFile(filepath.Join(dir, "note"+string(rune('a'+i))+".txt"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "q.sqlite")
	if _, stderr, code := thesisdb(t, "--db", db, "ingest", dir); code != 0 {
		t.Fatalf("ingest exited %d: %s", code, stderr)
	}
	return db
}

func TestQueryOneStatementCLI(t *testing.T) {
	db := queryDB(t)
	want, _, code := thesisdb(t, "--db", db, "query", "--format", "csv", "SELECT count(*) AS n FROM documents")
	if code != 0 || want != "n\n3\n" {
		t.Fatalf("plain query: %q exit %d", want, code)
	}
	// Trailing semicolons, comments and whitespace never change a result.
	for _, q := range []string{
		"SELECT count(*) AS n FROM documents;",
		"SELECT count(*) AS n FROM documents; -- a comment after the end",
		"SELECT count(*) AS n FROM documents;;\n/* done; really */\n",
	} {
		out, stderr, code := thesisdb(t, "--db", db, "query", "--format", "csv", q)
		if code != 0 || out != want {
			t.Errorf("%q: %q exit %d %s, want %q", q, out, code, stderr, want)
		}
	}
	// Several statements are refused, none is run.
	out, stderr, code := thesisdb(t, "--db", db, "query", "--format", "csv", "SELECT 1 AS a; SELECT 2 AS b")
	if code != 1 || out != "" || !strings.Contains(stderr, "2 statements") {
		t.Errorf("two statements: exit %d stdout %q stderr %q", code, out, stderr)
	}
	out, stderr, code = thesisdb(t, "--db", db, "query", "/* nothing here */ ;")
	if code != 1 || out != "" || !strings.Contains(stderr, "no SQL statement") {
		t.Errorf("only a comment: exit %d stdout %q stderr %q", code, out, stderr)
	}
}

func TestQueryBlobsAndBytesCLI(t *testing.T) {
	db := queryDB(t)
	// BLOBs are base64 in JSON, never U+FFFD.
	out, stderr, code := thesisdb(t, "--db", db, "query", "--format", "json", "SELECT x'00ff41fe' AS b, 'text' AS t")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if len(rows) != 1 || rows[0]["t"] != "text" {
		t.Fatalf("rows = %v", rows)
	}
	if b, err := base64.StdEncoding.DecodeString(rows[0]["b"].(string)); err != nil || string(b) != "\x00\xff\x41\xfe" {
		t.Errorf("blob %q decodes to %q, %v", rows[0]["b"], b, err)
	}
	for _, format := range []string{"jsonl", "csv", "table"} {
		out, _, _ := thesisdb(t, "--db", db, "query", "--format", format, "SELECT x'00ff41fe' AS b")
		if !strings.Contains(out, "AP9B/g==") || strings.Contains(out, "\ufffd") {
			t.Errorf("%s: blob printed as %q", format, out)
		}
	}

	// --max-bytes cuts the result between rows; the JSON stays valid and
	// stderr says so.
	q := "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 50) SELECT printf('%010d', i) AS v FROM n"
	out, stderr, code = thesisdb(t, "--db", db, "query", "--format", "json", "--max-bytes", "45", q)
	if code != 0 {
		t.Fatalf("cut query exited %d: %s", code, stderr)
	}
	rows = nil
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("cut JSON does not parse: %v\n%s", err, out)
	}
	if len(rows) != 4 || !strings.Contains(stderr, "results cut after 4 rows") || !strings.Contains(stderr, "--max-bytes") {
		t.Errorf("%d rows, stderr %q; want 4 rows and a note", len(rows), stderr)
	}
	// A value SQLite would build past the limit fails at once.
	out, stderr, code = thesisdb(t, "--db", db, "query", "--timeout", "10s", "SELECT randomblob(999999999), randomblob(999999999)")
	if code != 1 || out != "" || !strings.Contains(stderr, "the most one value may hold") {
		t.Errorf("huge value: exit %d stdout %d bytes stderr %q", code, len(out), stderr)
	}
	// Many large values in one row pass SQLite's memory cap and fail too.
	many := "SELECT " + strings.TrimSuffix(strings.Repeat("randomblob(60000000), ", 8), ", ")
	out, stderr, code = thesisdb(t, "--db", db, "query", many)
	if code != 1 || out != "" || !strings.Contains(stderr, "memory") {
		t.Errorf("many large values: exit %d stdout %d bytes stderr %q", code, len(out), stderr)
	}
	for _, bad := range []string{"0", "-5", "lots", "5XB"} {
		if _, stderr, code := thesisdb(t, "--db", db, "query", "--max-bytes", bad, "SELECT 1"); code == 0 {
			t.Errorf("--max-bytes %s accepted: %s", bad, stderr)
		}
	}
}

func TestQueryTimeoutCLI(t *testing.T) {
	db := queryDB(t)
	// Never ends on its own: only the interrupt at --timeout stops it.
	_, stderr, code := thesisdb(t, "--db", db, "query", "--timeout", "100ms",
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n")
	if code != 1 || !strings.Contains(stderr, "stopped after --timeout 100ms") || !strings.Contains(stderr, "deadline exceeded") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}

func TestMaxBytesFlag(t *testing.T) {
	for in, want := range map[string]int64{"1000": 1000, "500KB": 500_000, "64MiB": 64 << 20, "1.5GiB": 3 << 29, "2 mb": 2_000_000, "7B": 7} {
		var b sizeFlag
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("%q: %d %v, want %d", in, b, err, want)
		}
	}
	if s := sizeFlag(64 << 20).String(); s != "64MiB" {
		t.Errorf("String() = %q", s)
	}
}

func TestReextractWhereIsOneCondition(t *testing.T) {
	db := queryDB(t)
	for _, where := range []string{
		"0) UNION SELECT 'abc' --",
		"0) IS TRUE FROM documents UNION SELECT 99, (1",
		"1; DELETE FROM documents",
		"1) --",
	} {
		out, stderr, code := thesisdb(t, "--db", db, "reextract", "--dry-run", "--where", where)
		if code != 1 || !strings.Contains(stderr, "--where takes one condition") || strings.Contains(stderr, "panic") {
			t.Errorf("--where %q: exit %d stdout %q stderr %q", where, code, out, stderr)
		}
	}
	out, stderr, code := thesisdb(t, "--db", db, "reextract", "--dry-run", "--where", "source LIKE '%notea.txt' -- the first")
	if code != 0 || !strings.Contains(out+stderr, "1 document") {
		t.Errorf("good --where: exit %d stdout %q stderr %q", code, out, stderr)
	}
}

func TestQueryFileLimit(t *testing.T) {
	db := queryDB(t)
	path := filepath.Join(t.TempDir(), "big.sql")
	if err := os.WriteFile(path, []byte("SELECT 1 AS a"+strings.Repeat(" ", 2<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := thesisdb(t, "--db", db, "query", "--file", path); code != 1 || !strings.Contains(stderr, "more than 1MiB") {
		t.Errorf("2 MiB of SQL: exit %d %q", code, stderr)
	}
	small := filepath.Join(t.TempDir(), "small.sql")
	if err := os.WriteFile(small, []byte("SELECT 1 AS a; -- one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, stderr, code := thesisdb(t, "--db", db, "query", "--format", "csv", "--file", small); code != 0 || out != "a\n1\n" {
		t.Errorf("--file: %q exit %d %s", out, code, stderr)
	}
}
