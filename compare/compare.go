// Package compare measures extractions against each other: Diff says what
// changed between two extractions of one document (two runs, two prompts),
// and Score grades an extraction against a gold one with precision, recall
// and F1 per field. Both are pure functions of schema.Extraction values.
package compare

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/thesisdb/thesisdb/schema"
)

// ScoreTolerance is how far apart two confidence or conviction scores may
// be and still agree.
const ScoreTolerance = 0.05

// NormIndicator is the form indicators are matched by: schema.IndicatorKey,
// the one definition of the same indicator that extraction also merges
// data points by. "HY OAS (bps)" and "hy oas bps" are the same indicator.
func NormIndicator(s string) string {
	return schema.IndicatorKey(s)
}

// dashes folds dashes and the no-break space; built once, as a Replacer
// builds its tables on first use.
var dashes = strings.NewReplacer("–", "-", "—", "-", "−", "-", "\u00a0", " ")

// normText folds case, dashes and white space: for horizons and values.
func normText(s string) string {
	s = dashes.Replace(strings.ToLower(s))
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(strings.ReplaceAll(s, " - ", "-"), " -", "-")
}

// SameValue reports whether two data-point values state the same thing:
// equal after folding case, dashes and spaces, or the same quantity
// (schema.ParseQuantity) such as "284 bps" and "284bp".
func SameValue(a, b string) bool {
	if normText(a) == normText(b) {
		return true
	}
	qa, oka := schema.ParseQuantity(a)
	qb, okb := schema.ParseQuantity(b)
	return oka && okb && sameQuantity(qa, qb)
}

func sameQuantity(qa, qb schema.Quantity) bool {
	return qa.Unit == qb.Unit && eqPtr(qa.Num, qb.Num) && eqPtr(qa.Low, qb.Low) && eqPtr(qa.High, qb.High)
}

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Abs(*a-*b) <= 1e-9*math.Max(1, math.Abs(*a))
}

var numberRe = regexp.MustCompile(`\d+(?:,\d{3})*(?:\.\d+)?`)

// numbers returns the distinct numbers written in s, sorted.
func numbers(s string) []float64 {
	seen := map[float64]bool{}
	var out []float64
	for _, m := range numberRe.FindAllString(s, -1) {
		f, err := strconv.ParseFloat(strings.ReplaceAll(m, ",", ""), 64)
		if err != nil || seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	sort.Float64s(out)
	return out
}

// sameNumbers reports whether a and b write the same non-empty set of
// numbers ("~33%" and "33 percent").
func sameNumbers(a, b string) bool {
	na, nb := numbers(a), numbers(b)
	if len(na) == 0 || len(na) != len(nb) {
		return false
	}
	for i := range na {
		if na[i] != nb[i] {
			return false
		}
	}
	return true
}

var stopWords = map[string]bool{
	"the": true, "and": true, "for": true, "from": true, "with": true, "of": true, "in": true, "on": true,
	"to": true, "a": true, "an": true, "vs": true, "by": true, "as": true, "at": true, "per": true, "its": true,
}

// contentWords returns the words of s that carry meaning, with a trailing
// plural s removed.
func contentWords(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) < 2 || stopWords[w] {
			continue
		}
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = strings.TrimSuffix(w, "s")
		}
		out[w] = true
	}
	return out
}

// wordOverlap is the Jaccard similarity of the content words of a and b.
func wordOverlap(a, b string) float64 {
	wa, wb := contentWords(a), contentWords(b)
	if len(wa) == 0 || len(wb) == 0 {
		return 0
	}
	inter := 0
	for w := range wa {
		if wb[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(wa)+len(wb)-inter)
}

func normPerspective(s string) string { return schema.IndicatorKey(s) }

func sameScore(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Abs(*a-*b) <= ScoreTolerance+1e-9
}

func sameHorizon(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return normText(*a) == normText(*b)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// pairTheses pairs the theses of a and b: when both hold one they pair;
// otherwise greedily by the word overlap of title, subject and statement,
// then the rest in order. It returns index pairs; -1 marks a thesis with no
// partner.
func pairTheses(a, b []schema.Thesis) [][2]int {
	if len(a) == 1 && len(b) == 1 {
		return [][2]int{{0, 0}}
	}
	text := func(t schema.Thesis) string { return t.Title + " " + deref(t.Subject) + " " + t.Statement }
	type cand struct {
		i, j int
		sim  float64
	}
	var cands []cand
	for i := range a {
		for j := range b {
			if s := wordOverlap(text(a[i]), text(b[j])); s > 0.2 {
				cands = append(cands, cand{i, j, s})
			}
		}
	}
	sort.SliceStable(cands, func(x, y int) bool { return cands[x].sim > cands[y].sim })
	ua, ub := make([]bool, len(a)), make([]bool, len(b))
	var pairs [][2]int
	for _, c := range cands {
		if !ua[c.i] && !ub[c.j] {
			ua[c.i], ub[c.j] = true, true
			pairs = append(pairs, [2]int{c.i, c.j})
		}
	}
	// The rest pair in order of appearance.
	j := 0
	for i := range a {
		if ua[i] {
			continue
		}
		for j < len(b) && ub[j] {
			j++
		}
		if j < len(b) {
			ua[i], ub[j] = true, true
			pairs = append(pairs, [2]int{i, j})
			continue
		}
		pairs = append(pairs, [2]int{i, -1})
	}
	for j := range b {
		if !ub[j] {
			pairs = append(pairs, [2]int{-1, j})
		}
	}
	sort.SliceStable(pairs, func(x, y int) bool { return order(pairs[x]) < order(pairs[y]) })
	return pairs
}

func order(p [2]int) int {
	if p[0] >= 0 {
		return p[0] * 2
	}
	return p[1]*2 + 1
}

// allDataPoints flattens the data points of every thesis.
func allDataPoints(x *schema.Extraction) []schema.DataPoint {
	if x == nil {
		return nil
	}
	var out []schema.DataPoint
	for _, t := range x.Theses {
		out = append(out, t.DataPoints...)
	}
	return out
}

func theses(x *schema.Extraction) []schema.Thesis {
	if x == nil {
		return nil
	}
	return x.Theses
}
