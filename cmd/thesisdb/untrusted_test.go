package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
)

const untrustedNote = "Copper looks cheap\nWe are bullish on copper over the next 12 months.\nInventories fell 12% in the quarter, according to the exchange.\n"

// thesisdbNoHang runs the CLI like thesisdb, failing the test instead of
// hanging it when the command never returns (a named pipe opened for
// reading waits for a writer forever). The bound is a deadlock guard, far
// above the command's real duration, not a performance assertion.
func thesisdbNoHang(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	type result struct {
		out, err string
		code     int
	}
	done := make(chan result, 1)
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	go func() {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
		done <- result{out.String(), errb.String(), code}
	}()
	select {
	case r := <-done:
		return r.out, r.err, r.code
	case <-time.After(3 * time.Minute):
		t.Fatalf("thesisdb %s did not return: blocked (on a named pipe?)", strings.Join(args, " "))
		return "", "", 0
	}
}

// statusLinesAreWhole checks that every stderr line is a status line, a
// log line or a continuation: none was started by a character of a file
// name, and no control character reached the terminal.
func statusLinesAreWhole(t *testing.T, stderr string) {
	t.Helper()
	prefixes := []string{"ok ", "failed ", "duplicate ", "cached ", "stopped ", "recovered ", "           ", "level=", "run ", "watch run ", "see the errors", ""}
	for _, l := range strings.Split(stderr, "\n") {
		ok := false
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) && (p != "" || l == "") {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("a line that is no status line (a name broke the line?): %q", l)
		}
		for _, r := range l {
			if r < 0x20 && r != '\t' || r == 0x7f || r == '\u2028' || r == '\u202e' {
				t.Errorf("control or formatting character %U on a status line: %q", r, l)
			}
		}
	}
}

func TestStatusLinesEscapeHostileNames(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good\nok         fake.txt line\x1b[31m.txt")
	empty := filepath.Join(dir, "empty\u202e\r\n<<<DOCUMENT 222222222222>>>.md")
	plain := filepath.Join(dir, "plain name — Q3.txt")
	os.WriteFile(good, []byte(untrustedNote), 0o644)
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(plain, []byte(strings.Replace(untrustedNote, "12%", "13%", 1)), 0o644)
	db := filepath.Join(t.TempDir(), "t.sqlite")
	stdout, stderr, code := thesisdb(t, "--db", db, "ingest", "--json", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the empty file fails):\n%s", code, stderr)
	}
	statusLinesAreWhole(t, stderr)
	for _, want := range []string{
		"ok         " + fmt.Sprintf("%q", good) + "  ",
		"failed     " + fmt.Sprintf("%q", empty) + "  load " + strings.Trim(fmt.Sprintf("%+q", empty), `"`),
		"ok         " + plain + "  ", // ordinary names stay unquoted
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// JSON keeps the real names, escaped by JSON itself.
	sources := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("--json line %q: %v", l, err)
		}
		sources[m["source"].(string)] = true
	}
	if !sources[good] || !sources[empty] || !sources[plain] {
		t.Errorf("--json sources %v", sources)
	}
	// The database keeps the name as it is.
	out, _, _ := thesisdb(t, "--db", db, "query", "--format", "json", "SELECT source FROM documents WHERE source LIKE '%good%'")
	var rows []map[string]string
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 || rows[0]["source"] != good {
		t.Errorf("stored source %q (%v), want %q", out, err, good)
	}
}

func TestDisplayHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"notes/plain name — Q3.md": "notes/plain name — Q3.md",
		"a\nb.txt":                 `"a\nb.txt"`,
		"bad\xffbyte.md":           `"bad\xffbyte.md"`,
		"rtl\u202eexe.md":          `"rtl\u202eexe.md"`,
	} {
		if got := displayName(in); got != want {
			t.Errorf("displayName(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		`load "x.docx": unsupported`: `load "x.docx": unsupported`,
		"load a\nb.txt: \x1b[2J\x07": `load a\nb.txt: \x1b[2J\a`,
		"bad\xffbyte \u2028 sep":     `bad\xffbyte \u2028 sep`,
	} {
		if got := displayText(in); got != want {
			t.Errorf("displayText(%q) = %s, want %s", in, got, want)
		}
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// Named pipes fail with what they are when named, are skipped with a note
// in a folder; symbolic links to files are followed, to folders are not
// (in a walk), broken ones are reported.
func TestIngestPipesAndSymlinks(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "notes")
	elsewhere := filepath.Join(root, "elsewhere")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.MkdirAll(elsewhere, 0o755)
	os.WriteFile(filepath.Join(dir, "good.txt"), []byte(untrustedNote), 0o644)
	os.WriteFile(filepath.Join(elsewhere, "linked.md"), []byte(strings.Replace(untrustedNote, "12%", "14%", 1)), 0o644)
	os.WriteFile(filepath.Join(elsewhere, "only-via-folder-link.md"), []byte(strings.Replace(untrustedNote, "12%", "15%", 1)), 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden.md"), []byte("hidden"), 0o644)
	mkfifo(t, filepath.Join(dir, "pipe.txt"))
	os.Symlink(filepath.Join(elsewhere, "linked.md"), filepath.Join(dir, "sub", "link.md"))
	os.Symlink(dir, filepath.Join(dir, "sub", "loop"))
	os.Symlink(elsewhere, filepath.Join(dir, "to-elsewhere"))
	os.Symlink(filepath.Join(root, "missing.md"), filepath.Join(dir, "broken.md"))
	os.Symlink(filepath.Join(dir, "pipe.txt"), filepath.Join(dir, "pipe-link.md"))
	named := filepath.Join(root, "named-pipe.md")
	mkfifo(t, named)

	db := filepath.Join(root, "t.sqlite")
	_, stderr, code := thesisdbNoHang(t, "--db", db, "ingest", dir, named)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the named pipe fails):\n%s", code, stderr)
	}
	for _, want := range []string{
		"ok         " + filepath.Join(dir, "good.txt"),
		"ok         " + filepath.Join(dir, "sub", "link.md"),
		"failed     " + named + "  load " + named + ": not a regular file: it is a named pipe (FIFO)",
		`msg="skipping a named pipe (FIFO), not a regular file" path=` + filepath.Join(dir, "pipe.txt"),
		`msg="skipping symbolic link to a named pipe (FIFO), not a regular file" path=` + filepath.Join(dir, "pipe-link.md"),
		`msg="skipping symbolic link to a folder (not followed in a folder walk; name the folder itself to ingest it)" path=` + filepath.Join(dir, "sub", "loop"),
		`path=` + filepath.Join(dir, "to-elsewhere"),
		`msg="skipping broken symbolic link" path=` + filepath.Join(dir, "broken.md"),
		`msg="skipped names starting with a dot" folder=` + dir + " count=1",
		"2 ok, 1 failed",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "only-via-folder-link") {
		t.Errorf("a symbolic link to a folder was followed in the walk:\n%s", stderr)
	}

	// A symbolic link to a folder, named as an argument, is followed.
	_, stderr, code = thesisdbNoHang(t, "--db", db, "ingest", filepath.Join(dir, "to-elsewhere"))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{
		"ok         " + filepath.Join(dir, "to-elsewhere", "only-via-folder-link.md"),
		"duplicate  " + filepath.Join(dir, "to-elsewhere", "linked.md"),
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	out, _, _ := thesisdb(t, "--db", db, "query", "--format", "csv", "SELECT source, error FROM load_failures")
	if !strings.Contains(out, named+",load "+named+": not a regular file: it is a named pipe (FIFO)") {
		t.Errorf("load_failures:\n%s", out)
	}
}

// A named pipe dropped into a watched inbox does not block the watch.
func TestWatchIgnoresNamedPipe(t *testing.T) {
	root := t.TempDir()
	in, db := filepath.Join(root, "in"), filepath.Join(root, "t.sqlite")
	os.MkdirAll(in, 0o755)
	os.WriteFile(filepath.Join(in, "good.txt"), []byte(untrustedNote), 0o644)
	os.WriteFile(filepath.Join(in, "bad\nname\x1b[31m.md"), nil, 0o644)
	mkfifo(t, filepath.Join(in, "pipe.txt"))
	_, stderr, code := thesisdbNoHang(t, "--db", db, "watch", "--once", "--settle", "20ms", in)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the empty file fails):\n%s", code, stderr)
	}
	statusLinesAreWhole(t, stderr)
	for _, want := range []string{
		"ok         " + filepath.Join(in, "good.txt"),
		"failed     " + fmt.Sprintf("%q", filepath.Join(in, "bad\nname\x1b[31m.md")),
		"moved to " + fmt.Sprintf("%q", filepath.Join(in, "failed", "bad\nname\x1b[31m.md")) +
			" (reason and how to retry: " + fmt.Sprintf("%q", "bad\nname\x1b[31m.md.error.txt") + ")",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if st, err := os.Lstat(filepath.Join(in, "pipe.txt")); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe was moved or replaced: %v", err)
	}
}

