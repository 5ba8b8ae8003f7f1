package schema

import (
	"math"
	"strconv"
	"strings"

	"github.com/thesisdb/thesisdb/internal/lazyre"
)

// ParseStance maps a stance word as analysts write it ("Bullish",
// "overweight", "Bear") to a Stance. ok is false when the word is not a
// recognised stance.
func ParseStance(word string) (s Stance, ok bool) {
	w := strings.ToLower(strings.TrimSpace(word))
	w = strings.Trim(w, ".:;,!()[]\"'")
	switch w {
	case "bullish", "bull", "positive", "long", "overweight", "buy", "strong buy", "outperform", "constructive", "optimistic":
		return Bullish, true
	case "bearish", "bear", "negative", "short", "underweight", "sell", "strong sell", "underperform", "pessimistic":
		return Bearish, true
	case "neutral", "hold", "market weight", "market-weight", "equal weight", "equal-weight", "flat", "in line", "in-line":
		return Neutral, true
	case "mixed", "two-sided", "balanced", "bullish/bearish", "bearish/bullish":
		return Mixed, true
	}
	return "", false
}

var scoreRe = lazyre.New(`^(\d+(?:\.\d+)?)\s*(?:/|out of|of)\s*(\d+(?:\.\d+)?)$|^(\d+(?:\.\d+)?)\s*%$|^(\d*\.\d+|[01])$`)

// ParseScore turns a written score into a fraction of 1: "7/10", "7 out of
// 10", "70%" and "0.7" all give 0.7. ok is false when the text is not a
// score or falls outside 0..1; a bare "7" is refused as ambiguous.
func ParseScore(text string) (v float64, ok bool) {
	m := scoreRe().FindStringSubmatch(strings.ToLower(strings.TrimSpace(text)))
	switch {
	case m == nil:
		return 0, false
	case m[1] != "":
		n, _ := strconv.ParseFloat(m[1], 64)
		d, _ := strconv.ParseFloat(m[2], 64)
		if d == 0 {
			return 0, false
		}
		v = n / d
	case m[3] != "":
		n, _ := strconv.ParseFloat(m[3], 64)
		v = n / 100
	default:
		v, _ = strconv.ParseFloat(m[4], 64)
	}
	if v < 0 || v > 1 {
		return 0, false
	}
	return v, true
}

// Quantity is the number a data point's value states, when it states one
// unambiguously. A single figure sets Num, Low and High to the same number;
// a range ("4.14%-4.26%") sets Low and High and leaves Num nil.
type Quantity struct {
	Num, Low, High *float64
	// Unit is "%", "bp", "pp", "x" (a multiple), a currency code ("USD",
	// "EUR", "GBP", "JPY"), a period ("day", "week", "month", "year") or ""
	// for a plain number.
	Unit string
}

var (
	// quantityRe finds one figure: optional currency, the number, an
	// optional scale word and an optional unit.
	quantityRe = lazyre.New(`(?i)(US\$|\$|€|£|¥|\b(?:USD|EUR|GBP|JPY)\s?)?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s?(trillion|billion|million|thousand|tn|bn|mn|mm|[tbmk])\b)?(?:\s?(%|percent\b|per cent\b|bps\b|bp\b|basis points?\b|pp\b|percentage points?\b|x\b|×|months?\b|years?\b|weeks?\b|days?\b))?`)
	rangeSepRe = lazyre.New(`(?i)^\s*(?:-|–|—|to|and)\s*$`)
	parenRe    = lazyre.New(`\([^()]*\)|\[[^\[\]]*\]`)
	monthRe    = lazyre.New(`(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s*$`)
)

type figure struct {
	start, end int
	n          float64
	unit       string
	scaled     bool // had a scale word
}

