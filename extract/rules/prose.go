package rules

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/thesisdb/thesisdb/internal/lazyre"
	"github.com/thesisdb/thesisdb/schema"
)

// Lexicon is the published list of cue phrases LexiconStance counts, in
// lower case. A trailing "*" matches any word ending ("outperform*" covers
// "outperforms", "outperformed", "outperformance").
var Lexicon = struct{ Bullish, Bearish []string }{
	Bullish: []string{
		"bullish", "outperform*", "upside", "undervalued", "cheap", "cheaper", "cheapest",
		"tailwind*", "room to run", "room to grow", "rally", "rallies", "catch-up", "rebound*",
		"recover*", "attractive*", "opportunit*", "poised", "runway", "benefit*", "favor*", "favour*",
		"boost*", "support*", "upgrade*", "overweight", "accelerat*", "improv*", "resilien*",
		"strong", "strength*", "buy", "beat", "beats", "higher earnings", "re-rating", "rerating",
	},
	Bearish: []string{
		"bearish", "underperform*", "downside", "overvalued", "expensive", "stretched", "headwind*",
		"bubble", "sell-off", "selloff", "decline*", "deteriorat*", "slowdown", "recession*",
		"contraction", "underweight", "downgrade*", "weak*", "lagging", "lags", "drag", "short-lived",
		"disappoint*", "skeptic*", "sceptic*", "vulnerab*", "compress*", "pressure*", "sell",
		"overbought", "de-rating", "derating", "crowded", "worse", "worsen*", "avoid", "delinquen*",
		"reduce exposure", "cautious", "overpriced", "squeeze*",
	},
}

// lexicon is Lexicon compiled for word-by-word matching.
type lexicon struct {
	words   map[string]int   // whole words: +1 bullish, -1 bearish
	stems   map[string]int   // "outperform*" stems
	phrases map[string][]cue // multi-word cues by their first word
	maxStem int
}

type cue struct {
	words []string
	dir   int
}

var lex = sync.OnceValue(func() *lexicon {
	l := &lexicon{words: map[string]int{}, stems: map[string]int{}, phrases: map[string][]cue{}}
	add := func(list []string, dir int) {
		for _, w := range list {
			switch {
			case strings.Contains(w, " "):
				f := strings.Fields(w)
				l.phrases[f[0]] = append(l.phrases[f[0]], cue{f, dir})
			case strings.HasSuffix(w, "*"):
				st := strings.TrimSuffix(w, "*")
				l.stems[st] = dir
				l.maxStem = max(l.maxStem, len(st))
			default:
				l.words[w] = dir
			}
		}
	}
	add(Lexicon.Bullish, 1)
	add(Lexicon.Bearish, -1)
	return l
})

// negators cancel a cue that follows them within three words.
var negators = map[string]bool{"not": true, "no": true, "never": true, "without": true, "hardly": true,
	"isn't": true, "aren't": true, "won't": true, "don't": true, "doesn't": true, "lack": true}

// isWordRune reports whether r belongs to a word: letters, digits,
// hyphens and apostrophes, so "buy-now-pay-later" is one word and never
// the cue "buy".
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '\'' || r == '’'
}

// nextWord returns the first word of text at or after byte pos, lower-cased
// with typographic apostrophes made straight, and the position after it;
// ok is false when no word is left. Words are read one at a time, so
// counting the cues of a long text holds no list of its words.
func nextWord(text string, pos int) (w string, end int, ok bool) {
	for pos < len(text) {
		r, sz := utf8.DecodeRuneInString(text[pos:])
		if isWordRune(r) {
			break
		}
		pos += sz
	}
	if pos >= len(text) {
		return "", pos, false
	}
	end = pos
	for end < len(text) {
		r, sz := utf8.DecodeRuneInString(text[end:])
		if !isWordRune(r) {
			break
		}
		end += sz
	}
	w = text[pos:end]
	if strings.Contains(w, "’") {
		w = strings.ReplaceAll(w, "’", "'")
	}
	return strings.ToLower(w), end, true
}

