//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
)

// BenchmarkFilingsText reads every PDF of the filings corpus end to end
// as a user (or the corpus' score.py) does: one `thesisdb text
// --pdf-engine builtin FILE` process per file, with the worker process it
// parses in, against one `pdftotext -raw FILE -` per file (skipped when
// poppler is not installed). Besides the wall time it reports cpu-sec/op,
// the CPU time of the processes started and of their workers, steadier on
// a shared machine. Compare them in one run:
//
//	go test -run '^$' -bench '^BenchmarkFilingsText$' -count 6 ./cmd/thesisdb | benchstat -col /engine -
func BenchmarkFilingsText(b *testing.B) {
	paths, _ := filepath.Glob("../../../shared/corpora/filings/*.pdf")
	if len(paths) == 0 {
		b.Skip("filings corpus not present")
	}
	sort.Strings(paths)
	var size int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	each := func(b *testing.B, argv func(path string) []string) {
		b.SetBytes(size)
		start, n := childCPU(), 0
		for b.Loop() {
			for _, p := range paths {
				a := argv(p)
				out, err := exec.Command(a[0], a[1:]...).Output()
				if err != nil || len(out) == 0 {
					b.Fatalf("%s: %v (%d bytes out)", filepath.Base(p), err, len(out))
				}
			}
			n++
		}
		b.ReportMetric((childCPU()-start)/float64(n), "cpu-sec/op")
	}
	bin := startupBuild(b)
	b.Run("engine=thesisdb-builtin", func(b *testing.B) {
		each(b, func(p string) []string { return []string{bin, "text", "--pdf-engine", "builtin", p} })
	})
	b.Run("engine=pdftotext-raw", func(b *testing.B) {
		poppler, err := exec.LookPath("pdftotext")
		if err != nil {
			b.Skip("pdftotext not installed")
		}
		each(b, func(p string) []string { return []string{poppler, "-raw", p, "-"} })
	})
}

// childCPU is the CPU time, in seconds, of this process's finished
// children and of the children they waited for (a thesisdb process reaps
// its workers before it exits).
func childCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
