package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

// thesisdb runs the CLI in-process with a clean LLM environment and
// returns stdout, stderr and the exit status.
func thesisdb(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestEndToEndOnSamples(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := thesisdb(t, "--db", db, "ingest", "../../samples")
	if code != 0 {
		t.Fatalf("ingest samples/ exited %d:\n%s", code, stderr)
	}
	entries, _ := os.ReadDir("../../samples")
	var docs int
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") && !e.IsDir() && !strings.HasSuffix(e.Name(), ".json") {
			docs++
		}
	}
	if got := strings.Count(stderr, "\nok ") + boolInt(strings.HasPrefix(stderr, "ok ")); got != docs {
		t.Errorf("%d ok lines for %d samples:\n%s", got, docs, stderr)
	}
	if !strings.Contains(stderr, "extracting with the offline rules extractor") {
		t.Errorf("stderr does not say which extractor ran:\n%s", stderr)
	}

	// Every sample yields a thesis with data points, queryable as CSV.
	out, stderr, code := thesisdb(t, "--db", db, "query", "--format", "csv",
		"SELECT source, count(*) AS points FROM current_data_points GROUP BY source ORDER BY source")
	if code != 0 {
		t.Fatalf("query exited %d: %s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs)-1 != docs {
		t.Errorf("%d documents with data points, want %d:\n%s", len(recs)-1, docs, out)
	}

	// The same content again is a duplicate, not a new extraction.
	_, stderr, code = thesisdb(t, "--db", db, "ingest", "../../samples")
	if code != 0 || strings.Count(stderr, "duplicate ") != docs {
		t.Errorf("second ingest exited %d, want %d duplicates:\n%s", code, docs, stderr)
	}

	// Export is one valid schema document per line.
	out, _, code = thesisdb(t, "--db", db, "export")
	if code != 0 {
		t.Fatalf("export exited %d", code)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	n := 0
	for sc.Scan() {
		var rec struct {
			Document   struct{ Source string }
			Extraction json.RawMessage
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if _, err := schema.Parse(rec.Extraction); err != nil {
			t.Errorf("%s: exported extraction invalid: %v", rec.Document.Source, err)
		}
		n++
	}
	if n != docs {
		t.Errorf("exported %d records, want %d", n, docs)
	}

	// Writes are refused and change nothing.
	_, stderr, code = thesisdb(t, "--db", db, "query", "DELETE FROM documents")
	if code == 0 || !strings.Contains(stderr, "read-only") {
		t.Errorf("DELETE: exit %d, stderr %q", code, stderr)
	}
	out, _, _ = thesisdb(t, "--db", db, "query", "--format", "json", "SELECT count(*) AS n FROM documents")
	var cnt []struct{ N int }
	if err := json.Unmarshal([]byte(out), &cnt); err != nil || len(cnt) != 1 || cnt[0].N != docs {
		t.Errorf("documents after refused DELETE: %s (%v)", out, err)
	}

	// --max-rows cuts and says so.
	out, stderr, _ = thesisdb(t, "--db", db, "query", "--format", "jsonl", "--max-rows", "2", "SELECT indicator FROM current_data_points")
	if strings.Count(out, "\n") != 2 || !strings.Contains(stderr, "cut at 2 rows") {
		t.Errorf("max-rows: %q / %q", out, stderr)
	}

	// runs lists the two ingest runs.
	out, _, _ = thesisdb(t, "--db", db, "runs", "--format", "csv")
	if lines := strings.Count(out, "\n"); lines != 3 {
		t.Errorf("runs printed %d lines, want header + 2:\n%s", lines, out)
	}
}

func TestReadmeQueriesRun(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "t.sqlite")
	if _, stderr, code := thesisdb(t, "--db", db, "ingest", "../../samples"); code != 0 {
		t.Fatalf("ingest: %s", stderr)
	}
	// Every ```sql block in the README must run and return rows.
	blocks := strings.Split(string(readme), "```sql\n")[1:]
	if len(blocks) < 10 {
		t.Fatalf("README has %d sql examples, want at least 10", len(blocks))
	}
	for _, b := range blocks {
		q := b[:strings.Index(b, "```")]
		out, stderr, code := thesisdb(t, "--db", db, "query", "--format", "csv", q)
		if code != 0 {
			t.Errorf("README query failed: %s\n%s", q, stderr)
			continue
		}
		if strings.Count(out, "\n") < 2 {
			t.Errorf("README query returned no rows on the samples:\n%s", q)
		}
	}
}

func TestIngestFailuresExitOne(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.txt"), []byte("A note\nHigh-yield spreads are 284 bps, according to Fidelity.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "empty.txt"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden.txt"), []byte("skip me"), 0o644)
	os.WriteFile(filepath.Join(dir, "image.png"), []byte("\x89PNG"), 0o644)
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := thesisdb(t, "--db", db, "ingest", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, stderr)
	}
	for _, want := range []string{"ok ", "failed ", "empty.txt", "0 bytes", "image.png", "1 ok, 1 failed"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "hidden") {
		t.Errorf("dotfile was not skipped:\n%s", stderr)
	}
}

