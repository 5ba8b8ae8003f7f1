package extract

import (
	"fmt"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

func TestGround(t *testing.T) {
	text := "Intro — café.\nHigh-yield spreads stand at 284 bps as of January 2026.\n" +
		"Small caps trade at a forward P/E of 18x versus 24x for the S&P 500.\nThe end."
	runeSub := func(s string, a, b int) string { return string([]rune(s)[a:b]) }
	for _, tc := range []struct {
		name, quote, value string
		method             string
		grounded           bool
		want               string // the passage located
	}{
		{"exact", "High-yield spreads stand at 284 bps as of January 2026.", "284 bps", "exact", true,
			"High-yield spreads stand at 284 bps as of January 2026."},
		{"normalised", "high yield spreads  stand at 284 bps, as of January 2026", "284 bps", "normalized", true,
			"High-yield spreads stand at 284 bps as of January 2026"},
		{"fuzzy", "Small caps are trading at a forward P/E of 18x versus 24x for the S&P 500", "18x", "fuzzy", true,
			"Small caps trade at a forward P/E of 18x versus 24x for the S&P 500"},
		{"fabricated figure", "High-yield spreads stand at 284 bps as of January 2026.", "312 bps", "exact", false,
			"High-yield spreads stand at 284 bps as of January 2026."},
		{"quote not in text", "Oil will reach $150 a barrel by March.", "$150", "", false, ""},
		{"empty quote", "", "1%", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := &schema.Extraction{Theses: []schema.Thesis{{DataPoints: []schema.DataPoint{{Value: tc.value, Quote: tc.quote}}}}}
			n := Ground(text, x)
			g := x.Theses[0].DataPoints[0].Ground
			if g.Method != tc.method || g.Grounded != tc.grounded {
				t.Fatalf("ground = %+v, want method %q grounded %v", g, tc.method, tc.grounded)
			}
			if wantN := map[bool]int{true: 0, false: 1}[tc.grounded]; n != wantN {
				t.Errorf("ungrounded = %d, want %d", n, wantN)
			}
			if tc.want != "" {
				if got := runeSub(text, g.Start, g.End); got != tc.want {
					t.Errorf("passage = %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestDropUngrounded(t *testing.T) {
	x := &schema.Extraction{Theses: []schema.Thesis{{DataPoints: []schema.DataPoint{
		{Value: "1", Ground: &schema.Grounding{Grounded: true}},
		{Value: "2", Ground: &schema.Grounding{}},
		{Value: "3", Ground: &schema.Grounding{Grounded: true}},
	}}}}
	if n := DropUngrounded(x); n != 1 {
		t.Fatalf("dropped %d, want 1", n)
	}
	if dps := x.Theses[0].DataPoints; len(dps) != 2 || dps[0].Value != "1" || dps[1].Value != "3" {
		t.Errorf("kept %+v", dps)
	}
}

// TestGroundInDocumentOrder locates a quote that occurs twice at the
// occurrence after the previous data point's, and still finds a quote
// that stands before it.
func TestGroundInDocumentOrder(t *testing.T) {
	text := "Intro line.\nMargin was 5%.\nMiddle 7% here.\nMargin was 5%.\nEnd."
	x := &schema.Extraction{Theses: []schema.Thesis{{DataPoints: []schema.DataPoint{
		{Value: "7%", Quote: "Middle 7% here."},
		{Value: "5%", Quote: "Margin was 5%."},
		{Value: "5%", Quote: "Intro line."}, // fabricated figure, quote before
	}}}}
	if n := Ground(text, x); n != 1 {
		t.Errorf("ungrounded = %d, want 1", n)
	}
	dps := x.Theses[0].DataPoints
	if g := dps[1].Ground; g.Method != "exact" || g.Start != strings.LastIndex(text, "Margin") {
		t.Errorf("repeated quote at %+v, want the occurrence after the previous quote (%d)", g, strings.LastIndex(text, "Margin"))
	}
	if g := dps[2].Ground; g.Method != "exact" || g.Start != 0 || g.Grounded {
		t.Errorf("earlier quote: %+v, want found at 0 and not grounded", g)
	}
}

// TestGroundRuneOffsets checks the rune offsets of passages far into a
// text of multi-byte characters, against counting runes from the start.
func TestGroundRuneOffsets(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "Ligne %d — café à %d%% près. ", i, i%100)
	}
	text := b.String()
	quotes := []string{"Ligne 17 — café à 17% près.", "Ligne 1234 — café à 34% près.", "ligne 2999 café à 99% près", "Ligne 2500 — un café à 0% près"}
	x := &schema.Extraction{Theses: []schema.Thesis{{}}}
	for _, q := range quotes {
		x.Theses[0].DataPoints = append(x.Theses[0].DataPoints, schema.DataPoint{Value: "1", Quote: q})
	}
	Ground(text, x)
	runes := []rune(text)
	for i, dp := range x.Theses[0].DataPoints {
		g := dp.Ground
		if g.Method == "" {
			t.Fatalf("quote %q not found", quotes[i])
		}
		got := string(runes[g.Start:g.End])
		if !strings.Contains(strings.ToLower(got), strings.Fields(strings.ToLower(quotes[i]))[1]) {
			t.Errorf("%s match of %q gives passage %q", g.Method, quotes[i], got)
		}
	}
	if m := x.Theses[0].DataPoints[2].Ground.Method; m != "normalized" {
		t.Errorf("method %q, want normalized", m)
	}
	if m := x.Theses[0].DataPoints[3].Ground.Method; m != "fuzzy" {
		t.Errorf("method %q, want fuzzy", m)
	}
}

// TestGroundBudget grounds thousands of quotes that are nowhere in a 1 MB
// text: the searches stop once the budget is spent, so the bytes scanned
// stay within a multiple of the text's size instead of one text per quote.
func TestGroundBudget(t *testing.T) {
	text := strings.Repeat("the yield rose 5% and the spread fell 20 bp while ", 1<<20/50)
	idx := newTextIndex(text)
	scan0, fuzzy0 := idx.scan, idx.fuzzy
	for i := range 5000 {
		idx.locate(fmt.Sprintf("the yield rose %d%% and fabricated words %d here", i, i))
	}
	scanned, stepped := scan0-idx.scan, fuzzy0-idx.fuzzy
	if max := scan0 + 2*len(text); scanned > max {
		t.Errorf("scanned %d bytes, want at most %d", scanned, max)
	}
	if stepped > fuzzy0 {
		t.Errorf("stepped over %d words, want at most %d", stepped, fuzzy0)
	}
	if idx.scan > 0 {
		t.Errorf("budget left %d after 5000 full searches of %d bytes: not counted", idx.scan, len(text))
	}
}