// cueCount counts the bullish and bearish cues in text, ignoring cues one
// of the three words before negates ("not cheap", "not forecasting a
// recession") and cues that are part of a hyphenated word ("buy-now").
func cueCount(text string) (bull, bear int) {
	var prev [3]string // the three words before the current one, oldest first
	skip := 0          // words of a matched phrase still to pass over
	for w, pos, ok := nextWord(text, 0); ok; w, pos, ok = nextWord(text, pos) {
		dir, n := 0, 0
		if skip > 0 {
			skip--
		} else {
			dir, n = lex().match(w, text, pos)
		}
		if dir != 0 {
			if !negators[prev[0]] && !negators[prev[1]] && !negators[prev[2]] {
				if dir > 0 {
					bull++
				} else {
					bear++
				}
			}
			skip = n - 1
		}
		prev[0], prev[1], prev[2] = prev[1], prev[2], w
	}
	return bull, bear
}

// match returns the direction of the cue starting with word w (0 when
// none), whose following words are read from text at pos, and how many
// words it spans.
func (l *lexicon) match(w, text string, pos int) (dir, n int) {
	for _, c := range l.phrases[w] {
		ok, p := true, pos
		for _, cw := range c.words[1:] {
			var next string
			next, p, ok = nextWord(text, p)
			if !ok || next != cw {
				ok = false
				break
			}
		}
		if ok {
			return c.dir, len(c.words)
		}
	}
	if d, ok := l.words[w]; ok {
		return d, 1
	}
	for k := min(len(w), l.maxStem); k >= 3; k-- {
		if d, ok := l.stems[w[:k]]; ok {
			return d, 1
		}
	}
	return 0, 0
}

// LexiconStance is the stance of free prose by counting Lexicon cues:
// fewer than 3 cues in all is neutral; otherwise bullish when bullish cues
// are at least twice the bearish ones, bearish in the opposite case, and
// mixed in between. It is a shallow reading, so the extractor reports no
// confidence for it (confidence stays null, as the text states none).
func LexiconStance(text string) schema.Stance {
	b, r := cueCount(text)
	switch {
	case b+r < 3:
		return schema.Neutral
	case b >= 2*r:
		return schema.Bullish
	case r >= 2*b:
		return schema.Bearish
	}
	return schema.Mixed
}

// proseTitle is the document's title: doc.Title when the loader found one
// (front matter, a Markdown heading, an HTML title) or the first line has
// two words or more, else the first line that has, skipping page furniture
// such as a lone "close".
func proseTitle(doc *schema.Document, lines []string) string {
	first := ""
	if len(lines) > 0 {
		first = lines[0]
	}
	if t := strings.TrimSpace(doc.Title); t != "" && (t != first || countWords(t, 2) >= 2) {
		return t
	}
	for _, raw := range lines {
		l := parseLine(raw)
		if w := countWords(l.text, 26); w >= 2 && w <= 25 {
			return l.text
		}
	}
	if t := strings.TrimSpace(doc.Title); t != "" {
		return t
	}
	return first
}

// thesisCueRe matches the phrases with which authors state their thesis.
var thesisCueRe = lazyre.New(`(?i)\b(?:(?:I|we)(?:'m|’m|'re|’re| am| are)? (?:believe|think|expect|argue|remain|see|are (?:bullish|bearish|positive|negative|constructive|cautious))|our (?:thesis|view|call|base case)|the thesis|in (?:our|my) view)\b`)

// proseStatement picks the statement: the first sentence that states a
// thesis in so many words ("I believe", "we expect", "our thesis"); else the
// sentence with the most stance cues (at least two); else the first
// sentence of the first paragraph of 15 words or more. Questions and list
// items are passed over.
func proseStatement(lines []string) string {
	var best, found string
	bestCues := 1
	var firstLong string
	for _, raw := range lines {
		l := parseLine(raw)
		if l.text == "" || isListItem(l.raw) || l.heading > 0 {
			continue
		}
		long := countWords(l.text, 15) >= 15
		eachSentence(l.raw, func(s string) bool {
			// Questions are no thesis, nor is a "sentence" longer than
			// any paragraph (text without punctuation).
			if strings.HasSuffix(s, "?") || len(s) > maxPassage {
				return true
			}
			if thesisCueRe().MatchString(s) {
				found = s
				return false
			}
			b, r := cueCount(s)
			if b+r > bestCues {
				best, bestCues = s, b+r
			}
			if long && firstLong == "" {
				firstLong = s
			}
			return true
		})
		if found != "" {
			return found
		}
	}
	if best != "" {
		return best
	}
	return firstLong
}

