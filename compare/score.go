package compare

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/thesisdb/thesisdb/schema"
)

// Counts are the true positives (extracted and in the gold), false
// positives (extracted, not in the gold) and false negatives (in the gold,
// not extracted) of one field.
type Counts struct {
	TP, FP, FN int
}

// Add accumulates c2 into c.
func (c *Counts) Add(c2 Counts) { c.TP, c.FP, c.FN = c.TP+c2.TP, c.FP+c2.FP, c.FN+c2.FN }

// Precision is TP/(TP+FP); 1 when there was nothing to find and nothing
// was extracted, 0 when nothing was extracted but there was.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP, c.FN == 0) }

// Recall is TP/(TP+FN), 1 when the gold holds nothing and nothing was
// invented.
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN, c.FP == 0) }

// F1 is the harmonic mean of Precision and Recall.
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(n, d int, vacuous bool) float64 {
	if d == 0 {
		if vacuous {
			return 1
		}
		return 0
	}
	return float64(n) / float64(d)
}

// MarshalJSON writes the counts with precision, recall and F1.
func (c Counts) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TP        int     `json:"tp"`
		FP        int     `json:"fp"`
		FN        int     `json:"fn"`
		Precision float64 `json:"precision"`
		Recall    float64 `json:"recall"`
		F1        float64 `json:"f1"`
	}{c.TP, c.FP, c.FN, round4(c.Precision()), round4(c.Recall()), round4(c.F1())})
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

// Match is how data points are matched to the gold ones.
type Match int

const (
	// Exact matches a data point to a gold one with the same normalised
	// indicator (NormIndicator) and value (SameValue).
	Exact Match = iota
	// Loose also accepts, for gold written in its own words, the same
	// numbers in the value with indicators sharing content words.
	Loose
)

// String names the match mode.
func (m Match) String() string {
	if m == Loose {
		return "loose"
	}
	return "exact"
}

// LooseOverlap is the least word overlap (Jaccard of content words) of two
// indicators Loose matching accepts.
const LooseOverlap = 0.15

// Fields are the names of the scored fields, in report order.
var Fields = []string{"stance", "views", "confidence", "conviction", "horizon", "data_points"}

// Scorecard is the grading of one extraction (or, summed with Add, of
// many) against the gold: counts per field, and the data points behind the
// data-point errors.
type Scorecard struct {
	Stance, Views, Confidence, Conviction, Horizon, DataPoints Counts

	// Omissions are gold data points no extracted one matches.
	Omissions []schema.DataPoint
	// Unmatched are extracted data points matching no gold one.
	Unmatched []schema.DataPoint
	// Ungrounded are extracted data points whose quote or figures are
	// not found in the document (Ground present and not Grounded),
	// whether or not they match: with Unmatched, the fabrications.
	Ungrounded []schema.DataPoint
}

// Field returns the counts of the named field (see Fields).
func (s *Scorecard) Field(name string) *Counts {
	switch name {
	case "stance":
		return &s.Stance
	case "views":
		return &s.Views
	case "confidence":
		return &s.Confidence
	case "conviction":
		return &s.Conviction
	case "horizon":
		return &s.Horizon
	case "data_points":
		return &s.DataPoints
	}
	panic(fmt.Sprintf("compare: no field %q", name))
}

// Overall sums every field's counts (micro-average).
func (s *Scorecard) Overall() Counts {
	var c Counts
	for _, f := range Fields {
		c.Add(*s.Field(f))
	}
	return c
}

// Add accumulates s2 into s, for a total over documents.
func (s *Scorecard) Add(s2 Scorecard) {
	for _, f := range Fields {
		s.Field(f).Add(*s2.Field(f))
	}
	s.Omissions = append(s.Omissions, s2.Omissions...)
	s.Unmatched = append(s.Unmatched, s2.Unmatched...)
	s.Ungrounded = append(s.Ungrounded, s2.Ungrounded...)
}

// Score grades got against gold. Stances and views (by perspective, with
// their stance) must be exactly equal; confidence and conviction (of
// theses and views, whenever either side states one) within
// ScoreTolerance; horizons equal after folding case, dashes and spaces.
// Data points are matched document-wide by m. Theses pair as in Diff. A
// nil got is an extraction that found nothing: every gold item is omitted.
func Score(got, gold *schema.Extraction, m Match) Scorecard {
	var s Scorecard
	tg, tw := theses(got), theses(gold)
	for _, p := range pairTheses(tg, tw) {
		var g, w *schema.Thesis
		if p[0] >= 0 {
			g = &tg[p[0]]
		}
		if p[1] >= 0 {
			w = &tw[p[1]]
		}
		s.gradeThesis(g, w)
	}
	s.gradeDataPoints(allDataPoints(got), allDataPoints(gold), m)
	return s
}

