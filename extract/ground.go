package extract

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/thesisdb/thesisdb/schema"
)

// FuzzyThreshold is the share of a quote's words that must appear, in one
// window of the text, for a fuzzy match to ground it.
const FuzzyThreshold = 0.8

// Ground locates every data point's quote in text and sets its Ground:
// exact match first, then a match ignoring case, whitespace and
// punctuation, then the best window of words above FuzzyThreshold. A data
// point is grounded when its quote was found and every number in its value
// appears in the passage found. It returns how many data points are not
// grounded.
func Ground(text string, x *schema.Extraction) (ungrounded int) {
	idx := newTextIndex(text)
	for i := range x.Theses {
		for j := range x.Theses[i].DataPoints {
			dp := &x.Theses[i].DataPoints[j]
			g := idx.locate(dp.Quote)
			if g.Method != "" {
				passage := idx.runeSlice(g.Start, g.End)
				g.Grounded = numbersAppear(dp.Value, passage)
			}
			dp.Ground = &g
			if !g.Grounded {
				ungrounded++
			}
		}
	}
	return ungrounded
}

// DropUngrounded removes data points whose Ground says they are not
// grounded, returning how many it removed.
func DropUngrounded(x *schema.Extraction) (dropped int) {
	for i := range x.Theses {
		kept := x.Theses[i].DataPoints[:0]
		for _, dp := range x.Theses[i].DataPoints {
			if dp.Ground != nil && !dp.Ground.Grounded {
				dropped++
				continue
			}
			kept = append(kept, dp)
		}
		x.Theses[i].DataPoints = kept
	}
	return dropped
}

// textIndex holds a text with its normalised form and word list, mapped
// back to rune offsets of the original.
type textIndex struct {
	text     string
	runeOff  []int // byte offset of each rune, plus len(text)
	norm     string
	normRune []int // for each byte of norm, the rune index in text
	words    []word
}

type word struct {
	w          string
	start, end int // rune offsets
}

func newTextIndex(text string) *textIndex {
	t := &textIndex{text: text}
	var nb strings.Builder
	ri := 0
	lastSpace := true
	var cur []rune
	curStart := 0
	flush := func(end int) {
		// A full stop ends a sentence unless it stands between digits.
		for len(cur) > 0 && cur[len(cur)-1] == '.' {
			cur, end = cur[:len(cur)-1], end-1
		}
		for len(cur) > 0 && cur[0] == '.' {
			cur, curStart = cur[1:], curStart+1
		}
		if len(cur) > 0 {
			t.words = append(t.words, word{string(cur), curStart, end})
		}
		cur = cur[:0]
	}
	for bi, r := range text {
		t.runeOff = append(t.runeOff, bi)
		if isWordRune(r) {
			lr := unicode.ToLower(r)
			s := string(lr)
			nb.WriteString(s)
			for range len(s) {
				t.normRune = append(t.normRune, ri)
			}
			lastSpace = false
			if len(cur) == 0 {
				curStart = ri
			}
			cur = append(cur, lr)
		} else {
			if !lastSpace {
				nb.WriteByte(' ')
				t.normRune = append(t.normRune, ri)
				lastSpace = true
			}
			flush(ri)
		}
		ri++
	}
	flush(ri)
	t.runeOff = append(t.runeOff, len(text))
	t.norm = nb.String()
	return t
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '%' || r == '$' || r == '€' || r == '£' || r == '.'
}

func (t *textIndex) runeSlice(start, end int) string {
	return t.text[t.runeOff[start]:t.runeOff[end]]
}

func normalise(s string) string {
	var b strings.Builder
	lastSpace := true
	for _, r := range s {
		if isWordRune(r) {
			b.WriteRune(unicode.ToLower(r))
			lastSpace = false
		} else if !lastSpace {
			b.WriteByte(' ')
			lastSpace = true
		}
	}
	return strings.TrimSpace(b.String())
}

func (t *textIndex) locate(quote string) schema.Grounding {
	quote = strings.TrimSpace(quote)
	if quote == "" {
		return schema.Grounding{}
	}
	if i := strings.Index(t.text, quote); i >= 0 {
		start := utf8.RuneCountInString(t.text[:i])
		return schema.Grounding{Start: start, End: start + utf8.RuneCountInString(quote), Method: "exact"}
	}
	nq := strings.Trim(normalise(quote), ". ")
	if nq == "" {
		return schema.Grounding{}
	}
	if i := strings.Index(t.norm, nq); i >= 0 {
		return schema.Grounding{Start: t.normRune[i], End: t.normRune[i+len(nq)-1] + 1, Method: "normalized"}
	}
	return t.fuzzy(nq)
}

// fuzzy finds the window of len(quote words) text words that shares the
// most words with the quote, counting multiplicity.
func (t *textIndex) fuzzy(nq string) schema.Grounding {
	qw := strings.Fields(nq)
	n := len(qw)
	if n < 3 || len(t.words) < n {
		return schema.Grounding{}
	}
	need := map[string]int{}
	for _, w := range qw {
		need[strings.Trim(w, ".")]++
	}
	have := map[string]int{}
	matched := 0
	add := func(w string, d int) {
		c, ok := need[w]
		if !ok {
			return
		}
		before := min(have[w], c)
		have[w] += d
		matched += min(have[w], c) - before
	}
	best, bestAt := 0, -1
	for i, w := range t.words {
		add(w.w, 1)
		if i >= n {
			add(t.words[i-n].w, -1)
		}
		if i >= n-1 && matched > best {
			best, bestAt = matched, i-n+1
		}
	}
	if bestAt < 0 || float64(best) < FuzzyThreshold*float64(n) {
		return schema.Grounding{}
	}
	// Shrink the window to the words the quote shares at its edges.
	first, last := bestAt, bestAt+n-1
	for first < last && need[t.words[first].w] == 0 {
		first++
	}
	for last > first && need[t.words[last].w] == 0 {
		last--
	}
	return schema.Grounding{Start: t.words[first].start, End: t.words[last].end, Method: "fuzzy"}
}

var numberRe = regexp.MustCompile(`\d+(?:[.,]\d+)*`)

// numbersAppear reports whether every number written in value also appears
// in passage (thousands separators ignored).
func numbersAppear(value, passage string) bool {
	have := map[string]bool{}
	for _, n := range numberRe.FindAllString(passage, -1) {
		have[canonNumber(n)] = true
	}
	for _, n := range numberRe.FindAllString(value, -1) {
		if !have[canonNumber(n)] {
			return false
		}
	}
	return true
}

func canonNumber(n string) string {
	n = strings.ReplaceAll(n, ",", "")
	if strings.Contains(n, ".") {
		n = strings.TrimRight(strings.TrimRight(n, "0"), ".")
	}
	return n
}