func isListItem(s string) bool {
	if strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "* ") || strings.HasPrefix(s, "• ") {
		return true
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')')
}

var (
	// stmtHorizonRe finds a horizon in a thesis statement: "over
	// 2025-2030", "over the next 12 to 24 months", "by 2030".
	stmtHorizonRe = lazyre.New(`(?i)\b(?:over|through|across|during|within|in|for)\s+(?:the\s+)?(?:next\s+|coming\s+)?(\d{4}\s*[-–]\s*\d{4}|\d+\s*(?:[-–]|to)\s*\d+\s+(?:months|years|quarters)|\d+\s+(?:months|years|quarters))\b|\b(?:by|through|until)\s+(20\d\d)\b`)
	// fwdHorizonRe finds a forward-looking span in prose: "in the 12 to 24
	// months following", "over the next 3 years".
	fwdHorizonRe = lazyre.New(`(?i)\b(\d+\s*(?:[-–]|to)\s*\d+\s+(?:months|years))\s+(?:following|after|ahead)\b|\b(?:next|coming)\s+(\d+(?:\s*(?:[-–]|to)\s*\d+)?\s+(?:months|years))\b`)
	rangeToRe    = lazyre.New(`\s*(?:to|–|-)\s*`)
)

// horizonIn returns the horizon a statement names, ranges written "a-b".
func horizonIn(s string) *string {
	if !strings.ContainsAny(s, "0123456789") { // every horizon has a figure
		return nil
	}
	m := stmtHorizonRe().FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	h := m[1]
	if h == "" {
		h = m[2]
	}
	return normHorizon(h)
}

// forwardHorizon returns the first forward-looking span the prose names.
func forwardHorizon(lines []string) *string {
	for _, raw := range lines {
		if !strings.ContainsAny(raw, "0123456789") {
			continue
		}
		l := parseLine(raw)
		if m := fwdHorizonRe().FindStringSubmatch(l.text); m != nil {
			if m[1] != "" {
				return normHorizon(m[1])
			}
			return normHorizon(m[2])
		}
	}
	return nil
}

func normHorizon(h string) *string {
	num, unit, _ := strings.Cut(strings.TrimSpace(h), " ")
	if unit == "" {
		out := rangeToRe().ReplaceAllString(num, "-")
		return &out
	}
	// "12 to 24 months": the number part is everything but the last word.
	f := strings.Fields(h)
	num = strings.Join(f[:len(f)-1], " ")
	out := rangeToRe().ReplaceAllString(num, "-") + " " + f[len(f)-1]
	return &out
}

// abbreviations end in a full stop without ending a sentence.
var abbreviations = map[string]bool{
	"vs": true, "e.g": true, "i.e": true, "mr": true, "mrs": true, "ms": true, "dr": true,
	"inc": true, "corp": true, "co": true, "ltd": true, "no": true, "st": true, "u.s": true,
	"u.k": true, "approx": true, "est": true, "fig": true, "jan": true, "feb": true, "mar": true,
	"apr": true, "jun": true, "jul": true, "aug": true, "sep": true, "sept": true, "oct": true,
	"nov": true, "dec": true, "p": true, "pp": true, "cf": true, "al": true,
}

// sentences splits a line into sentences, each a verbatim substring of it:
// a sentence ends at ".", "!" or "?" (and any closing quote) followed by
// space and an upper-case letter, digit or quote, unless the word before
// the full stop is an abbreviation or an initial.
func sentences(s string) []string {
	var out []string
	eachSentence(s, func(seg string) bool {
		out = append(out, seg)
		return true
	})
	return out
}

