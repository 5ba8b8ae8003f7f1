package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract/llm/llmtest"
	"github.com/thesisdb/thesisdb/store"
)

// watchDrop writes files (relative name -> content) into dir.
func watchDrop(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// watchRows runs a read-only query against the database at path.
func watchRows(t *testing.T, path, q string) [][]any {
	t.Helper()
	r, err := store.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Query(context.Background(), q, 0)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return res.Rows
}

func watchInt(t *testing.T, path, q string) int {
	t.Helper()
	n, _ := watchRows(t, path, q)[0][0].(int64)
	return int(n)
}

const watchNote = `Regional banks look cheap
We are bullish on regional banks over the next 12 months.
Net interest margin rose to 3.4% in the quarter, up 20bp.
Loan growth of 5% supports earnings.
`

func TestWatchOnce(t *testing.T) {
	root := t.TempDir()
	in, db := filepath.Join(root, "in"), filepath.Join(root, "t.sqlite")
	watchDrop(t, in, map[string]string{
		"a.md":            watchNote,
		"clientA/b.txt":   strings.Replace(watchNote, "3.4%", "3.1%", 1),
		"clientA/dup.md":  watchNote,
		"empty.md":        "",
		"scan.docx":       "binary-ish",
		"draft.md.part":   "half written",
		"~$lockfile.md":   "office lock",
		"clientA/.hid.md": "hidden",
	})
	stdout, stderr, code := thesisdb(t, "--db", db, "watch", "--once", "--json", "--settle", "20ms", in)
	if code != 1 {
		t.Fatalf("watch --once with failures exited %d, want 1:\n%s", code, stderr)
	}
	for _, want := range []string{
		"ok         " + filepath.Join(in, "clientA", "b.txt"),
		"failed     " + filepath.Join(in, "empty.md"),
		"moved to " + filepath.Join(in, "failed", "scan.docx") + " (reason and how to retry: scan.docx.error.txt)",
		"done: 5 documents — 2 ok, 2 failed, 1 duplicate",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// a.md and clientA/dup.md hold the same content: whichever is
	// processed second is the duplicate.
	okA, dupA := strings.Contains(stderr, "ok         "+filepath.Join(in, "a.md")), strings.Contains(stderr, "duplicate  "+filepath.Join(in, "a.md"))
	okD, dupD := strings.Contains(stderr, "ok         "+filepath.Join(in, "clientA", "dup.md")), strings.Contains(stderr, "duplicate  "+filepath.Join(in, "clientA", "dup.md"))
	if !(okA && dupD || okD && dupA) {
		t.Errorf("want one of a.md and clientA/dup.md ok and the other duplicate:\n%s", stderr)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("--json line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 5 {
		t.Errorf("%d JSON lines, want 5:\n%s", len(lines), stdout)
	}
	for _, m := range lines {
		if m["name"] == "clientA/b.txt" && m["dest"] != filepath.Join(in, "done", "clientA", "b.txt") {
			t.Errorf("clientA/b.txt dest %v", m["dest"])
		}
	}
	for _, f := range []string{"done/a.md", "done/clientA/b.txt", "done/clientA/dup.md", "failed/empty.md",
		"failed/empty.md.error.txt", "failed/scan.docx", "failed/scan.docx.error.txt", "draft.md.part", "~$lockfile.md", "clientA/.hid.md"} {
		if _, err := os.Stat(filepath.Join(in, filepath.FromSlash(f))); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	rows := watchRows(t, db, `SELECT kind, status, documents_ok, documents_failed FROM runs`)
	if got := fmt.Sprint(rows); got != "[[watch done 2 2]]" {
		t.Errorf("runs: %s", got)
	}
	if got := fmt.Sprint(watchRows(t, db, `SELECT coalesce(tags, '') FROM documents ORDER BY id`)); !strings.Contains(got, "clientA") {
		t.Errorf("the sub-folder is not a tag: %s", got)
	}

	// All good: exit 0.
	watchDrop(t, in, map[string]string{"c.md": strings.Replace(watchNote, "5%", "6%", 1)})
	if _, stderr, code := thesisdb(t, "--db", db, "watch", "--once", "--settle", "20ms", in); code != 0 {
		t.Fatalf("watch --once exited %d:\n%s", code, stderr)
	}
}

func TestWatchStopsCleanlyWhenCancelled(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	root := t.TempDir()
	in, db := filepath.Join(root, "in"), filepath.Join(root, "t.sqlite")
	watchDrop(t, in, map[string]string{"a.md": watchNote})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr watchBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--db", db, "watch", "--settle", "20ms", "--summary-every", "10ms", in}, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	watchWaitFor(t, "a.md filed", func() bool { _, err := os.Stat(filepath.Join(in, "done", "a.md")); return err == nil })
	watchWaitFor(t, "a summary line", func() bool { return strings.Contains(stderr.String(), "1 ok, 0 failed") })
	// A failure while watching does not make the stop an error.
	watchDrop(t, in, map[string]string{"empty.md": ""})
	watchWaitFor(t, "empty.md filed", func() bool { _, err := os.Stat(filepath.Join(in, "failed", "empty.md")); return err == nil })
	cancel() // what SIGINT/SIGTERM do through main's signal.NotifyContext
	if code := <-done; code != 0 {
		t.Fatalf("watch exited %d after a stop:\n%s", code, stderr.String())
	}
	if got := fmt.Sprint(watchRows(t, db, `SELECT status FROM runs`)); got != "[[done]]" {
		t.Errorf("run status %s, want done", got)
	}
	if !strings.Contains(stderr.String(), "run 1 done: 2 documents — 1 ok, 1 failed") {
		t.Errorf("no final summary:\n%s", stderr.String())
	}
}

func TestWatchRefusesMissingInbox(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.sqlite")
	_, stderr, code := thesisdb(t, "--db", db, "watch", "--once", filepath.Join(t.TempDir(), "nope"))
	if code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a run was recorded for a missing inbox")
	}
}

// watchBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type watchBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *watchBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *watchBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// watchWaitFor polls cond; the deadline guards against a hang only.
func watchWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// watchBuild builds the command for tests that run it as a child.
func watchBuild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "thesisdb")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// watchChild starts the built command with a clean LLM environment, its stderr
// going to errPath.
func watchChild(t *testing.T, bin, errPath string, args ...string) *exec.Cmd {
	t.Helper()
	f, err := os.OpenFile(errPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "OPENAI_API_KEY=", "OPENAI_BASE_URL=")
	cmd.Stderr, cmd.Stdout = f, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return cmd
}

func watchSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// watchFiled returns the SHA-256 of every document under dir (notes
// excluded), sorted.
func watchFiled(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.HasSuffix(p, ".error.txt") || d.Name() == ".lock" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
		}
		out = append(out, watchSHA(b))
		return nil
	})
	sort.Strings(out)
	return out
}

