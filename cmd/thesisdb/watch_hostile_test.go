package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/internal/hostile"
)

// The limits the containment tests run the parsers under, and what a
// document past them fails with.
const (
	hostileMemory     = "256MiB"
	hostileTimeout    = "300ms"
	hostileMemoryErr  = "HTML parser used more than 256 MiB of memory"
	hostileTimeoutErr = "HTML parser did not finish in 300ms"
)

// hostileBigHTML is a well-formed page of about 40 MB whose parse tree
// does not fit in 256 MiB: only the memory cap of the worker stops it.
func hostileBigHTML() []byte {
	var b bytes.Buffer
	b.Grow(41 << 20)
	b.WriteString("<html><head><title>Big</title></head><body><article>")
	for i := 0; b.Len() < 40<<20; i++ {
		fmt.Fprintf(&b, "<div class=c%d><p>Paragraph %d says spreads are <b>%d bps</b> wide.</p></div>\n", i%7, i, i%500)
	}
	b.WriteString("</article></body></html>")
	return b.Bytes()
}

// hostileMisnested is 8 MB of formatting tags never closed, whose parse
// takes well over a second: only the deadline of the worker stops it.
func hostileMisnested() []byte { return hostile.MisnestedHTML(8 << 20) }

// hostileVariant makes a distinct document of a PDF (another SHA-256, so
// not a duplicate) by appending a comment line after %%EOF.
func hostileVariant(pdf []byte, n int) []byte {
	return append(bytes.Clone(pdf), fmt.Sprintf("%%variant %d\n", n)...)
}

// hostileWatch is a `thesisdb watch` running as a child process.
type hostileWatch struct {
	cmd     *exec.Cmd
	log     string
	exited  chan struct{} // closed once the process has been reaped
	waitErr error
}

// startHostileWatch starts bin watching in with a short settle time and
// the extra flags; the process is killed at the end of the test if it
// still runs.
func startHostileWatch(t *testing.T, bin, db, in string, flags ...string) *hostileWatch {
	t.Helper()
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	w := &hostileWatch{log: filepath.Join(filepath.Dir(in), "watch.log"), exited: make(chan struct{})}
	args := append([]string{"--db", db, "watch", "--settle", "50ms"}, flags...)
	w.cmd = watchChild(t, bin, w.log, append(args, in)...)
	go func() {
		w.waitErr = w.cmd.Wait()
		close(w.exited)
	}()
	t.Cleanup(func() {
		if w.alive() {
			w.cmd.Process.Kill()
			<-w.exited
		}
	})
	// Ready once the run is recorded and the initial scan is under way.
	watchWaitFor(t, "the watch run", func() bool {
		return !w.alive() || strings.Contains(w.logText(), "msg=watching")
	})
	w.mustBeAlive(t, "at start")
	return w
}

func (w *hostileWatch) alive() bool {
	select {
	case <-w.exited:
		return false
	default:
		return true
	}
}

func (w *hostileWatch) logText() string {
	b, _ := os.ReadFile(w.log)
	return string(b)
}

func (w *hostileWatch) mustBeAlive(t *testing.T, when string) {
	t.Helper()
	if !w.alive() {
		t.Fatalf("watch died %s: %v\n%s", when, w.waitErr, w.logText())
	}
}

// stop sends SIGTERM and wants the watch to exit 0.
func (w *hostileWatch) stop(t *testing.T) {
	t.Helper()
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(60 * time.Second): // a hang guard only
		t.Fatalf("watch did not stop on SIGTERM:\n%s", w.logText())
	}
	if w.waitErr != nil {
		t.Errorf("watch after SIGTERM: %v, want exit status 0\n%s", w.waitErr, w.logText())
	}
}