// gradeThesis counts one thesis pair; either side may be nil.
func (s *Scorecard) gradeThesis(got, gold *schema.Thesis) {
	var gs, ws schema.Stance
	var gc, wc, gv, wv *float64
	var gh, wh *string
	var gViews, wViews []schema.View
	if got != nil {
		gs, gc, gv, gh, gViews = got.Stance, got.Confidence, got.Conviction, got.Horizon, got.Views
	}
	if gold != nil {
		ws, wc, wv, wh, wViews = gold.Stance, gold.Confidence, gold.Conviction, gold.Horizon, gold.Views
	}
	count(&s.Stance, gs != "", ws != "", gs == ws)
	count(&s.Confidence, gc != nil, wc != nil, sameScore(gc, wc))
	count(&s.Conviction, gv != nil, wv != nil, sameScore(gv, wv))
	count(&s.Horizon, gh != nil, wh != nil, sameHorizon(gh, wh))

	byPersp := map[string]int{}
	for i, v := range wViews {
		if _, dup := byPersp[normPerspective(v.Perspective)]; !dup {
			byPersp[normPerspective(v.Perspective)] = i
		}
	}
	used := map[int]bool{}
	for _, gvw := range gViews {
		j, ok := byPersp[normPerspective(gvw.Perspective)]
		if !ok || used[j] {
			s.gradeView(&gvw, nil)
			continue
		}
		used[j] = true
		s.gradeView(&gvw, &wViews[j])
	}
	for j := range wViews {
		if !used[j] {
			s.gradeView(nil, &wViews[j])
		}
	}
}

func (s *Scorecard) gradeView(got, gold *schema.View) {
	var gs, ws schema.Stance
	var gc, wc, gv, wv *float64
	var gh, wh *string
	if got != nil {
		gs, gc, gv, gh = got.Stance, got.Confidence, got.Conviction, got.Horizon
	}
	if gold != nil {
		ws, wc, wv, wh = gold.Stance, gold.Confidence, gold.Conviction, gold.Horizon
	}
	count(&s.Views, got != nil, gold != nil, gs == ws)
	count(&s.Confidence, gc != nil, wc != nil, sameScore(gc, wc))
	count(&s.Conviction, gv != nil, wv != nil, sameScore(gv, wv))
	count(&s.Horizon, gh != nil, wh != nil, sameHorizon(gh, wh))
}

// count records one item: extracted (has), in the gold (want), and equal.
// A wrong value is both a false positive and a false negative.
func count(c *Counts, has, want, equal bool) {
	switch {
	case has && want && equal:
		c.TP++
	case has && want:
		c.FP++
		c.FN++
	case has:
		c.FP++
	case want:
		c.FN++
	}
}

func (s *Scorecard) gradeDataPoints(got, gold []schema.DataPoint, m Match) {
	goldOf := make([]int, len(got))
	for i := range goldOf {
		goldOf[i] = -1
	}
	usedGold := make([]bool, len(gold))
	tryPass := func(ok func(g, w schema.DataPoint) bool) {
		for j, w := range gold {
			if usedGold[j] {
				continue
			}
			for i, g := range got {
				if goldOf[i] < 0 && ok(g, w) {
					goldOf[i], usedGold[j] = j, true
					break
				}
			}
		}
	}
	tryPass(func(g, w schema.DataPoint) bool {
		return NormIndicator(g.Indicator) == NormIndicator(w.Indicator) && SameValue(g.Value, w.Value)
	})
	if m == Loose {
		tryPass(func(g, w schema.DataPoint) bool {
			return (SameValue(g.Value, w.Value) || sameNumbers(g.Value, w.Value)) && wordOverlap(g.Indicator, w.Indicator) >= LooseOverlap
		})
	}
	for i, g := range got {
		if goldOf[i] >= 0 {
			s.DataPoints.TP++
		} else {
			s.DataPoints.FP++
			s.Unmatched = append(s.Unmatched, g)
		}
		if g.Ground != nil && !g.Ground.Grounded {
			s.Ungrounded = append(s.Ungrounded, g)
		}
	}
	for j, w := range gold {
		if !usedGold[j] {
			s.DataPoints.FN++
			s.Omissions = append(s.Omissions, w)
		}
	}
}
