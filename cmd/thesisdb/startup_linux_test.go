//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// startupBuild builds the command once for the start-up test and benchmark.
func startupBuild(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "thesisdb")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startupDB ingests one small note into a new database for the start-up
// test and benchmark to query.
func startupDB(tb testing.TB, bin string) string {
	tb.Helper()
	dir := tb.TempDir()
	db := filepath.Join(dir, "small.sqlite")
	note := filepath.Join(dir, "note.txt")
	if err := os.WriteFile(note, []byte("Revenue grew 10% to $90bn. We are bullish on the shares.\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	ingest := exec.Command(bin, "--db", db, "ingest", note)
	ingest.Env = append(os.Environ(), "OPENAI_API_KEY=", "OPENAI_BASE_URL=")
	if out, err := ingest.CombinedOutput(); err != nil {
		tb.Fatalf("ingest: %v\n%s", err, out)
	}
	return db
}

// Start-up allocation limits. Every thesisdb process pays for what package
// initialisation allocates, and so does every worker process a PDF or HTML
// document is parsed in; the date parser's locale tables alone used to
// take 78 MB here, the JSON Schema metaschemas, the HTML loader's range
// and emoji tables and the rules extractor's expressions 5 MB more.
const (
	// maxInitBytes bounds what any one package may allocate at start.
	maxInitBytes = 512 << 10
	// maxInitTotal bounds what all packages together may allocate.
	maxInitTotal = 4 << 20
	// maxLazyInitBytes bounds what a package whose tables are built on
	// first use may allocate at start: the little that is left once they
	// are not built.
	maxLazyInitBytes = 64 << 10
)

// lazyPackages build their tables on first use, through thesisdb's own
// code or a patched copy in third_party/ (see its PATCHES.md); a query
// never uses them.
var lazyPackages = []string{
	"github.com/markusmobius/go-dateparser/internal/data",
	"github.com/markusmobius/go-dateparser/internal/timezone",
	"github.com/santhosh-tekuri/jsonschema/v6",
	"github.com/markusmobius/go-domdistiller/internal/stringutil",
	"github.com/forPelevin/gomoji",
	"github.com/thesisdb/thesisdb/extract/rules",
	"github.com/thesisdb/thesisdb/extract/htmldoc",
	"github.com/thesisdb/thesisdb/schema",
}

// TestStartupLean runs `thesisdb query "select 1"` with the runtime's
// init trace and fails when a package's initialisation allocates more than
// maxInitBytes, all of them more than maxInitTotal, or a package listed in
// lazyPackages more than maxLazyInitBytes: heavy tables belong behind a
// lazy first use.
func TestStartupLean(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := startupBuild(t)
	db := startupDB(t, bin)
	cmd := exec.Command(bin, "--db", db, "query", "select 1")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("thesisdb query: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "1") {
		t.Fatalf("thesisdb query printed %q, not the row", stdout.String())
	}
	inits := parseInitTrace(t, &stderr)
	if len(inits) < 10 {
		t.Fatalf("only %d init trace lines: did GODEBUG=inittrace=1 work?\n%s", len(inits), stderr.String())
	}
	var total int64
	for pkg, n := range inits {
		total += n
		if n > maxInitBytes {
			t.Errorf("package %s allocates %d bytes at start-up (limit %d): initialise it on first use", pkg, n, maxInitBytes)
		}
	}
	if total > maxInitTotal {
		t.Errorf("package initialisation allocates %d bytes in all (limit %d)", total, maxInitTotal)
	}
	for _, pkg := range lazyPackages {
		n, ok := inits[pkg]
		if !ok {
			t.Errorf("package %s is not in the init trace: linked no more? update lazyPackages", pkg)
		}
		if n > maxLazyInitBytes {
			t.Errorf("package %s allocates %d bytes at start-up (limit %d): its tables are no longer built on first use", pkg, n, maxLazyInitBytes)
		}
	}
	t.Logf("%d packages initialised, %d bytes allocated", len(inits), total)
}

// maxQueryBytes bounds what `thesisdb query "select 1"` allocates once
// the process has started: opening the database and printing a row,
// without building any of the tables that are built on first use (the
// smallest of them, the rules extractor's expressions, takes 0.7 MB).
const maxQueryBytes = 512 << 10

// envQueryDB makes TestQueryBuildsNoTables, in a process of its own, run
// the query on the database it names and print what the query allocated.
const envQueryDB = "THESISDB_TEST_QUERY_DB"

// TestQueryBuildsNoTables runs `query "select 1"` in a fresh test process,
// where no table built on first use has been built yet, and fails when the
// command allocates more than maxQueryBytes: a query must not compile the
// JSON Schema, the HTML loader's tables or an extractor's expressions.
func TestQueryBuildsNoTables(t *testing.T) {
	if db := os.Getenv(envQueryDB); db != "" {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"--db", db, "query", "select 1"}, strings.NewReader(""), &stdout, &stderr)
		runtime.ReadMemStats(&after)
		if code != 0 {
			t.Fatalf("query: exit status %d\n%s", code, stderr.String())
		}
		fmt.Printf("query allocated %d bytes\n", after.TotalAlloc-before.TotalAlloc)
		return
	}
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	dir := t.TempDir()
	db := filepath.Join(dir, "small.sqlite")
	note := filepath.Join(dir, "note.txt")
	if err := os.WriteFile(note, []byte("Revenue grew 10% to $90bn. We are bullish on the shares.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"--db", db, "ingest", note}, strings.NewReader(""), io.Discard, &stderr); code != 0 {
		t.Fatalf("ingest: exit status %d\n%s", code, stderr.String())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestQueryBuildsNoTables$")
	cmd.Env = append(os.Environ(), envQueryDB+"="+db)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("query process: %v\n%s", err, out)
	}
	var n int64
	i := bytes.Index(out, []byte("query allocated "))
	if i < 0 {
		t.Fatalf("query process printed no allocation:\n%s", out)
	}
	if _, err := fmt.Sscanf(string(out[i:]), "query allocated %d bytes", &n); err != nil {
		t.Fatalf("query process output %q: %v", out, err)
	}
	if n > maxQueryBytes {
		t.Errorf("query allocated %d bytes (limit %d): did it build a table meant to be built on first use?", n, maxQueryBytes)
	}
	t.Logf("query allocated %d bytes", n)
}

// parseInitTrace reads GODEBUG=inittrace=1 output into the bytes each
// package's initialisation allocated.
func parseInitTrace(t *testing.T, r io.Reader) map[string]int64 {
	t.Helper()
	inits := map[string]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// init PKG @T ms, C ms clock, B bytes, A allocs
		f := strings.Fields(sc.Text())
		if len(f) < 9 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		n, err := strconv.ParseInt(f[7], 10, 64)
		if err != nil {
			t.Fatalf("init trace line %q: %v", sc.Text(), err)
		}
		inits[f[1]] += n
	}
	return inits
}