// hostileDrop writes each file into stage, then renames it into the inbox
// (whole at once, as the watch documentation advises).
func hostileDrop(t *testing.T, stage, in string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(stage, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		tmp := filepath.Join(stage, name)
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(in, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// hostileWaitFiled waits until every name is filed under in/sub.
func hostileWaitFiled(t *testing.T, w *hostileWatch, in, sub string, names ...string) {
	t.Helper()
	watchWaitFor(t, fmt.Sprintf("%v in %s/", names, sub), func() bool {
		if !w.alive() {
			return true // reported below
		}
		for _, n := range names {
			if _, err := os.Stat(filepath.Join(in, sub, n)); err != nil {
				return false
			}
		}
		return true
	})
	w.mustBeAlive(t, "while the files were processed")
}

// hostileNote wants failed/NAME.error.txt to give reason.
func hostileNote(t *testing.T, in, name, reason string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(in, "failed", name+".error.txt"))
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	if !strings.Contains(string(b), "reason: ") || !strings.Contains(string(b), reason) {
		t.Errorf("%s's note does not say %q:\n%s", name, reason, b)
	}
}

// hostileNothingClaimed wants no file left in .processing/.
func hostileNothingClaimed(t *testing.T, in string) {
	t.Helper()
	if left := watchFiled(t, filepath.Join(in, ".processing")); len(left) != 0 {
		t.Errorf("%d files left in .processing: %v", len(left), watchNames(t, in))
	}
}

// procTree returns the CPU ticks (user+system) of pid and of each of its
// live descendants, found through the parent pid in /proc/*/stat.
func procTree(t *testing.T, pid int) map[int]int64 {
	t.Helper()
	parent := map[int]int{}
	ticks := map[int]int64{}
	es, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// Fields after the command name, which ends with the last ')':
		// state, ppid, ..., utime (12th), stime (13th).
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
		if len(f) < 13 {
			continue
		}
		parent[p], _ = strconv.Atoi(f[1])
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks[p] = u + s
	}
	out := map[int]int64{}
	var in func(p int) bool
	in = func(p int) bool {
		for depth := 0; p > 1 && depth < 64; depth++ {
			if p == pid {
				return true
			}
			p = parent[p]
		}
		return false
	}
	for p, n := range ticks {
		if in(p) {
			out[p] = n
		}
	}
	return out
}

// assertTreeIdle measures the CPU used by the watch and its workers over
// two seconds without work, and wants it under 5% of one core.
func assertTreeIdle(t *testing.T, w *hostileWatch) {
	t.Helper()
	pid := w.cmd.Process.Pid
	const idle = 2 * time.Second
	before := procTree(t, pid)
	time.Sleep(idle)
	after := procTree(t, pid)
	var used int64
	for p, n := range after {
		used += n - before[p] // a process born meanwhile counts whole
	}
	frac := float64(used) / 100 / idle.Seconds() // USER_HZ is 100 on Linux
	t.Logf("idle: the watch and its %d worker processes used %d CPU ticks in %s = %.1f%% of one core", len(after)-1, used, idle, 100*frac)
	if frac > 0.05 {
		t.Errorf("idle process tree used %.1f%% of a core, want under 5%% (a parser left spinning?)", 100*frac)
	}
	w.mustBeAlive(t, "while idle")
}

// TestWatchHostile runs `thesisdb watch` as a child process, as in
// production, and drops into its inbox the documents that once stalled or
// killed it: it stays up, files each with its cause, and goes on.
func TestWatchHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and feeds it hostile documents")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	bin := watchBuild(t)

	// Nine PDFs whose page tree loops used to leave nine parser goroutines
	// spinning, and after eight every later PDF failed until a restart.
	t.Run("NineLoopingPDFsThenValid", func(t *testing.T) {
		root := t.TempDir()
		in, stage, db := filepath.Join(root, "in"), filepath.Join(root, "stage"), filepath.Join(root, "t.sqlite")
		w := startHostileWatch(t, bin, db, in)
		loops := map[string][]byte{}
		reasons := map[string]string{}
		for i := range 9 {
			name := fmt.Sprintf("loop%d.pdf", i)
			if i%2 == 0 {
				loops[name], reasons[name] = hostileVariant(hostile.PageTreeCycle(), i), "page tree node 2 lists itself as its own kid"
			} else {
				loops[name], reasons[name] = hostileVariant(hostile.ParentCycle(), i), "page tree node 3 is its own /Parent"
			}
		}
		hostileDrop(t, stage, in, loops)
		var names []string
		for name := range loops {
			names = append(names, name)
		}
		hostileWaitFiled(t, w, in, "failed", names...)
		for name, reason := range reasons {
			hostileNote(t, in, name, reason)
		}

		const text = "Rates Research. We are bullish on duration. Spreads at 284 bps according to ICE."
		hostileDrop(t, stage, in, map[string][]byte{"valid.pdf": hostile.Valid(text)})
		hostileWaitFiled(t, w, in, "done", "valid.pdf")
		got := fmt.Sprint(watchRows(t, db, `SELECT kind, text LIKE '%284 bps%' FROM documents WHERE source LIKE '%valid.pdf'`))
		if got != "[[pdf 1]]" {
			t.Errorf("valid.pdf stored as %s, want one pdf document with its text", got)
		}
		if n := watchInt(t, db, `SELECT count(*) FROM load_failures WHERE source LIKE '%loop%.pdf'`); n != 9 {
			t.Errorf("%d load failures recorded for the looping PDFs, want 9", n)
		}
		if log := w.logText(); strings.Contains(log, "stuck") {
			t.Errorf("the PDF loader reports stuck extractions:\n%s", log)
		}
		hostileNothingClaimed(t, in)
		assertTreeIdle(t, w)
		w.stop(t)
		if got := fmt.Sprint(watchRows(t, db, `SELECT status, documents_ok, documents_failed FROM runs`)); got != "[[done 1 9]]" {
			t.Errorf("run %s, want [[done 1 9]]", got)
		}
	})

	// PDFs whose cross-reference sizes made the library allocate terabytes:
	// the Go runtime's fatal out-of-memory, which no recover catches,
	// killed the watch at every restart.
	t.Run("AllocationBombPDFs", func(t *testing.T) {
		root := t.TempDir()
		in, stage, db := filepath.Join(root, "in"), filepath.Join(root, "stage"), filepath.Join(root, "t.sqlite")
		w := startHostileWatch(t, bin, db, in, "--concurrency", "2")
		hostileDrop(t, stage, in, map[string][]byte{
			"a-good.md":      []byte(watchNote),
			"xref-size.pdf":  hostile.HugeXrefSize(),
			"xref-index.pdf": hostile.HugeXrefIndex(),
			"contents.pdf":   hostile.ContentsArray(200_000),
			"flate-bomb.pdf": hostile.FlateBomb(1 << 30),
			"keyword.pdf":    hostile.HugeKeyword(1 << 30),
			"z-good.pdf":     hostile.Valid("Semis Research. Bullish. Gross margins rose to 61% in the quarter."),
		})
		hostileWaitFiled(t, w, in, "failed", "xref-size.pdf", "xref-index.pdf", "contents.pdf", "flate-bomb.pdf", "keyword.pdf")
		hostileWaitFiled(t, w, in, "done", "a-good.md", "z-good.pdf")
		hostileNote(t, in, "xref-size.pdf", "xref stream (object 1) declares /Size 100000000000")
		hostileNote(t, in, "xref-index.pdf", "xref table has a subsection of objects 100000000000")
		hostileNote(t, in, "contents.pdf", "a /Contents array has more than 10000 streams")
		hostileNote(t, in, "flate-bomb.pdf", "longer than 16 MiB")
		hostileNote(t, in, "keyword.pdf", "longer than 16 MiB")
		hostileNothingClaimed(t, in)
		if n := watchInt(t, db, `SELECT count(*) FROM documents`); n != 2 {
			t.Errorf("%d documents stored, want the 2 good ones", n)
		}
		// Still watching: a file dropped now is taken too.
		hostileDrop(t, stage, in, map[string][]byte{"later.md": []byte(strings.Replace(watchNote, "3.4%", "3.6%", 1))})
		hostileWaitFiled(t, w, in, "done", "later.md")
		w.stop(t)
		if got := fmt.Sprint(watchRows(t, db, `SELECT status, documents_ok, documents_failed FROM runs`)); got != "[[done 3 5]]" {
			t.Errorf("run %s, want [[done 3 5]]", got)
		}
	})

	// Containment itself, whatever the PDF pre-scan knows: an HTML page
	// past the memory cap and one past the deadline fail, each naming the
	// limit, and the watch carries on. One watch per limit, on the same
	// inbox and database, since one parse could pass both.
	t.Run("ParserLimits", func(t *testing.T) {
		root := t.TempDir()
		in, stage, db := filepath.Join(root, "in"), filepath.Join(root, "stage"), filepath.Join(root, "t.sqlite")
		for i, tc := range hostileLimitCases() {
			w := startHostileWatch(t, bin, db, in, append([]string{"--concurrency", "2"}, tc.flags...)...)
			hostileDrop(t, stage, in, map[string][]byte{tc.name: tc.data})
			hostileWaitFiled(t, w, in, "failed", tc.name)
			hostileNote(t, in, tc.name, tc.reason)

			after := fmt.Sprintf("after%d.md", i)
			hostileDrop(t, stage, in, map[string][]byte{after: []byte(strings.Replace(watchNote, "3.4%", fmt.Sprintf("3.%d%%", 5+i), 1))})
			hostileWaitFiled(t, w, in, "done", after)
			if n := watchInt(t, db, `SELECT count(*) FROM documents WHERE source LIKE '%`+after+`'`); n != 1 {
				t.Errorf("%s: %d documents, want 1", after, n)
			}
			hostileNothingClaimed(t, in)
			assertTreeIdle(t, w)
			w.stop(t)
		}
		if got := fmt.Sprint(watchRows(t, db, `SELECT status, documents_ok, documents_failed FROM runs ORDER BY id`)); got != "[[done 1 1] [done 1 1]]" {
			t.Errorf("runs %s, want [[done 1 1] [done 1 1]]", got)
		}
	})
}