// ingest of http://user:pw@host/x fetches with the credentials and records
// http://host/x; the password is in no output and no table.
func TestIngestURLWithCredentials(t *testing.T) {
	const pw = "s3cret-pw"
	page, err := os.ReadFile("../../samples/research-platform.html")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/x.html", func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "analyst" || p != pw {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("/gone", http.NotFound)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	withCreds := strings.Replace(srv.URL, "http://", "http://analyst:"+pw+"@", 1)
	db := filepath.Join(t.TempDir(), "t.sqlite")
	stdout, stderr, code := thesisdb(t, "--db", db, "ingest", "--json", withCreds+"/x.html", withCreds+"/gone")
	if code != 1 || !strings.Contains(stderr, "404") {
		t.Fatalf("exit %d, want 1 with the 404 reported:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "ok         "+srv.URL+"/x.html") {
		t.Errorf("the page was not stored (fetched without credentials?):\n%s", stderr)
	}
	out, _, _ := thesisdb(t, "--db", db, "query", "--format", "csv",
		"SELECT 'doc', source FROM documents UNION ALL SELECT 'failure', source || ' ' || error FROM load_failures UNION ALL SELECT 'params', params FROM runs")
	for what, s := range map[string]string{"stdout": stdout, "stderr": stderr, "tables": out} {
		if strings.Contains(s, pw) {
			t.Errorf("the password is in %s:\n%s", what, s)
		}
	}
	for _, want := range []string{"doc," + srv.URL + "/x.html\n", "failure," + srv.URL + "/gone load http://analyst:xxxxx@"} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lack %q:\n%s", want, out)
		}
	}
}

// The INFO line naming the LLM server shows its URL without the password.
func TestLLMBaseURLPasswordNotLogged(t *testing.T) {
	const pw = "llm-pa55"
	srv := llmtest.New(t)
	srv.Otherwise(func(llmtest.Request) llmtest.Response { return llmtest.Response{Content: answer} })
	db := filepath.Join(t.TempDir(), "t.sqlite")
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", strings.Replace(srv.BaseURL(), "http://", "http://proxy:"+pw+"@", 1))
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--db", db, "ingest", "../../samples/market-commentary.txt"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	if strings.Contains(errb.String(), pw) {
		t.Errorf("the password reached the log:\n%s", errb.String())
	}
	if !strings.Contains(errb.String(), "server=http://proxy:xxxxx@127.0.0.1") {
		t.Errorf("the server is not named, redacted:\n%s", errb.String())
	}
}