// eachSentence calls yield with each sentence of s in turn (see sentences)
// until it returns false.
func eachSentence(s string, yield func(string) bool) {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		end := i + 1
		for end < len(s) && strings.ContainsRune(`"')”’`, rune(s[end])) {
			end++
		}
		for end < len(s) && (s[end] == 0xe2) { // closing ” or ’ (3 bytes)
			r, sz := utf8.DecodeRuneInString(s[end:])
			if r != '”' && r != '’' {
				break
			}
			end += sz
		}
		if end >= len(s) || s[end] != ' ' {
			continue
		}
		j := end
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j >= len(s) {
			continue
		}
		r, _ := utf8.DecodeRuneInString(s[j:])
		if !(unicode.IsUpper(r) || unicode.IsDigit(r) || r == '"' || r == '“' || r == '(' || r == '$') {
			continue
		}
		if c == '.' {
			w := s[max(start, i-16):i] // abbreviations are short
			if k := strings.LastIndexAny(w, " (\t"); k >= 0 {
				w = w[k+1:]
			}
			lw := strings.ToLower(w)
			if abbreviations[lw] || (len(w) == 1 && unicode.IsUpper(rune(w[0]))) {
				continue
			}
		}
		if seg := strings.TrimSpace(s[start:end]); seg != "" {
			if !yield(seg) {
				return
			}
		}
		start = j
		i = j - 1
	}
	if seg := strings.TrimSpace(s[start:]); seg != "" {
		yield(seg)
	}
}

const (
	numPat   = `(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?`
	signPat  = `[~≈+±−-]?`
	currPat  = `(?:US\$|C\$|A\$|\$|€|£|¥)`
	scalePat = `(?:\s?(?:trillion|billion|million|thousand|tn|bn|mn)\b|[TBMKbmk]\b)?`
	unitPat  = `(?:\s?(?:%|percent\b|per cent\b|bps\b|bp\b|basis points?\b|pp\b|percentage points?\b|[xX]\b|×))`
)

var (
	// figureRe finds the figures prose data points are made of: currency
	// amounts, percentages, basis points, percentage points and multiples
	// (each possibly a range), and ranges of months or years. Bare
	// numbers (years, list numbers, names like "Russell 2000") never match.
	figureRe = lazyre.New(
		signPat + currPat + numPat + scalePat + `(?:\s?(?:-|–|to)\s?` + currPat + `?` + numPat + scalePat + `)?\+?` +
			`|` + signPat + numPat + unitPat + `?(?:\s?(?:-|–|to)\s?` + signPat + numPat + `\+?)?` + unitPat + `\+?` +
			`|` + numPat + `\s?(?:-|–|to)\s?` + numPat + `\s(?:months|years|weeks|quarters)\b`)
	// peRe finds P/E ratios written without an "x": "a P/E of 18", "the
	// forward P/E ratio for the index is 21.5"; group 1 names the ratio.
	peRe = lazyre.New(`((?:(?i:forward|trailing)\s+)?P/E(?:\s+ratio)?(?:\s+(?:for|of)\s+[^,.;:]{1,40}?)?)\s+(?:of|is|at|was|near|around|stands at)\s+(~?` + numPat + `[xX]?)`)
	// joinRe is the text between two figures that makes them one value:
	// "5% to perhaps 3% or 4%", "18.0% vs. 10.8%", "4.14% and 4.26%".
	joinRe = lazyre.New(`^(?:\s*,)?\s*(?:to|or|and|vs\.?|versus|-|–|/)(?:\s+(?:perhaps|possibly|maybe|just|about|around|roughly|as much as))?\s*$`)
)

// span is a figure's place in its sentence; hint, when set, is the
// indicator the pattern that found it names.
type span struct {
	start, end int
	hint       string
}

// maxValue is the longest figure read as a value: a longer run of digits
// is not a figure anyone states.
const maxValue = 100

