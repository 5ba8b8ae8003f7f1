package pdfdoc

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkFilings reads the whole filings corpus per iteration with the
// built-in engine and with poppler's `pdftotext -raw`, one process per
// file, its start included, as a user of pdftotext would pay. Compare them
// in one run:
//
//	go test -run '^$' -bench Filings -count 6 ./extract/pdfdoc | benchstat -col /engine -
func BenchmarkFilings(b *testing.B) {
	files := filings(b)
	var size int64
	for _, f := range files {
		size += int64(len(f.Data))
	}
	b.Run("engine=builtin", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			for _, f := range files {
				if _, err := Extract(context.Background(), f.Data, &Options{Timeout: 5 * time.Minute}); err != nil {
					b.Fatalf("%s: %v", f.Name, err)
				}
			}
		}
	})
	b.Run("engine=pdftotext-raw", func(b *testing.B) {
		bin, err := exec.LookPath("pdftotext")
		if err != nil {
			b.Skip("pdftotext not installed")
		}
		b.SetBytes(size)
		for b.Loop() {
			for _, f := range files {
				cmd := exec.Command(bin, "-raw", filepath.Join(filingsDir, f.Name), "-")
				if out, err := cmd.Output(); err != nil || len(out) == 0 {
					b.Fatalf("%s: pdftotext: %v", f.Name, err)
				}
			}
		}
	})
}