// BenchmarkStartup measures a whole `thesisdb query "select 1"` process
// against a small database, from exec to exit, and reports the largest
// peak resident memory of its runs (maxRSS-B) and the CPU time each run
// used (cpu-ms/op, user and system), which a busy machine disturbs less
// than the wall time. Each run is started by testdata/rsswrap, which
// reads the figures: started by the test process itself, a run would
// report that large process's peak memory (see rsswrap). The wall time
// includes rsswrap's own start, about a millisecond.
//
// It runs the binary as the Go linker wrote it and a copy of it: Linux
// may keep a freshly linked file in the page cache as 2 MiB pages and map
// them whole, so the same code counts more resident memory there than in
// a copy, whose pages are mapped a few at a time, around what is touched.
func BenchmarkStartup(b *testing.B) {
	linked := startupBuild(b)
	db := startupDB(b, linked)
	copied := filepath.Join(b.TempDir(), "thesisdb")
	if err := copyFile(copied, linked); err != nil {
		b.Fatal(err)
	}
	wrap := filepath.Join(b.TempDir(), "rsswrap")
	if out, err := exec.Command("go", "build", "-o", wrap, "./testdata/rsswrap").CombinedOutput(); err != nil {
		b.Fatalf("go build rsswrap: %v\n%s", err, out)
	}
	for _, bc := range []struct{ name, bin string }{{"linked", linked}, {"copied", copied}} {
		b.Run("binary="+bc.name, func(b *testing.B) {
			var maxRSS, cpuMicros int64
			for b.Loop() {
				out, err := exec.Command(wrap, bc.bin, "--db", db, "query", "select 1").Output()
				if err != nil {
					b.Fatalf("query: %v", err)
				}
				var rssKiB, micros int64
				if _, err := fmt.Sscanf(string(out), "%d %d", &rssKiB, &micros); err != nil {
					b.Fatalf("rsswrap printed %q: %v", out, err)
				}
				maxRSS = max(maxRSS, rssKiB<<10)
				cpuMicros += micros
			}
			b.ReportMetric(float64(maxRSS), "maxRSS-B")
			b.ReportMetric(float64(cpuMicros)/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// copyFile copies the executable src to dst.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	return out.Close()
}
