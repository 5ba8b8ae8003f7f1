package worker

import (
	"bufio"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/pdfdoc"
	"github.com/thesisdb/thesisdb/schema"
)

// Defaults of a Pool's zero fields.
const (
	DefaultMemory = 1 << 30 // address space of one worker
)

// Cause says why a worker failed a document.
type Cause string

// The causes of an *Error.
const (
	Timeout Cause = "timeout" // passed its deadline and was killed
	Memory  Cause = "memory"  // ran out of its memory cap
	Crash   Cause = "crash"   // died any other way
)

// Error is a document that took its worker down.
type Error struct {
	Cause  Cause
	Parser string        // "PDF parser", "HTML parser", ...
	Limit  time.Duration // the deadline, for Timeout
	Memory int64         // the cap, for Memory
	Detail string        // the runtime's last words, or the exit status
}

func (e *Error) Error() string {
	switch e.Cause {
	case Timeout:
		return fmt.Sprintf("%s did not finish in %v (--doc-timeout): stopped", e.Parser, e.Limit)
	case Memory:
		return fmt.Sprintf("%s used more than %s of memory (--doc-memory): stopped", e.Parser, formatBytes(e.Memory))
	}
	return fmt.Sprintf("%s crashed: %s", e.Parser, e.Detail)
}

// Pool runs documents through worker processes. Its zero value is not
// usable; set Size and call Decode from any number of goroutines. Close
// stops the idle workers.
type Pool struct {
	// Size bounds the workers alive at once (default: the number of CPUs,
	// at most 4). Decode waits for a free one.
	Size int
	// Memory caps what each worker may add to its address space once
	// started, in bytes (default 1 GiB); the Go runtime of the worker aims
	// at 3/4 of it.
	Memory int64
	// Command is the program and arguments of a worker (default: this
	// executable). The program must import this package.
	Command []string

	once sync.Once
	slot chan struct{}
	mu   sync.Mutex
	idle []*proc
	done bool
}

// proc is one live worker.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	enc    *gob.Encoder
	dec    *gob.Decoder
	stderr *tail
	exited chan struct{} // closed once the process has been reaped
	err    error         // how it ended, valid after exited
	base   int64         // resident memory once ready: growth past it retires the worker
}

func (p *Pool) init() {
	p.once.Do(func() {
		n := p.Size
		if n <= 0 {
			n = min(runtime.NumCPU(), 4)
		}
		p.slot = make(chan struct{}, n)
	})
}

func (p *Pool) memory() int64 {
	if p.Memory > 0 {
		return p.Memory
	}
	return DefaultMemory
}

var _ extract.Sandbox = (*Pool)(nil)

// Decode decodes one document in a worker. A worker that passes the
// request's deadline (plus a grace of a tenth of it, from 100ms to 2s, for
// its own timeout error), runs out of memory or crashes is killed and
// reaped, and its document fails with an *Error; cancelling ctx kills the
// worker too.
func (p *Pool) Decode(ctx context.Context, q *extract.Request) (*schema.Document, error) {
	p.init()
	select {
	case p.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.slot }()
	w, err := p.get()
	if err != nil {
		return nil, err
	}
	limit := q.Timeout
	if limit <= 0 {
		limit = time.Minute
	}
	resp, err := w.do(ctx, q, limit+min(max(limit/10, 100*time.Millisecond), 2*time.Second))
	if err == nil {
		if resp.Retire || w.rss()-w.base > p.memory()/4 {
			w.kill()
		} else {
			p.put(w)
		}
		derr := resp.err()
		if errors.Is(derr, context.DeadlineExceeded) || errors.Is(derr, pdfdoc.ErrTimeout) {
			// The worker's own clock stopped the parse within the
			// grace: the same cause as a kill, so the same message.
			return nil, &Error{Cause: Timeout, Parser: extract.Parser(q.Kind), Limit: limit}
		}
		return resp.Doc, derr
	}
	// The worker is gone or must go: say why.
	w.kill()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	parser := extract.Parser(q.Kind)
	if errors.Is(err, errDeadline) {
		return nil, &Error{Cause: Timeout, Parser: parser, Limit: limit}
	}
	last := w.stderr.String()
	if oom(last) {
		return nil, &Error{Cause: Memory, Parser: parser, Memory: p.memory(), Detail: lastWords(last)}
	}
	detail := lastWords(last)
	if detail == "" {
		detail = "it exited without answering"
		if w.err != nil {
			detail = w.err.Error()
		}
	}
	return nil, &Error{Cause: Crash, Parser: parser, Detail: detail}
}

// Close stops the idle workers and waits for them; workers busy with a
// document stop when it is done. Decode must not be called after Close.
func (p *Pool) Close() error {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.done = nil, true
	p.mu.Unlock()
	for _, w := range idle {
		w.stop()
	}
	return nil
}

func (p *Pool) get() (*proc, error) {
	p.mu.Lock()
	for len(p.idle) > 0 {
		w := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		select {
		case <-w.exited: // died while idle
			continue
		default:
		}
		p.mu.Unlock()
		return w, nil
	}
	p.mu.Unlock()
	return p.start()
}

