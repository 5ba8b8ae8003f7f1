package compare_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/thesisdb/thesisdb/compare"
	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/rules"
	"github.com/thesisdb/thesisdb/internal/benchdb"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// Benchmarks of the run-to-run diff at scale. The database holds
// THESISDB_BENCH_POINTS data points per run (default 100000) in synthetic
// notes of 50, extracted three times: run 1, run 2 by the same rules (every
// extraction the same) and run 3 by the rules with changes a new prompt
// could make (values rewritten, data points dropped and added, stances and
// scores moved in some documents), built by benchdb.Build. It is kept in
// THESISDB_BENCH_DIR (default: a temporary folder, built again by every
// run). At 1,000,000 points that is 20,000 documents and 60,000
// extractions:
//
//	THESISDB_BENCH_DIR=/somewhere THESISDB_BENCH_POINTS=1000000 go test -run '^$' -bench DiffRuns ./compare/

// diffDB returns the path of a database with the three runs, building it
// when it is not there.
func diffDB(tb testing.TB, dir string, points int) string {
	path := filepath.Join(dir, fmt.Sprintf("thesisdb-diff-%d.sqlite", points))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	benchdb.Build(tb, path, filepath.Join(dir, fmt.Sprintf("diff-notes-%d", points)), points, rules.New(), revising{rules.New()})
	return path
}

// revising is the rules extractor with what a new prompt might change,
// deterministic in each document's source: in about half the documents a
// few values rewritten, a data point dropped and one added; in a third the
// first thesis's stance or confidence moved; in a fifth a view dropped.
type revising struct{ extract.Extractor }

func (r revising) Extract(ctx context.Context, doc *schema.Document) (*schema.Result, error) {
	res, err := r.Extractor.Extract(ctx, doc)
	if err != nil || res.Extraction == nil {
		return res, err
	}
	h := fnv.New64a()
	io.WriteString(h, doc.Source)
	k := h.Sum64()
	x := res.Extraction
	for ti := range x.Theses {
		t := &x.Theses[ti]
		if k%2 == 0 {
			for i := range t.DataPoints {
				if (uint64(i)+k)%9 == 0 {
					t.DataPoints[i].Value = "n/a (" + t.DataPoints[i].Value + ")"
				}
			}
			if len(t.DataPoints) > 3 {
				t.DataPoints = append(t.DataPoints[:2], t.DataPoints[3:]...)
			}
			q := "revised figure " + strconv.FormatUint(k%1000, 10)
			t.DataPoints = append(t.DataPoints, schema.DataPoint{Indicator: "Revision count", Value: strconv.FormatUint(k%97, 10), Quote: q})
		}
		if ti == 0 && k%3 == 0 {
			if t.Stance == schema.Bullish {
				t.Stance = schema.Mixed
			} else {
				t.Stance = schema.Bullish
			}
			c := 0.55
			t.Confidence = &c
		}
		if k%5 == 0 && len(t.Views) > 1 {
			t.Views = t.Views[1:]
		}
	}
	return res, nil
}

// BenchmarkDiffRuns times compare.DiffRuns at scale: two runs with the
// same extractions (unchanged), and a run against its revision (changed).
// ms/op is one whole diff.
func BenchmarkDiffRuns(b *testing.B) {
	path := diffDB(b, benchdb.Dir(b), benchdb.Points(b))
	ctx := context.Background()
	r, err := store.OpenReader(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, c := range []struct {
		name string
		a, b int64
	}{{"unchanged", 1, 2}, {"changed", 1, 3}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				rep, err := compare.DiffRuns(ctx, r, c.a, c.b)
				if err != nil {
					b.Fatal(err)
				}
				if rep.Summary.Compared == 0 {
					b.Fatal("nothing compared")
				}
			}
		})
	}
}
