// Package benchdb builds the large synthetic databases the scale
// benchmarks share, so that every package's benchmarks measure the same
// data and reuse what an earlier run built.
//
// A database holds THESISDB_BENCH_POINTS current data points (default
// 100000, at least 50): synthetic notes of 50 data points each, ingested
// with the rules extractor and extracted again. It is kept in
// THESISDB_BENCH_DIR for the next run (default: a temporary folder, built
// again by every benchmark). At 1,000,000 points the shared database is
// 20,000 documents, 40,000 extractions and about 1.5 GB.
//
// It is for tests and benchmarks only.
package benchdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/rules"
	"github.com/thesisdb/thesisdb/internal/synth"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/store"
)

// PointsPerNote is the number of data points in each synthetic note.
const PointsPerNote = 50

// Points returns the current data points a benchmark database holds:
// THESISDB_BENCH_POINTS, else 100,000.
func Points(tb testing.TB) int {
	tb.Helper()
	if s := os.Getenv("THESISDB_BENCH_POINTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < PointsPerNote {
			tb.Fatalf("THESISDB_BENCH_POINTS=%q: want a number of data points, at least %d", s, PointsPerNote)
		}
		return n
	}
	return 100_000
}

// Dir returns the folder the benchmark databases are kept in:
// THESISDB_BENCH_DIR (created if need be), else a temporary folder.
func Dir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("THESISDB_BENCH_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatalf("THESISDB_BENCH_DIR: %v", err)
		}
		return d
	}
	return tb.TempDir()
}

// Large returns the path of the shared database with points current data
// points (thesisdb-POINTS.sqlite in Dir), built when it is not there; one
// built before is opened with store.Open, which applies newer migrations,
// and given to update, when not nil, before it is closed.
func Large(tb testing.TB, points int, update func(context.Context, *store.DB) error) string {
	tb.Helper()
	dir := Dir(tb)
	path := filepath.Join(dir, fmt.Sprintf("thesisdb-%d.sqlite", points))
	if _, err := os.Stat(path); err != nil {
		Build(tb, path, filepath.Join(dir, fmt.Sprintf("notes-%d", points)), points, rules.New())
		return path
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		tb.Fatalf("benchmark database: %v", err)
	}
	if update != nil {
		if err := update(ctx, db); err != nil {
			db.Close()
			tb.Fatalf("benchmark database %s: %v", path, err)
		}
	}
	if err := db.Close(); err != nil {
		tb.Fatalf("benchmark database %s: %v", path, err)
	}
	return path
}

// Build writes points/50 synthetic notes into the folder notes and builds
// a database of them at path: run 1 ingests them with the rules extractor
// (prompt version "bench"), then each extractor in again extracts every
// document once more (runs 2, 3, …, prompt versions "bench2", "bench3",
// …). It builds path+".building" and renames it when complete, so that a
// database interrupted halfway is never reused.
func Build(tb testing.TB, path, notes string, points int, again ...extract.Extractor) {
	tb.Helper()
	ctx := context.Background()
	start := time.Now()
	n := points / PointsPerNote
	paths, _, err := synth.WriteNotes(notes, 0, n, PointsPerNote)
	if err != nil {
		tb.Fatalf("benchmark notes: %v", err)
	}
	tmp := path + ".building"
	os.Remove(tmp)
	db, err := store.Open(ctx, tmp)
	if err != nil {
		tb.Fatalf("benchmark database: %v", err)
	}
	run := func(kind, prompt string, x extract.Extractor, items []pipeline.Item) {
		id, err := db.StartRun(ctx, store.RunSpec{Kind: kind, Extractor: x.Info().Extractor, PromptVersion: prompt})
		if err != nil {
			tb.Fatalf("building the benchmark database: %v", err)
		}
		p := &pipeline.Pipeline{Store: db, Extractor: x, Concurrency: 4, Force: true}
		if sum := p.Run(ctx, id, items, nil); sum.OK != len(items) {
			tb.Fatalf("building the benchmark database: %+v", sum)
		}
		if err := db.SetRunStatus(ctx, id, store.RunDone); err != nil {
			tb.Fatalf("building the benchmark database: %v", err)
		}
	}
	items := make([]pipeline.Item, n)
	for i, p := range paths {
		items[i] = pipeline.Item{Source: p}
	}
	run("ingest", "bench", rules.New(), items)
	for i := range items {
		items[i] = pipeline.Item{DocumentID: int64(i + 1)}
	}
	for i, x := range again {
		run("reextract", fmt.Sprintf("bench%d", i+2), x, items)
	}
	if err := db.Close(); err != nil {
		tb.Fatalf("building the benchmark database: %v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatalf("building the benchmark database: %v", err)
	}
	tb.Logf("built %s (%d notes, %d runs, %d current data points) in %s", path, n, 1+len(again), points, time.Since(start).Round(time.Second))
}