// TestWatchSurvivesKill9 kills watch at random moments while it ingests
// 200 files, restarts it, and checks that every file is filed exactly once
// and every good document stored exactly once, whole.
func TestWatchSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and kills it repeatedly")
	}
	bin := watchBuild(t)
	root := t.TempDir()
	in, db, logPath := filepath.Join(root, "in"), filepath.Join(root, "t.sqlite"), filepath.Join(root, "watch.log")
	// Long notes, so that the kills land while work is in flight.
	var sample []byte
	for _, f := range []string{"research-note-japan.md", "research-note-energy.txt", "market-commentary.txt"} {
		b, err := os.ReadFile(filepath.Join("../../samples", f))
		if err != nil {
			t.Fatal(err)
		}
		sample = append(append(sample, b...), "\n\n"...)
	}
	files := map[string]string{}
	var all, bad []string
	good := map[string]bool{}
	for i := range 200 {
		var name, content string
		switch {
		case i%20 == 7: // empty: fails to load
			name, content = fmt.Sprintf("bad/empty%03d.md", i), ""
		case i%20 == 13: // unsupported type
			name, content = fmt.Sprintf("memo%03d.docx", i), fmt.Sprintf("memo %d", i)
		case i%10 == 3: // duplicate of an earlier file's content
			name, content = fmt.Sprintf("client%d/copy%03d.md", i%3, i), files[fmt.Sprintf("client%d/note%03d.md", (i-1)%3, i-1)]
		default:
			name = fmt.Sprintf("client%d/note%03d.md", i%3, i)
			content = fmt.Sprintf("%s\n\nRevision %d: margin guidance raised to %d.%d%%.\n", sample, i, 3+i%5, i%10)
		}
		if content == "" && !strings.HasPrefix(name, "bad/") {
			t.Fatalf("setup: no content for %s", name)
		}
		files[name] = content
		all = append(all, watchSHA([]byte(content)))
		if strings.HasPrefix(name, "bad/") || strings.HasSuffix(name, ".docx") {
			bad = append(bad, name)
		} else {
			good[watchSHA([]byte(content))] = true
		}
	}
	sort.Strings(all)
	watchDrop(t, in, files)

	args := []string{"--db", db, "watch", "--settle", "20ms", "--rescan", "1s", "--concurrency", "2", in}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	kills := 0
	for kills < 10 {
		cmd := watchChild(t, bin, logPath, args...)
		time.Sleep(time.Duration(150+rng.IntN(350)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
		kills++
		claimed := len(watchFiled(t, filepath.Join(in, ".processing"))) - len(watchFiled(t, filepath.Join(in, ".processing", ".attempts")))
		var left int
		filepath.WalkDir(in, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && !strings.Contains(p, "/done/") && !strings.Contains(p, "/failed/") && !strings.Contains(p, "/.attempts/") && d.Name() != ".lock" {
				left++
			}
			return nil
		})
		t.Logf("kill -9 #%d: %d files claimed in .processing, %d not yet filed", kills, claimed, left)
		if left == 0 {
			break
		}
	}
	// A last, complete pass.
	cmd := watchChild(t, bin, logPath, append([]string{"--db", db, "watch", "--once", "--settle", "20ms"}, in)...)
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("final watch --once: %v\n%s", err, log)
	}

	// Every file is in done/ or failed/, exactly once.
	filed := append(watchFiled(t, filepath.Join(in, "done")), watchFiled(t, filepath.Join(in, "failed"))...)
	sort.Strings(filed)
	if strings.Join(filed, ",") != strings.Join(all, ",") {
		t.Errorf("filed %d files, want the %d dropped, each once", len(filed), len(all))
	}
	for _, dir := range []string{"done", "failed"} {
		filepath.WalkDir(filepath.Join(in, dir), func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), ".") {
				t.Errorf("left behind in %s/: %s", dir, d.Name())
			}
			return nil
		})
	}
	for _, name := range bad {
		p := filepath.Join(in, "failed", filepath.FromSlash(name))
		if _, err := os.Stat(p + ".error.txt"); err != nil {
			t.Errorf("bad file %s has no note: %v", name, err)
		}
	}
	if left := watchFiled(t, filepath.Join(in, ".processing")); len(left) != 0 {
		t.Errorf("%d files left in .processing", len(left))
	}
	// A good file in flight at two kills may be set aside as a poison
	// file: in failed/ with the note saying so, never stored. Every other
	// good file is in done/.
	quarantined := watchQuarantined(t, filepath.Join(in, "failed"))
	isBad := map[string]bool{}
	for _, name := range bad {
		isBad[name] = true
	}
	stored := map[string]bool{}
	for name, content := range files {
		p := filepath.Join(in, "done", filepath.FromSlash(name))
		_, err := os.Stat(p)
		switch {
		case isBad[name] || quarantined[name]:
			if err == nil {
				t.Errorf("%s is in done/", name)
			}
		case err != nil:
			t.Errorf("good file %s is not in done/: %v", name, err)
		default:
			stored[watchSHA([]byte(content))] = true
		}
	}
	for name := range quarantined {
		if _, ok := files[name]; !ok {
			t.Errorf("unknown file set aside: %s", name)
		}
	}

	// Every good document not set aside stored exactly once, whole.
	if n := watchInt(t, db, `SELECT count(*) FROM documents`); n != len(stored) {
		t.Errorf("%d documents stored, want %d", n, len(stored))
	}
	for _, c := range []struct{ what, q string }{
		{"documents without exactly one extraction", `SELECT count(*) FROM documents d WHERE (SELECT count(*) FROM extractions e WHERE e.document_id = d.id) != 1`},
		{"failed extractions", `SELECT count(*) FROM extractions WHERE status != 'ok'`},
		{"ok extractions whose theses rows differ from their result", `SELECT count(*) FROM extractions e WHERE e.status = 'ok'
			AND (SELECT count(*) FROM theses t WHERE t.extraction_id = e.id) != json_array_length(e.result, '$.theses')`},
		{"ok extractions whose data_points rows differ from their result", `SELECT count(*) FROM extractions e WHERE e.status = 'ok'
			AND (SELECT count(*) FROM data_points p WHERE p.extraction_id = e.id) !=
			    (SELECT coalesce(sum(json_array_length(t.value, '$.data_points')), 0) FROM json_each(e.result, '$.theses') t)`},
		{"ok extractions without data points", `SELECT count(*) FROM extractions e WHERE e.status = 'ok'
			AND NOT EXISTS (SELECT 1 FROM data_points p WHERE p.extraction_id = e.id)`},
		{"runs of another kind", `SELECT count(*) FROM runs WHERE kind != 'watch'`},
		// Each killed watch's run is marked interrupted by the next start.
		{"killed runs not marked interrupted", `SELECT count(*) FROM runs WHERE status != 'interrupted' AND id != (SELECT max(id) FROM runs)`},
		{"last run not done", `SELECT count(*) FROM runs WHERE status != 'done' AND id = (SELECT max(id) FROM runs)`},
	} {
		if n := watchInt(t, db, c.q); n != 0 {
			t.Errorf("%d %s", n, c.what)
		}
	}
	failedNames := map[string]bool{}
	for _, name := range bad {
		failedNames[name] = true
	}
	for name := range quarantined {
		failedNames[name] = true
	}
	if n := watchInt(t, db, `SELECT count(DISTINCT source) FROM load_failures`); n != len(failedNames) {
		t.Errorf("%d distinct load failures, want %d (%d bad files, %d set aside)", n, len(failedNames), len(bad), len(quarantined))
	}
	t.Logf("%d kills; %d runs; %d documents; %d files filed; %d set aside after two kills", kills, watchInt(t, db, `SELECT count(*) FROM runs`),
		watchInt(t, db, `SELECT count(*) FROM documents`), len(filed), len(quarantined))
}

