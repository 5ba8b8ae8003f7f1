package llm

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/thesisdb/thesisdb/schema"
)

// block is one paragraph of a document, with whether it opens a section.
type block struct {
	text    string
	heading bool
	tokens  int
}

// paragraphs splits text on blank lines; a short line without a final
// full stop, or a Markdown heading, opens a section.
func paragraphs(text string) []block {
	var out []block
	for _, p := range regexp.MustCompile(`\n[ \t]*\n+`).Split(text, -1) {
		p = strings.Trim(p, "\n")
		if strings.TrimSpace(p) == "" {
			continue
		}
		out = append(out, block{text: p, heading: isHeading(p), tokens: EstimateTokens(p)})
	}
	return out
}

// isHeading guesses whether a paragraph is a section heading.
func isHeading(p string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(p), "\n")
	if strings.HasPrefix(first, "#") {
		return true
	}
	if strings.Contains(p, "\n") || len(first) > 80 || len(first) < 3 {
		return false
	}
	last := rune(first[len(first)-1])
	return !strings.ContainsRune(".,;:!?", last) && unicode.IsUpper(rune(first[0]))
}

// Headings lists the section headings of text, in order, without Markdown
// markers.
func Headings(text string) []string {
	var hs []string
	for _, b := range paragraphs(text) {
		if b.heading {
			first, _, _ := strings.Cut(strings.TrimSpace(b.text), "\n")
			hs = append(hs, strings.TrimSpace(strings.TrimLeft(first, "#")))
		}
	}
	return hs
}

// splitText cuts text into parts of at most maxTokens (estimated), on
// section boundaries when a section starts in the second half of a part,
// else on paragraph boundaries, and inside an over-long paragraph on
// sentence, line or word boundaries. Each part after the first starts with
// up to overlapTokens of the previous part's end, so that a figure cut by
// a boundary is read whole in one of them.
func splitText(text string, maxTokens, overlapTokens int) []string {
	if maxTokens < 16 {
		maxTokens = 16
	}
	overlapTokens = min(overlapTokens, maxTokens/4)
	var blocks []block
	for _, b := range paragraphs(text) {
		if b.tokens <= maxTokens-overlapTokens {
			blocks = append(blocks, b)
			continue
		}
		for i, piece := range splitLong(b.text, maxTokens-overlapTokens) {
			blocks = append(blocks, block{text: piece, heading: b.heading && i == 0, tokens: EstimateTokens(piece)})
		}
	}
	var parts []string
	var cur []string
	curTokens := 0
	flush := func() {
		if len(cur) > 0 {
			parts = append(parts, strings.Join(cur, "\n\n"))
		}
	}
	for _, b := range blocks {
		over := curTokens+b.tokens > maxTokens
		sectionBreak := b.heading && curTokens > maxTokens/2
		if len(cur) > 0 && (over || sectionBreak) {
			flush()
			prev := cur[len(cur)-1]
			cur, curTokens = nil, 0
			if ov := tail(prev, overlapTokens); ov != "" && !b.heading {
				cur, curTokens = []string{ov}, EstimateTokens(ov)
			}
		}
		cur = append(cur, b.text)
		curTokens += b.tokens
	}
	flush()
	return parts
}

var sentenceEnd = regexp.MustCompile(`[.!?]["')\]]?\s+|\n`)

// splitLong cuts one paragraph into pieces of at most maxTokens on
// sentence or line ends, and words when a sentence is too long.
func splitLong(p string, maxTokens int) []string {
	var units []string
	last := 0
	for _, m := range sentenceEnd.FindAllStringIndex(p, -1) {
		units = append(units, p[last:m[1]])
		last = m[1]
	}
	if last < len(p) {
		units = append(units, p[last:])
	}
	var out []string
	var b strings.Builder
	bt := 0
	emit := func() {
		if s := strings.TrimSpace(b.String()); s != "" {
			out = append(out, s)
		}
		b.Reset()
		bt = 0
	}
	for _, u := range units {
		ut := EstimateTokens(u)
		if ut > maxTokens {
			emit()
			for _, w := range strings.SplitAfter(u, " ") {
				wt := EstimateTokens(w)
				if bt+wt > maxTokens {
					emit()
				}
				b.WriteString(w)
				bt += wt
			}
			emit()
			continue
		}
		if bt+ut > maxTokens {
			emit()
		}
		b.WriteString(u)
		bt += ut
	}
	emit()
	return out
}

// tail returns the end of s worth at most maxTokens, starting at a
// sentence or word boundary.
func tail(s string, maxTokens int) string {
	if maxTokens <= 0 {
		return ""
	}
	if EstimateTokens(s) <= maxTokens {
		return s
	}
	start := len(s) - maxTokens*4
	if start < 0 {
		start = 0
	}
	for start < len(s) && !isRuneStart(s[start]) {
		start++
	}
	t := s[start:]
	if i := sentenceEnd.FindStringIndex(t); i != nil && i[1] < len(t)/2 {
		return t[i[1]:]
	}
	if i := strings.IndexByte(t, ' '); i >= 0 {
		return t[i+1:]
	}
	return t
}

// head returns the beginning of s worth at most maxTokens, ending at a
// paragraph, line or word boundary.
func head(s string, maxTokens int) string {
	if EstimateTokens(s) <= maxTokens {
		return s
	}
	end := min(maxTokens*4, len(s))
	for end > 0 && end < len(s) && !isRuneStart(s[end]) {
		end--
	}
	h := s[:end]
	for _, sep := range []string{"\n\n", "\n", " "} {
		if i := strings.LastIndex(h, sep); i > len(h)/2 {
			return h[:i]
		}
	}
	return h
}

// dpKey identifies a data point by what it states: its indicator
// (schema.IndicatorKey) and value, ignoring case, spacing and punctuation.
func dpKey(d schema.DataPoint) string {
	return schema.IndicatorKey(d.Indicator) + "|" + strings.ReplaceAll(schema.IndicatorKey(d.Value), " ", "")
}

// mergeDataPoints concatenates data points, dropping those that state the
// same indicator and value as an earlier one (whose empty fields they
// fill).
func mergeDataPoints(lists ...[]schema.DataPoint) []schema.DataPoint {
	var out []schema.DataPoint
	at := map[string]int{}
	for _, l := range lists {
		for _, d := range l {
			k := dpKey(d)
			if i, ok := at[k]; ok {
				o := &out[i]
				if o.Source == nil {
					o.Source = d.Source
				}
				if o.Implication == nil {
					o.Implication = d.Implication
				}
				if o.Perspective == nil {
					o.Perspective = d.Perspective
				}
				continue
			}
			at[k] = len(out)
			out = append(out, d)
		}
	}
	return out
}

// words returns the set of lower-case words of s longer than 3 letters.
func words(s string) map[string]bool {
	ws := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) > 3 {
			ws[w] = true
		}
	}
	return ws
}

// pick chooses the thesis a data point found in a part belongs to: the
// one holding a view of its perspective, else the one sharing the most
// words with the part's thesis it was found under, else the first.
func pick(theses []schema.Thesis, d schema.DataPoint, context string) int {
	if d.Perspective != nil {
		for i, t := range theses {
			for _, v := range t.Views {
				if strings.EqualFold(v.Perspective, *d.Perspective) {
					return i
				}
			}
		}
	}
	cw := words(context + " " + d.Indicator)
	best, bestScore := 0, 0
	for i, t := range theses {
		score := 0
		for w := range words(t.Title + " " + t.Statement + " " + deref(t.Subject)) {
			if cw[w] {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
