//go:build linux

package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// maxInitBytes bounds what any one package may allocate while the process
// starts. Every thesisdb process pays for it, and so does every worker
// process a PDF or HTML document is parsed in; the date parser's locale
// tables alone used to take 78 MB here.
const maxInitBytes = 4 << 20

// TestStartupLean runs the built command with the runtime's init trace and
// fails when a package's initialisation allocates more than maxInitBytes:
// heavy tables belong behind a lazy first use.
func TestStartupLean(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := startupBuild(t)
	cmd := exec.Command(bin, "schema")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("thesisdb schema: %v\n%s", err, stderr.String())
	}
	seen := 0
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		// init PKG @T ms, C ms clock, B bytes, A allocs
		f := strings.Fields(sc.Text())
		if len(f) < 9 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		seen++
		n, err := strconv.ParseInt(f[7], 10, 64)
		if err != nil {
			t.Fatalf("init trace line %q: %v", sc.Text(), err)
		}
		if n > maxInitBytes {
			t.Errorf("package %s allocates %d bytes at start-up (limit %d): initialise it on first use", f[1], n, maxInitBytes)
		}
	}
	if seen < 10 {
		t.Fatalf("only %d init trace lines: did GODEBUG=inittrace=1 work?\n%s", seen, stderr.String())
	}
}

// BenchmarkStartup measures a whole `thesisdb query "select 1"` process
// against a small database, from exec to exit, and reports its peak
// resident memory (Linux counts the rusage in KiB).
func BenchmarkStartup(b *testing.B) {
	bin := startupBuild(b)
	dir := b.TempDir()
	db := filepath.Join(dir, "small.sqlite")
	note := filepath.Join(dir, "note.txt")
	if err := os.WriteFile(note, []byte("Revenue grew 10% to $90bn. We are bullish on the shares.\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	ingest := exec.Command(bin, "--db", db, "ingest", note)
	ingest.Env = append(os.Environ(), "OPENAI_API_KEY=", "OPENAI_BASE_URL=")
	if out, err := ingest.CombinedOutput(); err != nil {
		b.Fatalf("ingest: %v\n%s", err, out)
	}
	var maxRSS int64
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(bin, "--db", db, "query", "select 1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("query: %v\n%s", err, out)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			maxRSS = max(maxRSS, int64(ru.Maxrss))
		}
	}
	b.ReportMetric(float64(maxRSS)/1024, "maxRSS-MB")
}
