package compare

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

// pairwiseDataPoints is diffDataPoints as it was first written: every
// pair compared with NormIndicator and SameValue. The indexed version must
// answer the same.
func pairwiseDataPoints(a, b []schema.DataPoint) ([]DataPointChange, int) {
	var out []DataPointChange
	unchanged := 0
	usedB := make([]bool, len(b))
	pairOf := make([]int, len(a))
	for i := range pairOf {
		pairOf[i] = -1
	}
	for pass := 0; pass < 2; pass++ {
		for i, pa := range a {
			if pairOf[i] >= 0 {
				continue
			}
			for j, pb := range b {
				if usedB[j] || NormIndicator(pa.Indicator) != NormIndicator(pb.Indicator) {
					continue
				}
				if pass == 0 && !SameValue(pa.Value, pb.Value) {
					continue
				}
				pairOf[i], usedB[j] = j, true
				break
			}
		}
	}
	for i, pa := range a {
		j := pairOf[i]
		switch {
		case j < 0:
			out = append(out, DataPointChange{Indicator: pa.Indicator, Status: Removed, From: pa.Value})
		case SameValue(pa.Value, b[j].Value):
			unchanged++
		default:
			out = append(out, DataPointChange{Indicator: b[j].Indicator, Status: Changed, From: pa.Value, To: b[j].Value})
		}
	}
	for j, pb := range b {
		if !usedB[j] {
			out = append(out, DataPointChange{Indicator: pb.Indicator, Status: Added, To: pb.Value})
		}
	}
	return out, unchanged
}

// Indicators that share keys in several spellings, and values equal as
// text, as quantities, or not at all.
var (
	testIndicators = []string{"HY OAS (bps)", "hy oas bps", "HY-OAS bps", "EPS growth", "eps growth.", "Capex", "capex ", "Net debt / EBITDA"}
	testValues     = []string{"284 bps", "284bp", "284 BPS", "300 bps", "4.2%", "4.20 %", "12–14%", "12-14%", "12 - 14%",
		"$3 billion", "USD 3bn", "n/a", "", "2.5x", "2.5x (2025)", "-7%", "−7%"}
	testPerspectives = []string{"Rates", "rates", "Credit", "Equity", "FX"}
	testStances      = []schema.Stance{schema.Bullish, schema.Bearish, schema.Neutral, schema.Mixed}
)

func randDataPoints(r *rand.Rand) []schema.DataPoint {
	ps := make([]schema.DataPoint, r.IntN(12))
	for i := range ps {
		ps[i] = schema.DataPoint{Indicator: testIndicators[r.IntN(len(testIndicators))], Value: testValues[r.IntN(len(testValues))]}
	}
	return ps
}

func TestDiffDataPointsAsPairwise(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	changed := 0
	for n := range 5000 {
		a, b := randDataPoints(r), randDataPoints(r)
		if n%4 == 0 {
			b = append([]schema.DataPoint(nil), a...)
			r.Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
		}
		got, gotN := diffDataPoints(a, b)
		want, wantN := pairwiseDataPoints(a, b)
		if !reflect.DeepEqual(got, want) || gotN != wantN {
			t.Fatalf("diff of\n%+v\n%+v:\n%+v, %d unchanged; pairwise:\n%+v, %d", a, b, got, gotN, want, wantN)
		}
		if len(got) > 0 && gotN > 0 {
			changed++
		}
	}
	if changed < 1000 {
		t.Errorf("only %d cases both changed and unchanged data points: the inputs test little", changed)
	}
}
