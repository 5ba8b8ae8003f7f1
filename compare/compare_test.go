package compare

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

func ptr[T any](v T) *T { return &v }

// base is a one-thesis extraction that each test case alters.
func base() *schema.Extraction {
	return &schema.Extraction{Theses: []schema.Thesis{{
		Title: "Rotation into small caps", Statement: "Small caps beat mega caps.", Stance: schema.Bullish,
		Confidence: ptr(0.7), Conviction: ptr(0.5), Horizon: ptr("12-24 months"),
		Views: []schema.View{
			{Perspective: "rates", Stance: schema.Bearish, Confidence: ptr(0.7), Conviction: ptr(0.4), Horizon: ptr("0-5 Year")},
			{Perspective: "credit", Stance: schema.Bearish, Confidence: ptr(0.7)},
		},
		DataPoints: []schema.DataPoint{
			{Indicator: "HY OAS", Value: "284 bps", Quote: "q1"},
			{Indicator: "Small-cap P/E", Value: "18x", Quote: "q2"},
			{Indicator: "Mag7 capex", Value: "~$700 billion", Quote: "q3"},
		},
	}}}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(x *schema.Extraction)
		want  DocumentDiff
		dirty bool
	}{
		{name: "identical", edit: func(*schema.Extraction) {}, want: DocumentDiff{Unchanged: 3}},
		{name: "same quantity written differently", edit: func(x *schema.Extraction) {
			x.Theses[0].DataPoints[0].Value = "284bp"
			x.Theses[0].DataPoints[0].Indicator = "hy  oas"
		}, want: DocumentDiff{Unchanged: 3}},
		{name: "stance, scores and horizon", dirty: true, edit: func(x *schema.Extraction) {
			th := &x.Theses[0]
			th.Stance, th.Confidence, th.Conviction, th.Horizon = schema.Mixed, nil, ptr(0.8), ptr("2026")
		}, want: DocumentDiff{Unchanged: 3, Theses: []ThesisDiff{{Title: "Rotation into small caps", Status: Changed, Changes: []FieldChange{
			{"stance", "bullish", "mixed"}, {"confidence", "0.7", ""}, {"conviction", "0.5", "0.8"}, {"horizon", "12-24 months", "2026"},
		}}}}},
		{name: "views by perspective", dirty: true, edit: func(x *schema.Extraction) {
			th := &x.Theses[0]
			th.Views = []schema.View{
				{Perspective: "Credit", Stance: schema.Neutral, Confidence: ptr(0.7)},
				{Perspective: "equity", Stance: schema.Bullish},
			}
		}, want: DocumentDiff{Unchanged: 3, Theses: []ThesisDiff{{Title: "Rotation into small caps", Status: Changed, Views: []ViewChange{
			{Perspective: "rates", Status: Removed},
			{Perspective: "Credit", Status: Changed, Changes: []FieldChange{{"stance", "bearish", "neutral"}}},
			{Perspective: "equity", Status: Added},
		}}}}},
		{name: "data points added, removed, changed", dirty: true, edit: func(x *schema.Extraction) {
			dp := x.Theses[0].DataPoints
			dp[0].Value = "300 bps"
			x.Theses[0].DataPoints = append(dp[:1], dp[2], schema.DataPoint{Indicator: "VIX", Value: "18", Quote: "q"})
		}, want: DocumentDiff{Unchanged: 1, DataPoints: []DataPointChange{
			{Indicator: "HY OAS", Status: Changed, From: "284 bps", To: "300 bps"},
			{Indicator: "Small-cap P/E", Status: Removed, From: "18x"},
			{Indicator: "VIX", Status: Added, To: "18"},
		}}},
		{name: "thesis added", dirty: true, edit: func(x *schema.Extraction) {
			x.Theses = append(x.Theses, schema.Thesis{Title: "Short duration", Statement: "Rates stay high.", Stance: schema.Bearish})
		}, want: DocumentDiff{Unchanged: 3, Theses: []ThesisDiff{{Title: "Short duration", Status: Added}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base()
			tt.edit(b)
			got := Diff(base(), b)
			if !reflect.DeepEqual(got, tt.want) {
				gj, _ := json.MarshalIndent(got, "", " ")
				wj, _ := json.MarshalIndent(tt.want, "", " ")
				t.Errorf("Diff:\n%s\nwant:\n%s", gj, wj)
			}
			if got.Changed() != tt.dirty {
				t.Errorf("Changed() = %v, want %v", got.Changed(), tt.dirty)
			}
		})
	}
}

func TestDiffNilSides(t *testing.T) {
	d := Diff(nil, base())
	if a, r, c := d.Count(); a != 3 || r != 0 || c != 0 || len(d.Theses) != 1 || d.Theses[0].Status != Added {
		t.Errorf("Diff(nil, x) = %+v", d)
	}
	d = Diff(base(), nil)
	if a, r, _ := d.Count(); a != 0 || r != 3 || d.Theses[0].Status != Removed {
		t.Errorf("Diff(x, nil) = %+v", d)
	}
}