// figures returns the figure spans of a sentence, merged where a short
// connector joins them into one value: the first limit of them, and more
// = true when the sentence may state further figures.
func figures(s string, limit int) (spans []span, more bool) {
	// Figures are searched one at a time, so that a sentence of a million
	// figures is read no further than the limit needs (joined figures
	// make one value, hence the margin).
	rawLimit := 2*limit + 2
	scanned := len(s)
	// A figure that touches a run of digits longer than maxValue holds
	// all of it (numbers are matched greedily) and is dropped: search up
	// to the next such run only, then skip it, so that the regular
	// expression never crawls through megabytes of digits.
	runAt, runLen := longDigitRun(s)
	for pos := 0; pos < len(s); {
		if runAt >= 0 && runAt+runLen <= pos {
			if runAt, runLen = longDigitRun(s[pos:]); runAt >= 0 {
				runAt += pos
			}
		}
		seg, skip := s[pos:], 0
		if runAt >= 0 {
			seg, skip = s[pos:max(pos, runAt)], runAt+runLen-max(pos, runAt)
		}
		m := figureRe().FindStringIndex(seg)
		if m == nil {
			if skip == 0 {
				break
			}
			pos += len(seg) + skip
			continue
		}
		a, b := pos+m[0], pos+m[1]
		pos = b
		if a > 0 {
			r, _ := utf8.DecodeLastRuneInString(s[:a])
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '/' || r == '.' {
				continue // "Q2", "Mag7", "H1": part of a name
			}
		}
		if b-a > maxValue {
			continue
		}
		spans = append(spans, span{start: a, end: b})
		if len(spans) == rawLimit {
			scanned, more = b, true
			break
		}
	}
	if strings.Contains(s[:scanned], "P/E") {
		// P/E ratios written without an "x", where no figure stands.
		fig := spans
		for _, m := range peRe().FindAllStringSubmatchIndex(s[:scanned], -1) {
			a, b := m[4], m[5]
			// The first figure ending after a; the P/E value overlaps a
			// figure when that one starts before b.
			k := sort.Search(len(fig), func(k int) bool { return fig[k].end > a })
			if k < len(fig) && fig[k].start < b {
				continue
			}
			spans = append(spans, span{start: a, end: b, hint: s[m[2]:m[3]]})
		}
	}
	spans = mergeSpans(s, spans)
	if len(spans) > limit {
		spans, more = spans[:limit], true
	}
	return spans, more
}

// longDigitRun finds the first run of more than maxValue ASCII digits in
// s: its offset and length, or -1.
func longDigitRun(s string) (at, n int) {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		if run > maxValue {
			return i - run, run
		}
		run = 0
	}
	if run > maxValue {
		return len(s) - run, run
	}
	return -1, 0
}

