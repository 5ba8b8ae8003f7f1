package rules

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
)

// hostileFamilies generate, at any size, the inputs an attacker would send
// the rules extractor: each repeats a unit until the text is size bytes.
var hostileFamilies = []struct {
	name string
	gen  func(size int) string
}{
	// One line of "1% 1% 1% …": a figure every three bytes, one sentence.
	{"percent", repeat("1% ")},
	// One giant line without a newline or a full stop, figures throughout.
	{"oneline", repeat("the yield rose 5% and the spread fell 20 bp while ")},
	// Millions of tiny lines, each a figure.
	{"tinylines", repeat("1%\n")},
	// Millions of empty lines.
	{"blanklines", repeat("\n")},
	// Long runs of digits, now and then made a percentage.
	{"digits", func(size int) string {
		return repeat(strings.Repeat("1234567890", 10_000) + "% ")(size)
	}},
	// indicator:/value:/source:/implication: blocks, over and over.
	{"indicator", repeat("indicator: GDP growth\nvalue: 2.5%\nsource: BEA\nimplication: supportive\n")},
	// A Markdown table with a data point per row.
	{"table", func(size int) string {
		return "Indicator | Value | Source | Implication\n" + repeat("| GDP | 2.5% | BEA | ok |\n")(size)
	}},
	// One line of pipes.
	{"pipes", repeat("|")},
	// One line of field lists: "Confidence: 1|Confidence: 1|…".
	{"fields", repeat("Confidence: 1|")},
	// Sentences, each stating a figure and a source.
	{"sentences", repeat("Yields rose 5% according to the Fed. ")},
	// Sentences attributing figures over and over ("said", "noted").
	{"said", repeat("1% said the Fed noted 2% ")},
	// P/E ratios among other figures in one sentence.
	{"pe", repeat("a P/E of 18 and 1% ")},
	// Unbalanced quotes and parentheses.
	{"unbalanced", repeat(`("(Source: “1% ‘`)},
	// Headings that might open research perspectives.
	{"headings", repeat("## Rates\nBullish\n")},
}

// repeat returns a generator that repeats unit up to size bytes.
func repeat(unit string) func(int) string {
	return func(size int) string {
		n := size/len(unit) + 1
		return strings.Repeat(unit, n)[:size]
	}
}

// TestHostileInputsBounded extracts and grounds 8 MB of each hostile
// family (1 MB with -short): the extraction keeps at most the data point
// limit, warns when it cut, and allocates no more than a linear bound of
// the input size in all.
func TestHostileInputsBounded(t *testing.T) {
	size := 8 << 20
	if testing.Short() {
		size = 1 << 20
	}
	ctx := context.Background()
	e := New()
	// Warm up: the schema validator compiles its schema once.
	if _, err := e.Extract(ctx, &schema.Document{Text: "Yields rose 5%."}); err != nil {
		t.Fatal(err)
	}
	for _, f := range hostileFamilies {
		t.Run(f.name, func(t *testing.T) {
			text := f.gen(size)
			doc := &schema.Document{Text: text, Source: f.name}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res, err := e.Extract(ctx, doc)
			if err != nil {
				t.Fatal(err)
			}
			extract.Ground(text, res.Extraction)
			runtime.ReadMemStats(&after)

			points := len(res.Extraction.Theses[0].DataPoints)
			if points > DefaultMaxDataPoints {
				t.Errorf("%d data points, want at most %d", points, DefaultMaxDataPoints)
			}
			cutWarned := slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "data points") })
			if points == DefaultMaxDataPoints && !cutWarned {
				t.Errorf("the limit was reached without a warning (warnings %q)", res.Warnings)
			}
			// The bound: 50 bytes per input byte, plus what the data
			// points themselves take (quotes up to 2 kB each, validated
			// and grounded).
			alloc := after.TotalAlloc - before.TotalAlloc
			limit := uint64(50*size) + 64<<20
			t.Logf("%d bytes: %d data points, %.1f bytes allocated per input byte, warnings %q", size, points, float64(alloc)/float64(size), res.Warnings)
			if alloc > limit {
				t.Errorf("allocated %d MB for %d MB of input, want at most %d MB", alloc>>20, size>>20, limit>>20)
			}
		})
	}
}

// BenchmarkHostile extracts and grounds each hostile family at 1, 2, 4 and
// 8 MB: time per operation should double as the size doubles.
//
//	go test ./extract/rules -run '^$' -bench Hostile -benchtime 3x
func BenchmarkHostile(b *testing.B) {
	ctx := context.Background()
	e := New()
	for _, f := range hostileFamilies {
		for _, mb := range []int{1, 2, 4, 8} {
			text := f.gen(mb << 20)
			doc := &schema.Document{Text: text, Source: f.name}
			b.Run(fmt.Sprintf("%s/%dMB", f.name, mb), func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				for b.Loop() {
					res, err := e.Extract(ctx, doc)
					if err != nil {
						b.Fatal(err)
					}
					extract.Ground(text, res.Extraction)
				}
			})
		}
	}
}