func (p *Pool) put(w *proc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		go w.stop()
		return
	}
	p.idle = append(p.idle, w)
}

// start launches a worker.
func (p *Pool) start() (*proc, error) {
	argv := p.Command
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("start document worker: %w", err)
		}
		argv = []string{exe}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), envWorker+"="+strconv.FormatInt(p.memory()/4*3, 10), "MALLOC_ARENA_MAX=2", "GOTRACEBACK=none")
	if _, ok := os.LookupEnv("GOGC"); !ok {
		// The worker's collector setting (see init), from its first
		// allocation: its packages' initialisation alone otherwise runs
		// the collector several times.
		cmd.Env = append(cmd.Env, "GOGC="+strconv.Itoa(workerGOGC))
	}
	setProcAttr(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start document worker: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start document worker: %w", err)
	}
	w := &proc{cmd: cmd, stdin: stdin, stderr: &tail{max: 4096}, exited: make(chan struct{})}
	cmd.Stderr = w.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start document worker %s: %w", argv[0], err)
	}
	go func() {
		// Wait closes stdout and collects stderr: it returns once the
		// process has exited, which kill guarantees.
		w.err = cmd.Wait()
		close(w.exited)
	}()
	// The worker says it is ready once its runtime and packages are
	// initialised; only then is its address space known, and the cap is
	// set that far above it (a Go process reserves a gigabyte or more of
	// address space it never touches, so an absolute cap would be
	// meaningless).
	br := bufio.NewReader(stdout)
	ready := make(chan error, 1)
	go func() {
		b, err := br.ReadByte()
		if err == nil && b != readyByte {
			err = fmt.Errorf("it said %q instead of being ready", b)
		}
		ready <- err
	}()
	select {
	case err = <-ready:
	case <-time.After(startTimeout):
		w.kill()
		<-ready
		err = fmt.Errorf("not ready after %v", startTimeout)
	}
	if err == nil {
		err = limitMemory(cmd.Process.Pid, p.memory())
	}
	if err != nil {
		w.kill()
		if last := lastWords(w.stderr.String()); last != "" {
			err = fmt.Errorf("%w: %s", err, last)
		}
		return nil, fmt.Errorf("start document worker %s: %w", argv[0], err)
	}
	w.enc = gob.NewEncoder(stdin)
	w.dec = gob.NewDecoder(br)
	w.base = w.rss()
	return w, nil
}

// readyByte is what a worker writes first, once it can take requests.
const readyByte = '\n'

// startTimeout bounds a worker's start-up.
const startTimeout = 30 * time.Second

var errDeadline = errors.New("deadline passed")

// do sends one request and waits for its answer, the deadline or ctx.
func (w *proc) do(ctx context.Context, q *extract.Request, limit time.Duration) (*response, error) {
	type result struct {
		resp *response
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		// This goroutine ends when the answer arrives or the worker's
		// stdout closes, which killing the worker makes certain.
		if err := w.enc.Encode(q); err != nil {
			ch <- result{err: fmt.Errorf("send document: %w", err)}
			return
		}
		var r response
		if err := w.dec.Decode(&r); err != nil {
			ch <- result{err: fmt.Errorf("read answer: %w", err)}
			return
		}
		ch <- result{resp: &r}
	}()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			// The worker died: wait until it is reaped so that its
			// exit status and last words are known.
			w.kill()
		}
		return r.resp, r.err
	case <-t.C:
		w.kill()
		<-ch
		return nil, errDeadline
	case <-ctx.Done():
		w.kill()
		<-ch
		return nil, ctx.Err()
	}
}

// kill ends the worker at once, with whatever it started, and reaps it.
func (w *proc) kill() {
	killGroup(w.cmd.Process)
	<-w.exited
}

// stop asks an idle worker to finish (end of input), killing it if it does
// not within a second.
func (w *proc) stop() {
	w.stdin.Close()
	select {
	case <-w.exited:
	case <-time.After(time.Second):
		w.kill()
	}
}

// rss returns the worker's resident memory in bytes, or 0 if unknown.
func (w *proc) rss() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(w.cmd.Process.Pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// oom reports whether a worker's last words say it ran out of memory:
// under an address-space cap the Go runtime dies in several ways ("out of
// memory", "failed to reserve page summary memory", mmap errno 12).
func oom(s string) bool {
	for _, m := range []string{"out of memory", "cannot allocate memory", "failed to reserve", "errno=12"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// lastWords picks the line of a dying Go runtime's output that says why:
// "fatal error: …" or "panic: …", else the last line.
func lastWords(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "runtime:") {
			return l
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// formatBytes writes n as "1 GiB", "512 MiB" or bytes.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// tail keeps the first and the last max bytes written to it: a dying
// runtime says why first, then may print stacks.
type tail struct {
	mu         sync.Mutex
	max        int
	head, rest []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if room := t.max - len(t.head); room > 0 {
		k := min(room, len(p))
		t.head = append(t.head, p[:k]...)
		p = p[k:]
	}
	t.rest = append(t.rest, p...)
	if len(t.rest) > t.max {
		t.rest = append(t.rest[:0], t.rest[len(t.rest)-t.max:]...)
	}
	return n, nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.head) + string(t.rest)
}