// mergeSpans sorts spans and joins those a short connector links.
func mergeSpans(s string, spans []span) []span {
	if len(spans) < 2 {
		return spans
	}
	slices.SortStableFunc(spans, func(a, b span) int { return a.start - b.start })
	merged := spans[:1]
	for _, sp := range spans[1:] {
		last := &merged[len(merged)-1]
		if joinRe().MatchString(s[last.end:sp.start]) {
			last.end = sp.end
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

// proseDataPoints returns a data point for every figure stated in the
// prose lines, each quoting its sentence, up to maxPoints of them; cut
// reports that the limit left figures out. perspectiveAt gives the
// research perspective of a line (nil: none).
func proseDataPoints(lines []string, perspectiveAt func(int) string, maxPoints int) (out []schema.DataPoint, cut bool) {
	for i, raw := range lines {
		if cut {
			break
		}
		if !strings.ContainsAny(raw, "0123456789") {
			continue
		}
		var persp *string
		if perspectiveAt != nil {
			if p := perspectiveAt(i); p != "" {
				persp = &p
			}
		}
		eachSentence(raw, func(s string) bool {
			if !strings.ContainsAny(s, "0123456789") {
				return true
			}
			if len(out) == maxPoints {
				// Full: the limit cut something if a figure is left.
				if sp, _ := figures(s, 1); len(sp) > 0 {
					cut = true
					return false
				}
				return true
			}
			spans, more := figures(s, maxPoints-len(out))
			if len(spans) == 0 {
				cut = more
				return !more
			}
			// The source is the sentence's, or for a sentence too long
			// to quote whole, that of the passage quoted.
			var src *string
			if len(s) <= maxQuote {
				src = sourceOf(s)
			}
			prev := ""
			for _, sp := range spans {
				ind := indicatorFor(s, sp, prev)
				prev = ind
				q := quoteFor(s, sp)
				if len(s) > maxQuote {
					src = sourceOf(q)
				}
				out = append(out, schema.DataPoint{
					Indicator:   ind,
					Value:       strings.TrimSpace(s[sp.start:sp.end]),
					Source:      src,
					Perspective: persp,
					Quote:       q,
				})
			}
			cut = more
			return !more
		})
	}
	return out, cut
}

// maxQuote is the longest sentence quoted whole; past it (text without
// punctuation, say) the quote is the words around the figure.
const maxQuote = 600

// quoteFor is the verbatim passage quoted for the figure at sp: its
// sentence, or for an overlong sentence the words within about 250 bytes
// of the figure.
func quoteFor(s string, sp span) string {
	if len(s) <= maxQuote {
		return s
	}
	a, b := max(0, sp.start-250), min(len(s), sp.end+250)
	if a > 0 {
		if k := strings.IndexByte(s[a:sp.start], ' '); k >= 0 {
			a += k + 1
		} else {
			a = sp.start
		}
	}
	if b < len(s) {
		if k := strings.LastIndexByte(s[sp.end:b], ' '); k >= 0 {
			b = sp.end + k
		} else {
			b = sp.end
		}
	}
	return strings.TrimSpace(s[a:b])
}

var (
	sourceParenRe = lazyre.New(`\((?i:source|sources)\s*:\s*([^)]+)\)`)
	accordingRe   = lazyre.New(`(?i)\baccording to\s+([^,;()]+?)(?:[,;()]|\.\s|\.$|$)`)
	perRe         = lazyre.New(`\b(?:per|via)\s+([A-Z][\w&'’.-]*(?:\s+(?:[A-Z][\w&'’.-]*|&))*)`)
	saidRe        = lazyre.New(`\b(noted|notes|reported|reports|said|says|estimated|estimates|expects|expected|forecasts|projects|projected|found|finds|data shows?|data showed)\b`)
	sourceTrimRe  = lazyre.New(`(?i)^(?:the|a|an|same|latest|recent|new)\s+`)
	sourceTailRe  = lazyre.New(`\s+(?:report|survey|data|note|analysis|study|estimates?)$`)
)

// genericSubjects are sentence subjects that are not sources.
var genericSubjects = map[string]bool{
	"i": true, "we": true, "they": true, "it": true, "this": true, "that": true, "the": true,
	"a": true, "an": true, "but": true, "and": true, "however": true, "meanwhile": true, "also": true,
	"in": true, "as": true, "investors": true, "analysts": true, "economists": true, "strategists": true,
	"markets": true, "some": true, "many": true, "most": true, "while": true, "so": true,
}

// sourceOf returns who a sentence attributes its figures to: "(Source:
// X)", "according to X", "per X" or "X noted/reported/said/expects".
func sourceOf(s string) *string {
	clean := func(v string) *string {
		v = strings.TrimSpace(v)
		for {
			t := sourceTrimRe().ReplaceAllString(v, "")
			if t == v {
				break
			}
			v = t
		}
		if t := sourceTailRe().ReplaceAllString(v, ""); t != "" && strings.ContainsAny(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			v = t
		}
		v = strings.TrimRight(strings.TrimSpace(v), ".")
		if v == "" || !strings.ContainsAny(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			return nil
		}
		return &v
	}
	lower := strings.ToLower(s)
	if strings.Contains(lower, "source") {
		if m := sourceParenRe().FindStringSubmatch(s); m != nil {
			return clean(m[1])
		}
	}
	if strings.Contains(lower, "according") {
		if m := accordingRe().FindStringSubmatch(s); m != nil {
			if v := clean(m[1]); v != nil {
				return v
			}
		}
	}
	if m := perRe().FindStringSubmatch(s); m != nil {
		return clean(m[1])
	}
	for _, m := range saidRe().FindAllStringIndex(s, -1) {
		// The subject is a few words: read it from the text just before
		// the verb, so that a sentence of many verbs costs linear time.
		words := strings.Fields(s[max(0, m[0]-phraseWindow):m[0]])
		k := len(words)
		for k > 0 {
			w := strings.Trim(words[k-1], ",;:")
			if w != words[k-1] {
				break
			}
			r, _ := utf8.DecodeRuneInString(w)
			if !unicode.IsUpper(r) && w != "&" {
				break
			}
			k--
		}
		for k < len(words) && genericSubjects[strings.ToLower(words[k])] {
			k++
		}
		if k < len(words) && len(words)-k <= 5 {
			v := strings.Join(words[k:], " ")
			return &v
		}
	}
	return nil
}

// stopWords end an indicator phrase: articles, pronouns, auxiliaries,
// common verbs, conjunctions and prepositions other than "of".
var stopWords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the this that these those it its their his her our my your we i they you he she
		is are was were be been being has have had will would could should may might can do does did
		noted said reported says notes saw sees see expects expect expected estimates estimated shows show showed
		and or but while with as because since when where which who whom whose if so than then also just only
		to in on at by for from into over under after before per according via about around across through
		up down rose fell gained lost grew increased decreased declined dropped climbed jumped slipped surged
		roughly approximately nearly almost some any each every all most many much more less same
		earning earned returned trading traded trade stands stood reached hit totaled totalled averaged
		translates translate translated means mean meant leaves left gives give gave makes make made
		there here now currently still even already yet very too next below above well beyond versus vs
		found find finds slowed fallen risen grown grow rise fall sits sit remained remains stayed stays
		cut widened narrowed eased expanded contracted soared plunged tumbled edged trades looks near
		stand add adds added sits sat takes accounts account represents represent equals equal implies imply`) {
		m[w] = true
	}
	return m
})

// metricNouns, right after a figure, name what it measures ("a 33% EPS
// boost", "a 22% discount").
var metricNouns = map[string]bool{
	"boost": true, "advantage": true, "discount": true, "premium": true, "increase": true,
	"decrease": true, "decline": true, "drop": true, "gain": true, "gains": true, "rise": true,
	"growth": true, "return": true, "returns": true, "yield": true, "margin": true, "margins": true,
	"share": true, "stake": true, "cut": true, "cuts": true, "hike": true, "hikes": true, "upside": true,
	"downside": true, "rally": true, "jump": true, "fall": true, "spread": true,
	"improvement": true, "contraction": true, "expansion": true, "rate": true, "weighting": true,
	"allocation": true, "correction": true, "slump": true, "surge": true, "shortfall": true, "surplus": true,
	"deficit": true, "haircut": true,
}

// indicatorFor names what the figure at sp measures: the noun phrase
// after it when that starts with a measure word or an acronym ("33% EPS
// boost"), "share of X" for "n% of X", else the noun phrase before it in
// its clause ("a Nasdaq 100 P/E ratio of 31.89X"), else the phrase after
// it, else what it is an amount of, else the previous figure's indicator,
// else the sentence's subject.
func indicatorFor(s string, sp span, prev string) string {
	if sp.hint != "" {
		return sp.hint
	}
	before := s[max(0, sp.start-phraseWindow):sp.start]
	after := s[sp.end:min(len(s), sp.end+phraseWindow)]
	right := phraseAfter(after)
	if right != "" {
		first := strings.Fields(right)[0]
		if metricNouns[strings.ToLower(first)] || isAcronym(first) {
			return right
		}
	}
	ofPhrase := ""
	if rest, ok := strings.CutPrefix(strings.TrimSpace(after), "of "); ok {
		ofPhrase = phraseAfter(rest)
	}
	// "40% of users": a share of something.
	if ofPhrase != "" && strings.HasSuffix(s[sp.start:sp.end], "%") {
		return "share of " + ofPhrase
	}
	if left := phraseBefore(before); left != "" {
		return left
	}
	if right != "" {
		return right
	}
	// "25 basis points of steepening": what the figure is an amount of.
	if ofPhrase != "" {
		return ofPhrase
	}
	if prev != "" {
		return prev
	}
	if subj := subjectOf(s[:min(len(s), phraseWindow)]); subj != "" {
		return subj
	}
	return "figure"
}

// pastTense reports whether w looks like a lower-case past-tense verb
// ("bottomed", "climbed"), which ends no noun phrase.
func pastTense(w string) bool {
	return len(w) > 4 && strings.HasSuffix(w, "ed") && w == strings.ToLower(w)
}

// phraseWindow bounds, in bytes, the text around a figure that indicator
// phrases are taken from, so that a huge sentence costs linear time. A cut
// inside a multi-byte rune only garbles the far end of the window.
const phraseWindow = 200

func isAcronym(w string) bool {
	up := 0
	for _, r := range w {
		if unicode.IsUpper(r) {
			up++
		} else if unicode.IsLower(r) {
			continue
		} else if r != '/' && r != '&' {
			return false
		}
	}
	return up >= 2
}

// tokens splits text into words, trimming the punctuation around them but
// keeping that inside ("P/E", "(XLU)", "S&P").
func tokens(s string) []string {
	f := strings.Fields(s)
	out := f[:0]
	for _, w := range f {
		w = strings.TrimRight(w, ",.;:!?\"”’")
		w = strings.TrimLeft(w, "\"“‘")
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// clauseBreak reports whether a rune ends a clause for phrase purposes.
func clauseBreak(r rune) bool { return strings.ContainsRune(",;:—–!?", r) }

// phraseBefore is the noun phrase that ends just before a figure, within
// its clause, with trailing connectors ("was", "up just", "of") removed.
func phraseBefore(s string) string {
	if k := strings.LastIndexFunc(s, clauseBreak); k >= 0 {
		_, sz := utf8.DecodeRuneInString(s[k:])
		s = s[k+sz:]
	}
	w := tokens(s)
	for len(w) > 0 && (stopWords()[strings.ToLower(w[len(w)-1])] || w[len(w)-1] == "of" || pastTense(w[len(w)-1])) {
		w = w[:len(w)-1]
	}
	k := len(w)
	for k > 0 && len(w)-k < 6 && !stopWords()[strings.ToLower(w[k-1])] {
		k--
	}
	w = w[k:]
	for len(w) > 0 && w[0] == "of" {
		w = w[1:]
	}
	return strings.Join(w, " ")
}

// phraseAfter is the noun phrase that starts right after a figure: words
// up to the first stop word or clause break, at most five.
func phraseAfter(s string) string {
	if k := strings.IndexFunc(s, func(r rune) bool { return clauseBreak(r) || r == '(' }); k >= 0 {
		s = s[:k]
	}
	var out []string
	for _, w := range tokens(s) {
		lw := strings.ToLower(w)
		if (stopWords()[lw] && !metricNouns[lw]) || len(out) >= 5 {
			break
		}
		if lw == "of" && len(out) == 0 {
			break
		}
		if strings.ContainsAny(w, "0123456789") && len(out) == 0 {
			break // "13.7X 2024 FFO": a year is not the measure
		}
		out = append(out, w)
	}
	for len(out) > 0 && out[len(out)-1] == "of" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, " ")
}

// subjectOf is the first noun phrase of a sentence: its leading stop words
// skipped, then words up to the next stop word (keeping "of" and "into").
func subjectOf(s string) string {
	w := tokens(s)
	i := 0
	for i < len(w) && stopWords()[strings.ToLower(w[i])] {
		i++
	}
	var out []string
	for ; i < len(w) && len(out) < 6; i++ {
		lw := strings.ToLower(w[i])
		if (stopWords()[lw] && lw != "into") || strings.ContainsAny(w[i], "0123456789%$") {
			break
		}
		out = append(out, w[i])
	}
	for len(out) > 0 && (out[len(out)-1] == "of" || out[len(out)-1] == "into") {
		out = out[:len(out)-1]
	}
	return strings.Join(out, " ")
}
