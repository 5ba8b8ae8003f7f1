package extract

import (
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