func TestDiffPairsThesesByContent(t *testing.T) {
	a := &schema.Extraction{Theses: []schema.Thesis{
		{Title: "Small caps rally", Statement: "Small caps outperform.", Stance: schema.Bullish},
		{Title: "Duration risk", Statement: "Long bonds fall.", Stance: schema.Bearish},
	}}
	b := &schema.Extraction{Theses: []schema.Thesis{a.Theses[1], a.Theses[0]}}
	b.Theses[0].Stance = schema.Neutral // "Duration risk", now first
	d := Diff(a, b)
	if len(d.Theses) != 1 || d.Theses[0].Title != "Duration risk" || d.Theses[0].Changes[0] != (FieldChange{"stance", "bearish", "neutral"}) {
		t.Errorf("reordered theses: %+v", d.Theses)
	}
}

func TestCounts(t *testing.T) {
	tests := []struct {
		c       Counts
		p, r, f float64
	}{
		{Counts{}, 1, 1, 1},
		{Counts{TP: 3}, 1, 1, 1},
		{Counts{TP: 1, FP: 1, FN: 2}, 0.5, 1.0 / 3, 0.4},
		{Counts{FN: 2}, 0, 0, 0},
		{Counts{FP: 2}, 0, 0, 0},
	}
	for _, tt := range tests {
		if p, r, f := tt.c.Precision(), tt.c.Recall(), tt.c.F1(); math.Abs(p-tt.p) > 1e-9 || math.Abs(r-tt.r) > 1e-9 || math.Abs(f-tt.f) > 1e-9 {
			t.Errorf("%+v: P/R/F1 = %v %v %v, want %v %v %v", tt.c, p, r, f, tt.p, tt.r, tt.f)
		}
	}
	b, err := json.Marshal(Counts{TP: 1, FP: 1, FN: 2})
	if err != nil || string(b) != `{"tp":1,"fp":1,"fn":2,"precision":0.5,"recall":0.3333,"f1":0.4}` {
		t.Errorf("JSON %s %v", b, err)
	}
}

func TestScore(t *testing.T) {
	type want struct{ stance, views, conf, conv, horizon, dps Counts }
	tests := []struct {
		name  string
		edit  func(x *schema.Extraction)
		match Match
		want  want
		omit  int
	}{
		{name: "perfect", edit: func(*schema.Extraction) {},
			want: want{Counts{TP: 1}, Counts{TP: 2}, Counts{TP: 3}, Counts{TP: 2}, Counts{TP: 2}, Counts{TP: 3}}},
		{name: "scores within tolerance", edit: func(x *schema.Extraction) {
			x.Theses[0].Confidence = ptr(0.74)
			x.Theses[0].Views[0].Conviction = ptr(0.36)
			x.Theses[0].Horizon = ptr("12–24 Months")
		}, want: want{Counts{TP: 1}, Counts{TP: 2}, Counts{TP: 3}, Counts{TP: 2}, Counts{TP: 2}, Counts{TP: 3}}},
		{name: "wrong stance, far score, missing view", edit: func(x *schema.Extraction) {
			th := &x.Theses[0]
			th.Stance = schema.Bearish
			th.Confidence = ptr(0.8)
			th.Views = th.Views[:1]
			th.Views[0].Stance = schema.Bullish
		}, want: want{Counts{FP: 1, FN: 1}, Counts{FP: 1, FN: 2}, Counts{TP: 1, FP: 1, FN: 2}, Counts{TP: 2}, Counts{TP: 2}, Counts{TP: 3}}},
		{name: "invented score and view", edit: func(x *schema.Extraction) {
			th := &x.Theses[0]
			th.Views[1].Conviction = ptr(0.3)
			th.Views = append(th.Views, schema.View{Perspective: "equity", Stance: schema.Bullish})
		}, want: want{Counts{TP: 1}, Counts{TP: 2, FP: 1}, Counts{TP: 3}, Counts{TP: 2, FP: 1}, Counts{TP: 2}, Counts{TP: 3}}},
		{name: "data points: wrong value, omitted, fabricated", edit: func(x *schema.Extraction) {
			dp := x.Theses[0].DataPoints
			dp[0].Value = "300 bps"
			x.Theses[0].DataPoints = []schema.DataPoint{dp[0], dp[2], {Indicator: "VIX", Value: "18", Quote: "q"}}
		}, want: want{Counts{TP: 1}, Counts{TP: 2}, Counts{TP: 3}, Counts{TP: 2}, Counts{TP: 2}, Counts{TP: 1, FP: 2, FN: 2}}, omit: 2},
		{name: "exact refuses paraphrase", edit: func(x *schema.Extraction) {
			x.Theses[0].DataPoints[2] = schema.DataPoint{Indicator: "Capex of the Mag7 in 2026", Value: "$700bn", Quote: "q"}
		}, want: want{Counts{TP: 1}, Counts{TP: 2}, Counts{TP: 3}, Counts{TP: 2}, Counts{TP: 2}, Counts{TP: 2, FP: 1, FN: 1}}, omit: 1},
		{name: "loose accepts paraphrase with the same numbers", match: Loose, edit: func(x *schema.Extraction) {
			x.Theses[0].DataPoints[2] = schema.DataPoint{Indicator: "Capex of the Mag7 in 2026", Value: "700 billion dollars", Quote: "q"}
		}, want: want{Counts{TP: 1}, Counts{TP: 2}, Counts{TP: 3}, Counts{TP: 2}, Counts{TP: 2}, Counts{TP: 3}}},
		{name: "loose still wants shared words", match: Loose, edit: func(x *schema.Extraction) {
			x.Theses[0].DataPoints[2] = schema.DataPoint{Indicator: "Federal deficit", Value: "$700 billion", Quote: "q"}
		}, want: want{Counts{TP: 1}, Counts{TP: 2}, Counts{TP: 3}, Counts{TP: 2}, Counts{TP: 2}, Counts{TP: 2, FP: 1, FN: 1}}, omit: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := base()
			tt.edit(got)
			s := Score(got, base(), tt.match)
			g := want{s.Stance, s.Views, s.Confidence, s.Conviction, s.Horizon, s.DataPoints}
			if g != tt.want {
				t.Errorf("Score =\n %+v\nwant\n %+v", g, tt.want)
			}
			if len(s.Omissions) != tt.omit || len(s.Unmatched) != s.DataPoints.FP {
				t.Errorf("%d omissions (want %d), %d unmatched for %d FP", len(s.Omissions), tt.omit, len(s.Unmatched), s.DataPoints.FP)
			}
		})
	}
}