// watchQuarantineNote is what the note of a file set aside as a poison
// file says.
const watchQuarantineNote = "thesisdb stopped twice while processing this file (crash or kill); it was set aside so the inbox can go on"

// watchQuarantined returns the files under a failed folder (relative,
// slash-separated) whose note says they were set aside after two deaths.
func watchQuarantined(t *testing.T, failed string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	filepath.WalkDir(failed, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".error.txt") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
		}
		if strings.Contains(string(b), watchQuarantineNote) {
			rel, _ := filepath.Rel(failed, strings.TrimSuffix(p, ".error.txt"))
			out[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	return out
}

// TestWatchSetsAsidePoisonFile kills watch (SIGKILL) twice while it
// processes one file, as a parser that runs out of memory would: the
// first restart retries the file, alone; after the second death the file
// goes to failed/ with a note and the watch carries on with the rest. The
// LLM server holds the file's request, so the kills land provably while
// the file is in flight.
func TestWatchSetsAsidePoisonFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and kills it")
	}
	bin := watchBuild(t)
	var mu sync.Mutex
	poisonCalls, bystanderFixed, poisonFixed := 0, false, false
	seen := make(chan string, 16)
	srv := llmtest.New(t)
	srv.Otherwise(func(r llmtest.Request) llmtest.Response {
		mu.Lock()
		defer mu.Unlock()
		hold := llmtest.Response{Delay: time.Hour} // until the client goes away
		switch {
		case r.Contains("POISON-7f3a") && !poisonFixed:
			if poisonCalls++; poisonCalls > 2 { // a third attempt: fail it rather than hang the test
				return llmtest.Error(400, "invalid_request_error", "", "sent a third time")
			}
			seen <- "poison"
			return hold
		case r.Contains("BYSTANDER-19c2") && !bystanderFixed:
			seen <- "bystander"
			return hold
		}
		return llmtest.Response{Content: answer}
	})
	root := t.TempDir()
	in, db, logPath := filepath.Join(root, "in"), filepath.Join(root, "t.sqlite"), filepath.Join(root, "watch.log")
	watchDrop(t, in, map[string]string{
		"a-bystander.md": "In flight beside the poison file at the first kill. BYSTANDER-19c2\n" + watchNote,
		"b-poison.md":    "Kills thesisdb whenever it is processed. POISON-7f3a\n" + watchNote,
		"c-good.md":      strings.Replace(watchNote, "3.4%", "3.2%", 1),
		"d-good.md":      strings.Replace(watchNote, "3.4%", "3.3%", 1),
	})
	start := func(args ...string) *exec.Cmd {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := exec.Command(bin, append([]string{"--db", db, "watch", "--settle", "20ms", "--concurrency", "2"}, append(args, in)...)...)
		cmd.Env = append(os.Environ(), "OPENAI_API_KEY=sk-test", "OPENAI_BASE_URL="+srv.BaseURL())
		cmd.Stderr = f
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	wait := func(what string) {
		t.Helper()
		select {
		case got := <-seen:
			if got != what {
				t.Fatalf("the server saw %s, want %s", got, what)
			}
		case <-time.After(60 * time.Second): // a hang guard, not a speed requirement
			log, _ := os.ReadFile(logPath)
			t.Fatalf("no request for %s:\n%s", what, log)
		}
	}
	kill := func(cmd *exec.Cmd) {
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
	}
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(in, filepath.FromSlash(rel)))
		return err == nil
	}

	// First death: the poison file and its neighbour are in flight.
	cmd := start()
	got := []string{<-seen, <-seen}
	sort.Strings(got)
	if fmt.Sprint(got) != "[bystander poison]" {
		t.Fatalf("in flight: %v", got)
	}
	kill(cmd)
	if !exists(".processing/a-bystander.md") || !exists(".processing/b-poison.md") {
		t.Fatalf("after the first kill: %v", watchNames(t, in))
	}
	mu.Lock()
	bystanderFixed = true
	mu.Unlock()

	// Second death: each file that was in flight is retried alone, the
	// neighbour first (it is stored), then the poison file.
	cmd = start()
	wait("poison")
	if !exists("done/a-bystander.md") || !exists("c-good.md") || !exists("d-good.md") {
		t.Errorf("while retrying the poison file: %v; want the neighbour done and nothing else started", watchNames(t, in))
	}
	kill(cmd)

	// Third start: the poison file is set aside, unprocessed; the rest is
	// ingested.
	cmd = start("--once")
	err := cmd.Wait()
	log, _ := os.ReadFile(logPath)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("third start: %v, want exit status 1 (a file failed):\n%s", err, log)
	}
	mu.Lock()
	if poisonCalls != 2 {
		t.Errorf("the poison file was sent %d times, want 2", poisonCalls)
	}
	mu.Unlock()
	for _, rel := range []string{"done/a-bystander.md", "done/c-good.md", "done/d-good.md", "failed/b-poison.md", "failed/b-poison.md.error.txt"} {
		if !exists(rel) {
			t.Errorf("%s missing: %v", rel, watchNames(t, in))
		}
	}
	if left := watchFiled(t, filepath.Join(in, ".processing")); len(left) != 0 {
		t.Errorf("%d files left in .processing", len(left))
	}
	note, _ := os.ReadFile(filepath.Join(in, "failed", "b-poison.md.error.txt"))
	if !strings.Contains(string(note), watchQuarantineNote) || !strings.Contains(string(note), "Move it back into the inbox") {
		t.Errorf("note:\n%s", note)
	}
	if !strings.Contains(string(log), "failed     "+filepath.Join(in, "b-poison.md")) || !strings.Contains(string(log), watchQuarantineNote) {
		t.Errorf("no status line for the file set aside:\n%s", log)
	}
	if got := fmt.Sprint(watchRows(t, db, `SELECT count(*), min(error) FROM load_failures`)); got != "[[1 "+watchQuarantineNote+"]]" {
		t.Errorf("load failures %s", got)
	}
	if n := watchInt(t, db, `SELECT count(*) FROM documents`); n != 3 {
		t.Errorf("%d documents, want 3", n)
	}

	// Moved back into the inbox (say, once the parser is fixed), it starts
	// with a clean count and is ingested.
	mu.Lock()
	poisonFixed = true
	mu.Unlock()
	if err := os.Rename(filepath.Join(in, "failed", "b-poison.md"), filepath.Join(in, "b-poison.md")); err != nil {
		t.Fatal(err)
	}
	if err := start("--once").Wait(); err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("after moving it back: %v\n%s", err, log)
	}
	if !exists("done/b-poison.md") {
		t.Errorf("moved back, not stored: %v", watchNames(t, in))
	}
}