// hostileLimitCases are the two pages that pass the parser limits, each
// with the flags that set them and what the document fails with. The
// deadline is not given to the big page: whether its parse runs out of
// time or memory first would be a race.
func hostileLimitCases() []struct {
	name   string
	data   []byte
	flags  []string
	reason string
} {
	return []struct {
		name   string
		data   []byte
		flags  []string
		reason string
	}{
		{"big.html", hostileBigHTML(), []string{"--doc-memory", hostileMemory}, hostileMemoryErr},
		{"misnested.html", hostileMisnested(), []string{"--doc-memory", hostileMemory, "--doc-timeout", hostileTimeout}, hostileTimeoutErr},
	}
}

// TestIngestHostileParserLimits runs the same two pages through ingest,
// from a folder and from URLs: each fails naming the limit it passed, the
// good documents beside it are stored, the run is done with the failure
// counted, and the exit status is 1.
func TestIngestHostileParserLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 48 MB of hostile HTML")
	}
	page, err := os.ReadFile("../../samples/research-platform.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range hostileLimitCases() {
		t.Run(tc.name+"/Files", func(t *testing.T) {
			dir := t.TempDir()
			files := map[string][]byte{
				tc.name:    tc.data,
				"good.md":  []byte(watchNote),
				"good.pdf": hostile.Valid("Semis Research. Bullish. Gross margins rose to 61% in the quarter."),
			}
			for name, b := range files {
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			db := filepath.Join(t.TempDir(), "t.sqlite")
			_, stderr, code := thesisdb(t, append(append([]string{"--db", db, "ingest", "--concurrency", "2"}, tc.flags...), dir)...)
			if code != 1 {
				t.Fatalf("ingest exited %d, want 1:\n%s", code, stderr)
			}
			lines := strings.Split(stderr, "\n")
			if l := hostileLine(lines, "failed ", tc.name); !strings.Contains(l, tc.reason) {
				t.Errorf("%s did not fail saying %q:\n%s", tc.name, tc.reason, stderr)
			}
			for _, name := range []string{"good.md", "good.pdf"} {
				if hostileLine(lines, "ok ", name) == "" {
					t.Errorf("%s was not stored:\n%s", name, stderr)
				}
			}
			if got := fmt.Sprint(watchRows(t, db, `SELECT kind, status, documents_ok, documents_failed FROM runs`)); got != "[[ingest done 2 1]]" {
				t.Errorf("runs %s, want [[ingest done 2 1]]", got)
			}
			if n := watchInt(t, db, `SELECT count(*) FROM load_failures WHERE error LIKE '%`+tc.reason+`%'`); n != 1 {
				t.Errorf("%d load failures give the reason, want 1", n)
			}
		})

		t.Run(tc.name+"/URLs", func(t *testing.T) {
			serve := func(b []byte) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					w.Write(b)
				}
			}
			mux := http.NewServeMux()
			mux.HandleFunc("/"+tc.name, serve(tc.data))
			mux.HandleFunc("/good.html", serve(page))
			srv := httptest.NewServer(mux)
			defer srv.Close()
			db := filepath.Join(t.TempDir(), "t.sqlite")
			args := append([]string{"--db", db, "ingest", "--concurrency", "2", "--max-fetch-bytes", "64000000"}, tc.flags...)
			_, stderr, code := thesisdb(t, append(args, srv.URL+"/"+tc.name, srv.URL+"/good.html")...)
			if code != 1 {
				t.Fatalf("ingest exited %d, want 1:\n%s", code, stderr)
			}
			lines := strings.Split(stderr, "\n")
			if l := hostileLine(lines, "failed ", srv.URL+"/"+tc.name); !strings.Contains(l, tc.reason) {
				t.Errorf("%s did not fail saying %q:\n%s", tc.name, tc.reason, stderr)
			}
			if hostileLine(lines, "ok ", srv.URL+"/good.html") == "" {
				t.Errorf("good.html was not stored:\n%s", stderr)
			}
			if got := fmt.Sprint(watchRows(t, db, `SELECT status, documents_ok, documents_failed FROM runs`)); got != "[[done 1 1]]" {
				t.Errorf("runs %s, want [[done 1 1]]", got)
			}
		})
	}
}

// hostileLine returns the first line starting with prefix that mentions
// name, or "".
func hostileLine(lines []string, prefix, name string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) && strings.Contains(l, name) {
			return l
		}
	}
	return ""
}