func TestTextAndSchemaCommands(t *testing.T) {
	f := filepath.Join(t.TempDir(), "n.md")
	os.WriteFile(f, []byte("---\ntitle: Front\nauthor: Ann\ndate: 2026-01-02\n---\n# Heading\r\nBody 5%\r\n"), 0o644)
	out, _, code := thesisdb(t, "text", "--json", f)
	if code != 0 {
		t.Fatal(code)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got["kind"] != "markdown" || got["title"] != "Front" || got["author"] != "Ann" || got["published"] != "2026-01-02" || got["text"] != "# Heading\nBody 5%" {
		t.Errorf("text --json = %v", got)
	}
	out, _, _ = thesisdb(t, "schema")
	if !bytes.Equal([]byte(out), schema.JSON) {
		t.Error("schema output differs from the embedded schema")
	}
	for _, args := range [][]string{{"text", "--pdf-engine", "bogus", f}, {"ingest", "--pdf-engine", "bogus", f}, {"ingest", "--concurrency", "0", f}} {
		if _, stderr, code := thesisdb(t, append([]string{"--db", filepath.Join(t.TempDir(), "x.sqlite")}, args...)...); code == 0 || !strings.Contains(stderr, "--") {
			t.Errorf("%v: exit %d, stderr %q; want a flag error", args, code, stderr)
		}
	}
	_, stderr, code := thesisdb(t, "query", "--db", filepath.Join(t.TempDir(), "none.sqlite"), "SELECT 1")
	if code == 0 || !strings.Contains(stderr, "thesisdb ingest") {
		t.Errorf("query on a missing db: %d %q", code, stderr)
	}
}

// TestPDFPasswordFromEnvironment: a password-protected PDF fails with a
// clear error, and ingests once THESISDB_PDF_PASSWORD holds its password.
func TestPDFPasswordFromEnvironment(t *testing.T) {
	pdf := "../../../shared/corpora/pdf/libreoffice-writer-password.pdf"
	if _, err := os.Stat(pdf); err != nil {
		t.Skip("the PDF corpus is not beside the project")
	}
	db := filepath.Join(t.TempDir(), "t.sqlite")
	t.Setenv(pdfPasswordEnv, "")
	if _, stderr, code := thesisdb(t, "--db", db, "ingest", "--extractor", "rules", pdf); code != 1 || !strings.Contains(stderr, "a user password is required") {
		t.Errorf("without the password: exit %d\n%s", code, stderr)
	}
	t.Setenv(pdfPasswordEnv, "openpassword")
	out, stderr, code := thesisdb(t, "text", pdf)
	if code != 0 || !strings.Contains(out, "Lorem ipsum") || strings.Contains(stderr, "empty user password") {
		t.Errorf("text with the password: exit %d %.80q\n%s", code, out, stderr)
	}
	if _, stderr, code := thesisdb(t, "--db", db, "ingest", "--extractor", "rules", pdf); code != 0 || !strings.Contains(stderr, "1 ok") {
		t.Errorf("ingest with the password: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "openpassword") {
		t.Error("the password was printed")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestIngestURL(t *testing.T) {
	page, err := os.ReadFile("../../samples/research-platform.html")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/theses/grid", http.StatusFound) })
	mux.HandleFunc("/theses/grid", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := thesisdb(t, "--db", db, "ingest", srv.URL+"/old", srv.URL+"/gone")
	if code != 1 || !strings.Contains(stderr, "404") {
		t.Fatalf("exit %d, want 1 with the 404 reported:\n%s", code, stderr)
	}
	out, _, _ := thesisdb(t, "--db", db, "query", "--format", "csv", "SELECT source, kind, (SELECT count(*) FROM current_views) FROM documents")
	if want := "source,kind,(SELECT count(*) FROM current_views)\n" + srv.URL + "/theses/grid,html,3\n"; out != want {
		t.Errorf("stored = %q, want %q (the final URL, and the page's views)", out, want)
	}
}