// watchNames lists the files under an inbox, for failure messages.
func watchNames(t *testing.T, in string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(in, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(in, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

// watchCPU returns a process's user+system CPU time in clock ticks.
func watchCPU(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name, which ends with the last ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// watchProcStatus returns a field of /proc/PID/status, e.g. "VmHWM".
func watchProcStatus(t *testing.T, pid int, field string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestWatchLoad drops 2,000 small files at once into a running watch with
// the rules extractor, logs throughput and peak memory, then checks that
// the idle watcher uses next to no CPU and stops with status 0 on SIGTERM.
func TestWatchLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	const n = 2000
	bin := watchBuild(t)
	root := t.TempDir()
	in, stage, db := filepath.Join(root, "in"), filepath.Join(root, "stage"), filepath.Join(root, "t.sqlite")
	os.MkdirAll(in, 0o755)
	os.MkdirAll(stage, 0o755)
	for i := range n {
		content := fmt.Sprintf("Note %d on regional banks\nWe are bullish over 12 months.\nNet interest margin rose to %d.%d%% in the quarter.\nLoan growth was %d%%.\n",
			i, 2+i%3, i%10, i%7+1)
		if err := os.WriteFile(filepath.Join(stage, fmt.Sprintf("note%04d.md", i)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const settle = 200 * time.Millisecond
	cmd := watchChild(t, bin, filepath.Join(root, "watch.log"), "--db", db, "watch", "--settle", settle.String(), "--concurrency", "4", in)
	defer cmd.Process.Kill()
	watchWaitFor(t, "the watch run", func() bool {
		r, err := store.OpenReader(db)
		if err != nil {
			return false
		}
		defer r.Close()
		res, err := r.Query(context.Background(), `SELECT count(*) FROM runs`, 0)
		return err == nil && res.Rows[0][0] == int64(1) // migrated, run recorded
	})
	time.Sleep(300 * time.Millisecond) // the initial scan of the empty inbox
	cpu0 := watchCPU(t, cmd.Process.Pid)
	base := watchProcStatus(t, cmd.Process.Pid, "VmHWM")

	// Another process writes to the same database meanwhile, and readers
	// query it: no "database is locked".
	ingest := exec.Command(bin, "--db", db, "ingest", "../../samples")
	ingest.Env = append(os.Environ(), "OPENAI_API_KEY=", "OPENAI_BASE_URL=")
	var ingestOut bytes.Buffer
	ingest.Stderr = &ingestOut

	start := time.Now()
	if err := ingest.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("note%04d.md", i)
		if err := os.Rename(filepath.Join(stage, name), filepath.Join(in, name)); err != nil {
			t.Fatal(err)
		}
	}
	done := filepath.Join(in, "done")
	queries := 0
	watchWaitFor(t, "every file filed", func() bool {
		watchInt(t, db, `SELECT count(*) FROM current_data_points`)
		queries++
		es, _ := os.ReadDir(done)
		return len(es) == n
	})
	elapsed := time.Since(start)
	if err := ingest.Wait(); err != nil {
		t.Errorf("ingest alongside watch: %v\n%s", err, ingestOut.String())
	}
	if strings.Contains(ingestOut.String(), "locked") {
		t.Errorf("ingest alongside watch:\n%s", ingestOut.String())
	}
	t.Logf("%d read-only queries and one ingest of samples/ ran alongside", queries)
	cpuBusy := watchCPU(t, cmd.Process.Pid) - cpu0
	hwm := watchProcStatus(t, cmd.Process.Pid, "VmHWM")
	t.Logf("%d files in %.2fs: %.0f files/s (including the %s settling time: %.0f files/s without it); watcher CPU %.2fs; peak RSS (VmHWM) %s, %s before the files",
		n, elapsed.Seconds(), n/elapsed.Seconds(), settle, n/(elapsed-settle).Seconds(), float64(cpuBusy)/100, hwm, base)

	// Idle: a few seconds without files.
	const idle = 3 * time.Second
	c0 := watchCPU(t, cmd.Process.Pid)
	time.Sleep(idle)
	ticks := watchCPU(t, cmd.Process.Pid) - c0
	frac := float64(ticks) / 100 / idle.Seconds() // USER_HZ is 100 on Linux
	t.Logf("idle: %d CPU ticks in %s = %.2f%% of one core", ticks, idle, 100*frac)
	if frac > 0.05 {
		t.Errorf("idle watcher used %.1f%% CPU, want under 5%% (busy polling?)", 100*frac)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("watch after SIGTERM: %v, want exit status 0", err)
	}
	if got := fmt.Sprint(watchRows(t, db, `SELECT status, documents_ok FROM runs WHERE kind = 'watch'`)); got != fmt.Sprintf("[[done %d]]", n) {
		t.Errorf("run: %s", got)
	}
}
