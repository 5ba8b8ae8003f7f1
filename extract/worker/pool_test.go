package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/pdfdoc"
)

// request returns a decoding request as Read would make it for a file.
func request(t testing.TB, kind, text string) *extract.Request {
	t.Helper()
	name := filepath.Join(t.TempDir(), "doc."+map[string]string{"text": "txt", "html": "html", "pdf": "pdf", "markdown": "md"}[kind])
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := extract.Read(context.Background(), name, &extract.Options{Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return raw.Request()
}

func newPool(t testing.TB, p *Pool) *Pool {
	t.Helper()
	t.Cleanup(func() { p.Close() })
	return p
}

func TestDecodeMatchesInProcess(t *testing.T) {
	p := newPool(t, &Pool{Size: 2})
	for _, tc := range []struct{ kind, text string }{
		{"text", "Rates Research\n\nBullish. Spreads at 284 bps.\n"},
		{"markdown", "---\ntitle: Japan\nauthor: A. Analyst\n---\n# Japan\n\nThe yen at 150 is cheap.\n"},
		{"html", "<html><head><title>Semis</title></head><body><article><h1>Semis</h1><p>Margins rose to 60% according to the company, a level last seen in 2021 when demand peaked across the board.</p></article></body></html>"},
	} {
		q := request(t, tc.kind, tc.text)
		want, err := q.Decode(context.Background())
		if err != nil {
			t.Fatalf("%s in process: %v", tc.kind, err)
		}
		got, err := p.Decode(context.Background(), q)
		if err != nil {
			t.Fatalf("%s in a worker: %v", tc.kind, err)
		}
		if got.Text != want.Text || got.Title != want.Title || got.Author != want.Author || got.SHA256 != want.SHA256 || got.Kind != want.Kind {
			t.Errorf("%s: worker decoded %+v, in process %+v", tc.kind, got, want)
		}
	}
}

func TestErrorsKeepTheirSentinels(t *testing.T) {
	p := newPool(t, &Pool{Size: 1})
	q := request(t, "text", "\x00\x01\x02\x03binary\x00\x00\x00\xff\xfe")
	_, err := p.Decode(context.Background(), q)
	if !errors.Is(err, extract.ErrBinary) {
		t.Fatalf("binary text: err = %v, want one matching extract.ErrBinary", err)
	}
	q = request(t, "pdf", "PK\x03\x04 this is a zip file, not a PDF at all")
	_, err = p.Decode(context.Background(), q)
	if !errors.Is(err, pdfdoc.ErrNotPDF) || !errors.Is(err, extract.ErrBinary) {
		t.Fatalf("zip as pdf: err = %v, want pdfdoc.ErrNotPDF and extract.ErrBinary", err)
	}
	// The worker survives errors: the same one answers again.
	if _, err := p.Decode(context.Background(), request(t, "text", "fine")); err != nil {
		t.Fatal(err)
	}
}

// fake returns a pool whose workers are a shell script: real processes
// that say they are ready, then misbehave in a chosen way.
func fake(t *testing.T, script string) *Pool {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	return newPool(t, &Pool{Size: 1, Command: []string{"sh", "-c", "printf '\\n'; " + script}})
}

func TestWorkerPastItsDeadlineIsKilled(t *testing.T) {
	// The worker, and a child it started, never answer.
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := fake(t, "sleep 1000 & echo $! > "+pidFile+"; wait")
	q := request(t, "pdf", "%PDF-1.4")
	q.Timeout = 10 * time.Millisecond
	start := time.Now()
	_, err := p.Decode(context.Background(), q)
	var we *Error
	if !errors.As(err, &we) || we.Cause != Timeout {
		t.Fatalf("err = %v, want a Timeout *Error", err)
	}
	if want := "PDF parser did not finish in 10ms"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not say %q", err, want)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("killed after %v, before the grace the worker gets for its own error", d)
	}
	// The grandchild went with it (its process group was killed).
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	waitGone(t, pid)
}

// waitGone fails unless process pid is gone (or a zombie) soon.
func waitGone(t *testing.T, pid string) {
	t.Helper()
	for range 100 {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("process %s still runs after its worker was killed", pid)
}

func TestWorkerThatCannotStart(t *testing.T) {
	for _, script := range []string{"exit 3", "echo hello"} {
		p := newPool(t, &Pool{Size: 1, Command: []string{"sh", "-c", script}})
		_, err := p.Decode(context.Background(), request(t, "text", "x"))
		if err == nil || !strings.Contains(err.Error(), "start document worker") {
			t.Errorf("%s: err = %v, want a start error", script, err)
		}
	}
}

func TestWorkerThatDiesNamesTheCause(t *testing.T) {
	for _, tc := range []struct {
		script string
		cause  Cause
		want   string
	}{
		{`head -c 1 >/dev/null; printf 'runtime: out of memory: cannot allocate 800000000000-byte block (3964928 in use)\nfatal error: out of memory\n' >&2; exit 2`,
			Memory, "PDF parser used more than 1 GiB of memory"},
		{`head -c 1 >/dev/null; echo 'fatal error: unexpected signal during runtime execution' >&2; exit 2`,
			Crash, "PDF parser crashed: fatal error: unexpected signal during runtime execution"},
		{`head -c 1 >/dev/null; kill -SEGV $$`, Crash, "PDF parser crashed: signal: segmentation fault"},
		{`head -c 1 >/dev/null; exit 0`, Crash, "PDF parser crashed: it exited without answering"},
	} {
		p := fake(t, tc.script)
		_, err := p.Decode(context.Background(), request(t, "pdf", "%PDF-1.4"))
		var we *Error
		if !errors.As(err, &we) || we.Cause != tc.cause {
			t.Errorf("%s: err = %v, want a %s *Error", tc.script, err, tc.cause)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: message %q does not say %q", tc.script, err, tc.want)
		}
	}
}

func TestCancelKillsTheWorker(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := fake(t, "echo $$ > "+pidFile+"; sleep 1000")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if _, err := os.Stat(pidFile); err == nil {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err := p.Decode(ctx, request(t, "html", "<p>x</p>"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	b, _ := os.ReadFile(pidFile)
	waitGone(t, strings.TrimSpace(string(b)))
}

// TestMemoryCapHoldsARealParser gives a worker a cap its HTML parser must
// pass on a large page: the runtime's allocation fails inside the child,
// the child dies, the document fails naming the cap, and the next
// document gets a fresh worker.
func TestMemoryCapHoldsARealParser(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the memory cap is Linux's RLIMIT_AS")
	}
	p := newPool(t, &Pool{Size: 1, Memory: 300 << 20})
	var b strings.Builder
	b.WriteString("<html><body><article>")
	for i := 0; b.Len() < 40<<20; i++ {
		fmt.Fprintf(&b, "<div class=c%d><p>Paragraph %d says spreads are <b>%d bps</b> wide.</p></div>\n", i%7, i, i%500)
	}
	b.WriteString("</article></body></html>")
	_, err := p.Decode(context.Background(), request(t, "html", b.String()))
	var we *Error
	if !errors.As(err, &we) || we.Cause != Memory {
		t.Fatalf("err = %v, want a Memory *Error", err)
	}
	if want := "HTML parser used more than 300 MiB of memory"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not say %q", err, want)
	}
	if _, err := p.Decode(context.Background(), request(t, "text", "after the crash")); err != nil {
		t.Fatalf("the next document: %v", err)
	}
}

func TestConcurrentDecodesShareBoundedWorkers(t *testing.T) {
	p := newPool(t, &Pool{Size: 2})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			text := fmt.Sprintf("Note %d: margins at %d%%.", i, i)
			doc, err := p.Decode(context.Background(), request(t, "text", text))
			if err == nil && doc.Text != text {
				err = fmt.Errorf("document %d came back as %q", i, doc.Text)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	p.mu.Lock()
	n := len(p.idle)
	p.mu.Unlock()
	if n > 2 {
		t.Errorf("%d idle workers for a pool of 2", n)
	}
}

// TestSmallCapKeepsWorkersWarm decodes with the smallest cap the command
// accepts: a worker that grew by little is kept for the next document,
// however large its resident memory was at start (the binary's own pages
// and runtime count there too).
func TestSmallCapKeepsWorkersWarm(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("resident memory is read from /proc")
	}
	p := newPool(t, &Pool{Size: 1, Memory: 64 << 20})
	for i := range 3 {
		if _, err := p.Decode(context.Background(), request(t, "text", fmt.Sprintf("note %d", i))); err != nil {
			t.Fatal(err)
		}
		p.mu.Lock()
		n := len(p.idle)
		p.mu.Unlock()
		if n != 1 {
			t.Fatalf("after document %d: %d idle workers, want the one kept warm", i, n)
		}
	}
}

// TestWorkerDeadlineIsOneMessage gives a page no time at all: whether the
// worker's own clock stops the parse (it answers with a deadline error)
// or the parent kills it past the grace, the document fails with the
// same Timeout *Error.
func TestWorkerDeadlineIsOneMessage(t *testing.T) {
	p := newPool(t, &Pool{Size: 1})
	q := request(t, "html", "<html><body><p>Spreads at 284 bps.</p></body></html>")
	q.Timeout = time.Nanosecond
	_, err := p.Decode(context.Background(), q)
	var we *Error
	if !errors.As(err, &we) || we.Cause != Timeout {
		t.Fatalf("err = %v, want a Timeout *Error", err)
	}
	if want := "HTML parser did not finish in 1ns"; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not say %q", err, want)
	}
}