// ParseQuantity reads the number a value states: "~$700 billion" is 7e11
// USD, "94%" is 94 %, "284 bps" is 284 bp, "13.7X" is 13.7 x, "4.14%-4.26%"
// is the range 4.14..4.26 %. Parenthetical remarks, years and days of the
// month are ignored. When the value states more than one figure, or none,
// ok is false: it never guesses.
func ParseQuantity(value string) (q Quantity, ok bool) {
	s := value
	if strings.ContainsAny(s, "([") { // most values have no remark to drop
		s = parenRe().ReplaceAllString(s, " ")
	}
	var figs []figure
	for _, m := range quantityRe().FindAllStringSubmatchIndex(s, -1) {
		start, end := m[0], m[1]
		numStart := m[4]
		// A figure glued to a word ("Q2", "Mag7") or naming a span
		// ("10-year") is part of a name, not a value.
		if numStart > 0 && isLetter(s[numStart-1]) && m[2] < 0 {
			continue
		}
		if end < len(s) && (isLetter(s[end]) || (s[end] == '-' && end+1 < len(s) && isLetter(s[end+1]))) {
			continue
		}
		numText := strings.ReplaceAll(s[m[4]:m[5]], ",", "")
		n, err := strconv.ParseFloat(numText, 64)
		if err != nil {
			continue
		}
		f := figure{start: start, end: end, n: n}
		if m[2] >= 0 {
			f.unit = currencyCode(s[m[2]:m[3]])
		}
		if m[6] >= 0 {
			f.n *= scaleOf(s[m[6]:m[7]])
			f.scaled = true
		}
		if m[8] >= 0 {
			u := unitOf(s[m[8]:m[9]])
			if f.unit != "" && u != "" {
				continue // "$5%" is not a figure
			}
			if u != "" {
				f.unit = u
			}
		}
		bare := f.unit == "" && !f.scaled
		if bare && n == math.Trunc(n) && n >= 1900 && n <= 2100 && !strings.Contains(numText, ".") {
			continue // a year
		}
		if bare && monthRe().MatchString(s[:start]) {
			continue // a day of the month
		}
		// A minus sign standing alone before the figure makes it negative;
		// one between two figures is a range separator.
		if start > 0 && (s[start-1] == '-') && (start == 1 || s[start-2] == ' ' || s[start-2] == '(') {
			f.n = -f.n
		} else if start >= 3 && s[start-3:start] == "−" {
			f.n = -f.n
		}
		figs = append(figs, f)
	}
	if neg := strings.HasPrefix(strings.ToLower(strings.TrimLeft(s, " ~≈")), "negative "); neg {
		for i := range figs {
			figs[i].n = -math.Abs(figs[i].n)
		}
	}
	switch {
	case len(figs) == 1:
		n := figs[0].n
		return Quantity{Num: &n, Low: &n, High: &n, Unit: figs[0].unit}, true
	case len(figs) == 2 && rangeSepRe().MatchString(s[figs[0].end:figs[1].start]):
		a, b := figs[0], figs[1]
		// "$660-690 billion": the right side's scale and unit apply to both.
		if b.scaled && !a.scaled {
			a.n *= b.n / unscaled(b, s)
		}
		switch {
		case a.unit == "":
			a.unit = b.unit
		case b.unit == "":
			b.unit = a.unit
		}
		if a.unit != b.unit {
			return Quantity{}, false
		}
		lo, hi := math.Min(a.n, b.n), math.Max(a.n, b.n)
		return Quantity{Low: &lo, High: &hi, Unit: a.unit}, true
	}
	return Quantity{}, false
}

// unscaled recovers the number as written before its scale word.
func unscaled(f figure, s string) float64 {
	m := quantityRe().FindStringSubmatch(s[f.start:f.end])
	n, _ := strconv.ParseFloat(strings.ReplaceAll(m[2], ",", ""), 64)
	if f.n < 0 {
		n = -n
	}
	return n
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func currencyCode(sym string) string {
	switch strings.ToUpper(strings.TrimSpace(sym)) {
	case "$", "US$", "USD":
		return "USD"
	case "€", "EUR":
		return "EUR"
	case "£", "GBP":
		return "GBP"
	case "¥", "JPY":
		return "JPY"
	}
	return ""
}

func scaleOf(w string) float64 {
	switch strings.ToLower(w) {
	case "trillion", "tn", "t":
		return 1e12
	case "billion", "bn", "b":
		return 1e9
	case "million", "mn", "mm", "m":
		return 1e6
	case "thousand", "k":
		return 1e3
	}
	return 1
}

func unitOf(w string) string {
	w = strings.ToLower(w)
	switch {
	case w == "%" || strings.HasPrefix(w, "percent") || strings.HasPrefix(w, "per cent"):
		return "%"
	case w == "bp" || w == "bps" || strings.HasPrefix(w, "basis"):
		return "bp"
	case w == "pp" || strings.HasPrefix(w, "percentage"):
		return "pp"
	case w == "x" || w == "×":
		return "x"
	case strings.HasPrefix(w, "month"):
		return "month"
	case strings.HasPrefix(w, "year"):
		return "year"
	case strings.HasPrefix(w, "week"):
		return "week"
	case strings.HasPrefix(w, "day"):
		return "day"
	}
	return ""
}