func TestScoreNothingExtractedAndUngrounded(t *testing.T) {
	s := Score(nil, base(), Exact)
	if s.Overall().TP != 0 || s.DataPoints.FN != 3 || len(s.Omissions) != 3 || s.Stance.FN != 1 {
		t.Errorf("nil extraction: %+v", s)
	}
	got := base()
	got.Theses[0].DataPoints[1].Ground = &schema.Grounding{}
	got.Theses[0].DataPoints[0].Ground = &schema.Grounding{Method: "exact", Grounded: true}
	s = Score(got, base(), Exact)
	if len(s.Ungrounded) != 1 || s.Ungrounded[0].Indicator != "Small-cap P/E" || s.DataPoints.TP != 3 {
		t.Errorf("ungrounded: %+v", s.Ungrounded)
	}
	var total Scorecard
	total.Add(s)
	total.Add(Score(nil, base(), Exact))
	if o := total.Overall(); o.TP != s.Overall().TP || o.FN != s.Overall().FN+13 {
		t.Errorf("sum %+v from %+v", o, s.Overall())
	}
}

func TestValueAndIndicatorNormalisation(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"284 bps", "284bp", true},
		{"~$700 billion", "$700bn", true},
		{"18.0% vs. 10.8%", "18.0%  vs.  10.8%", true},
		{"4.14%–4.26%", "4.14%-4.26%", true},
		{"284 bps", "285 bps", false},
		{"18x", "18%", false},
	} {
		if got := SameValue(c.a, c.b); got != c.same {
			t.Errorf("SameValue(%q, %q) = %v", c.a, c.b, got)
		}
	}
	if NormIndicator("HY OAS (bps)") != NormIndicator("hy oas, bps") {
		t.Errorf("NormIndicator: %q vs %q", NormIndicator("HY OAS (bps)"), NormIndicator("hy oas, bps"))
	}
	if !sameNumbers("~33%", "33 percent") || sameNumbers("12 to 24 months", "12 months") || sameNumbers("none", "none") {
		t.Error("sameNumbers")
	}
}

// TestSameIndicatorAsExtraction checks that comparison matches indicators
// exactly as extraction merges them (schema.IndicatorKey): the cases below
// used to be one indicator to one side and two to the other.
func TestSameIndicatorAsExtraction(t *testing.T) {
	for _, c := range [][2]string{{"EPS .", "eps"}, {". Net debt", "Net debt"}, {"Price (€)", "price €"}} {
		if NormIndicator(c[0]) != NormIndicator(c[1]) || NormIndicator(c[0]) != schema.IndicatorKey(c[1]) {
			t.Errorf("%q and %q: %q, %q", c[0], c[1], NormIndicator(c[0]), NormIndicator(c[1]))
		}
		a := &schema.Extraction{Theses: []schema.Thesis{{Title: "t", Stance: schema.Bullish,
			DataPoints: []schema.DataPoint{{Indicator: c[0], Value: "5"}}}}}
		b := &schema.Extraction{Theses: []schema.Thesis{{Title: "t", Stance: schema.Bullish,
			DataPoints: []schema.DataPoint{{Indicator: c[1], Value: "5"}}}}}
		if d := Diff(a, b); d.Changed() || d.Unchanged != 1 {
			t.Errorf("%q vs %q: %+v", c[0], c[1], d)
		}
	}
	if NormIndicator("Price (€)") == NormIndicator("Price") {
		t.Error("a currency sign no longer tells indicators apart")
	}
}
