package worker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
)

// corpora are the shared corpora, relative to this package's directory.
var corpora = []struct{ kind, glob string }{
	{"html", "../../../shared/corpora/html/pages/*.html"},
	{"pdf", "../../../shared/corpora/pdf/*.pdf"},
}

// corpus reads every file matching glob as the pipeline does (extract.Read)
// and returns the requests and their total size; it skips b when the
// corpus is absent.
func corpus(b *testing.B, glob string) ([]*extract.Request, int64) {
	b.Helper()
	names, err := filepath.Glob(glob)
	if err != nil {
		b.Fatal(err)
	}
	if len(names) == 0 {
		b.Skipf("no corpus at %s", glob)
	}
	var (
		qs    []*extract.Request
		total int64
	)
	for _, name := range names {
		raw, err := extract.Read(context.Background(), name, &extract.Options{})
		if err != nil {
			b.Fatal(err)
		}
		qs = append(qs, raw.Request())
		total += int64(len(raw.Data))
	}
	return qs, total
}

// decodeFunc decodes one request, in this process or in a worker.
type decodeFunc func(context.Context, *extract.Request) (*schema.Document, error)

func inProcess(ctx context.Context, q *extract.Request) (*schema.Document, error) {
	return q.Decode(ctx)
}

// decodeAll decodes every request once, fanning them out over conc
// goroutines; errors are part of the work and are not reported.
func decodeAll(qs []*extract.Request, conc int, decode decodeFunc) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(qs) {
					return
				}
				decode(context.Background(), qs[i])
			}
		}()
	}
	wg.Wait()
}

// sameOutcome fails b unless a worker decodes every request as this
// process does: the same text, or an error with the same message matching
// the same sentinels (the corpora hold encrypted and truncated files).
func sameOutcome(b *testing.B, qs []*extract.Request, p *Pool) {
	b.Helper()
	for _, q := range qs {
		want, werr := q.Decode(context.Background())
		got, gerr := p.Decode(context.Background(), q)
		if (werr == nil) != (gerr == nil) {
			b.Fatalf("%s: in process err = %v, in a worker err = %v", q.Source, werr, gerr)
		}
		if werr != nil {
			if werr.Error() != gerr.Error() {
				b.Fatalf("%s: in process err = %q, in a worker %q", q.Source, werr, gerr)
			}
			for name, s := range sentinels {
				if errors.Is(werr, s) != errors.Is(gerr, s) {
					b.Fatalf("%s: in process err %q matches %s: %v, in a worker: %v", q.Source, werr, name, errors.Is(werr, s), errors.Is(gerr, s))
				}
			}
			continue
		}
		if got.Text != want.Text || got.Title != want.Title || got.SHA256 != want.SHA256 {
			b.Fatalf("%s: a worker decoded text %d bytes, title %q; in process %d bytes, title %q", q.Source, len(got.Text), got.Title, len(want.Text), want.Title)
		}
	}
}

// cpuTime returns the CPU time (user and system) used so far by this
// process, its reaped children and the idle workers of p (nil for none),
// or false where /proc is not there to say. Wall time on a busy machine
// swings with the load of others; CPU time much less.
func cpuTime(p *Pool) (time.Duration, bool) {
	self, ok := procCPU("self", true)
	if !ok {
		return 0, false
	}
	if p != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, w := range p.idle {
			t, _ := procCPU(strconv.Itoa(w.cmd.Process.Pid), false)
			self += t
		}
	}
	return self, true
}

// procCPU reads utime+stime (and cutime+cstime, the reaped children's,
// if children) of /proc/<pid>/stat.
func procCPU(pid string, children bool) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which ends at the last ')': the
	// state is field 3, utime 14, stime 15, cutime 16, cstime 17.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 15 {
		return 0, false
	}
	last := 13
	if children {
		last = 15
	}
	var ticks int64
	for _, v := range f[11:last] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100, true // USER_HZ
}

// measure runs the benchmark loop and reports, beside the wall time, the
// CPU time per iteration of this process and p's workers (cpu-sec/op).
func measure(b *testing.B, p *Pool, body func()) {
	b.ResetTimer()
	start, ok := cpuTime(p)
	n := 0
	for b.Loop() {
		body()
		n++
	}
	b.StopTimer()
	if end, ok2 := cpuTime(p); ok && ok2 && n > 0 {
		b.ReportMetric((end-start).Seconds()/float64(n), "cpu-sec/op")
	}
}

// BenchmarkCorpus measures what containment costs: each iteration decodes
// every file of a shared corpus once, in this process (mode=inprocess) or
// through a Pool of as many workers as decoding goroutines (mode=worker),
// sequentially (conc=1) and over GOMAXPROCS goroutines. Compare the modes
// with `benchstat -col /mode`. Besides wall time it reports cpu-sec/op,
// the CPU time of this process and its workers, steadier on a shared
// machine. Allocations are not reported: the workers' are not counted.
func BenchmarkCorpus(b *testing.B) {
	for _, c := range corpora {
		b.Run("kind="+c.kind, func(b *testing.B) {
			qs, total := corpus(b, c.glob)
			var checked sync.Once
			for _, conc := range []int{1, runtime.GOMAXPROCS(0)} {
				b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
					b.Run("mode=inprocess", func(b *testing.B) {
						decodeAll(qs, conc, inProcess) // warm up, as the worker mode does
						b.SetBytes(total)
						measure(b, nil, func() { decodeAll(qs, conc, inProcess) })
					})
					b.Run("mode=worker", func(b *testing.B) {
						p := &Pool{Size: conc}
						defer p.Close()
						checked.Do(func() { sameOutcome(b, qs, p) })
						decodeAll(qs, conc, p.Decode) // starts the workers
						b.SetBytes(total)
						measure(b, p, func() { decodeAll(qs, conc, p.Decode) })
					})
				})
			}
		})
	}
}
