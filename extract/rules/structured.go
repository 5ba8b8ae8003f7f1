package rules

import (
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/thesisdb/thesisdb/internal/lazyre"
	"github.com/thesisdb/thesisdb/schema"
)

// note is what the structured reading found in a document. Fields stay
// zero when the document does not state them.
type note struct {
	title, statement       string
	stance                 schema.Stance
	confidence, conviction *float64
	horizon                *string
	author, published      *string
	sections               []*section
	points                 []schema.DataPoint
	// maxPoints bounds points; pointsCut is set when a data point was
	// left out for it.
	maxPoints int
	pointsCut bool
	// sectionAt holds, for each section, the index of the line that opens
	// it, in increasing order.
	sectionAt []int
	// moreSections counts the sections past maxViews, read into spare.
	moreSections int
	spare        section
}

// addPoint keeps p unless the note holds its maximum of data points.
func (n *note) addPoint(p schema.DataPoint) {
	if len(n.points) >= n.maxPoints {
		n.pointsCut = true
		return
	}
	n.points = append(n.points, p)
}

// perspectiveAt is the perspective of the research section line i sits
// in ("" before the first section).
func (n *note) perspectiveAt(i int) string {
	k := sort.Search(len(n.sectionAt), func(k int) bool { return n.sectionAt[k] > i })
	if k == 0 {
		return ""
	}
	return n.sections[k-1].perspective
}

// structured reports whether the document has any research-note structure.
func (n *note) structured() bool {
	return n.stance != "" || len(n.sections) > 0 || len(n.points) > 0 || n.conviction != nil || n.confidence != nil
}

// section is one research perspective ("Rates Research") of a note.
type section struct {
	perspective            string
	stance                 schema.Stance
	confidence, conviction *float64
	horizon, summary, asOf *string
	text                   []string // its prose lines, for the lexicon
}

var (
	// researchRe matches a perspective heading: "Rates Research",
	// "## Credit View", "Equity Perspective".
	researchRe = lazyre.New(`^([A-Za-z][A-Za-z&/\- ]{0,30}?)\s+(?:Research|Views?|Perspective)$`)
	// horizonRe matches a horizon as research platforms write it.
	horizonRe = lazyre.New(`(?i)^(?:(?:\d+\s*[-–]\s*\d+|\d+\+?|<\s*\d+)\s*(?:years?|yrs?|months?|mos?|weeks?|days?|quarters?)|(?:short|medium|long|near)[- ]term)$`)
	tagRe     = lazyre.New(`^[a-z]+(?:[ -][a-z]+){0,2}$`)
	entriesRe = lazyre.New(`(?i)^\(\d+ entr(?:y|ies)\)$`)
	kvRe      = lazyre.New(`(?i)^(?:[-*•]\s+)?(indicator|metric|value|source|implication)\s*:\s*(.*)$`)
	fieldRe   = lazyre.New(`(?i)^(confidence|conviction|horizon|time horizon|stance|rating|by|author|updated|last updated|published|date|thesis|statement)\s*:\s*(.*)$`)
	// byRe matches "By Jane Doe" bylines without a colon.
	byRe      = lazyre.New(`^By\s+([A-Z][\p{L}.'’-]*(?:\s+[A-Z][\p{L}.'’-]*){0,4})$`)
	updatedRe = lazyre.New(`(?i)^(?:last\s+)?(?:updated|published|posted)\s*(?:on\s*)?:?\s*(.+)$`)
	boldDPRe  = lazyre.New(`^[-*+•]\s+\*\*([^*]+?):?\*\*\s*:?\s*(.+)$`)
	srcParRe  = lazyre.New(`\((?i:source|sources|src)\s*:\s*([^)]+)\)`)
	sepRowRe  = lazyre.New(`^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$`)
)

// skipLines are section furniture that carries no content.
var skipLines = map[string]bool{
	"key data points": true, "data points": true, "key data": true, "sources": true,
	"source": true, "references": true, "close": true,
}

// parseNote reads the research-note structure of lines, keeping at most
// maxPoints data points. It never fails: what it does not recognise is
// left to the prose reading.
func parseNote(lines []string, maxPoints int) *note {
	n := &note{maxPoints: maxPoints}
	var (
		cur          *section
		dp           *schema.DataPoint
		table        *tableCols
		pending      string // field whose value is on the next line
		afterBadge   bool   // the previous line was a badge (tags may follow)
		headerStance bool
		headerHeader string // a Markdown "# " title in the header
		// Header prose lines that may give a structured note its title and
		// statement (see the end): the first line of 2 to 20 words, the
		// first of 6 words or more after it, and the first of 6 or more.
		titleCand, stmtAfterTitle, firstSix string
	)
	persp := func() *string {
		if cur == nil {
			return nil
		}
		p := cur.perspective
		return &p
	}
	flush := func() {
		if dp != nil && strings.TrimSpace(dp.Indicator) != "" && strings.TrimSpace(dp.Value) != "" && dp.Quote != "" {
			n.addPoint(*dp)
		}
		dp = nil
	}
	setScore := func(dst **float64, v string) {
		if f, ok := schema.ParseScore(v); ok {
			*dst = &f
		}
	}
	// field applies one "key: value" field to the current section or the
	// header; unknown keys and unreadable values are ignored.
	field := func(key, val string) {
		key = strings.ToLower(key)
		val = strings.TrimSpace(val)
		switch key {
		case "confidence":
			if cur != nil {
				setScore(&cur.confidence, val)
			} else {
				setScore(&n.confidence, val)
			}
		case "conviction":
			if cur != nil {
				setScore(&cur.conviction, val)
			} else {
				setScore(&n.conviction, val)
			}
		case "horizon", "time horizon":
			if val == "" {
				return
			}
			if cur != nil {
				cur.horizon = &val
			} else {
				n.horizon = &val
			}
		case "stance", "rating":
			st, h, ok := parseBadge(val)
			if !ok {
				if s, ok2 := schema.ParseStance(val); ok2 {
					st, ok = s, true
				}
			}
			if !ok {
				return
			}
			if cur != nil {
				cur.stance = st
				if h != "" && cur.horizon == nil {
					cur.horizon = &h
				}
			} else {
				n.stance, headerStance = st, true
				if h != "" && n.horizon == nil {
					n.horizon = &h
				}
			}
		case "by", "author":
			if val != "" && n.author == nil {
				n.author = &val
			}
		case "updated", "last updated", "published", "date":
			if d := normDate(val); d != nil {
				if cur != nil && cur.asOf == nil {
					cur.asOf = d
				} else if n.published == nil {
					n.published = d
				}
			}
		case "thesis", "statement":
			if val != "" && n.statement == "" {
				n.statement = val
			}
		}
	}

	for i, raw := range lines {
		ln := parseLine(raw)
		t := ln.text
		if t == "" {
			continue
		}
		if pending != "" {
			k := pending
			pending = ""
			// The value of "Conviction:" alone on its line is the next
			// short line ("5/10"); a sentence is not.
			if _, _, isKV := cutField(t); !isKV && len(t) <= 40 {
				field(k, t)
				continue
			}
		}

		// A new research perspective.
		if p, ok := perspectiveHeading(lines, i, ln); ok {
			flush()
			table = nil
			if len(n.sections) < maxViews {
				cur = &section{perspective: p}
				n.sections = append(n.sections, cur)
				n.sectionAt = append(n.sectionAt, i)
			} else {
				// Past the limit, sections are read into one spare
				// section and left out, their lines kept from the last.
				n.moreSections++
				cur = &n.spare
				*cur = section{perspective: p}
			}
			afterBadge = false
			continue
		}

		// Data point tables.
		if table != nil {
			if strings.Contains(t, "|") {
				if sepRowRe().MatchString(t) {
					continue
				}
				if p, ok := table.row(ln, persp()); ok {
					n.addPoint(p)
				}
				continue
			}
			table = nil
		}
		if tc := tableHeader(t); tc != nil {
			flush()
			table = tc
			continue
		}

		// indicator:/value:/source:/implication: blocks.
		if k, v, ok := matchKV(t); ok {
			key, val := strings.ToLower(k), strings.TrimSpace(v)
			switch key {
			case "indicator", "metric":
				flush()
				dp = &schema.DataPoint{Indicator: val, Perspective: persp()}
			case "value":
				if dp != nil {
					dp.Value, dp.Quote = val, ln.raw
				}
			case "source":
				if dp != nil && val != "" {
					dp.Source = &val
				}
			case "implication":
				if dp != nil && val != "" {
					dp.Implication = &val
				}
			}
			continue
		}
		flush()

		// "- **Indicator**: value (Source: X) — implication" bullets.
		if p, ok := boldDataPoint(ln, persp()); ok {
			n.addPoint(p)
			continue
		}

		// Stance badges: "Bullishgeneralactive", "Bearish0-5 Year",
		// "Bearish · 0-5 Year", or the stance alone.
		if st, h, ok := parseBadge(t); ok {
			if cur != nil {
				if cur.stance == "" {
					cur.stance = st
				}
				if h != "" && cur.horizon == nil {
					cur.horizon = &h
				}
			} else if !headerStance {
				n.stance, headerStance = st, true
				if h != "" && n.horizon == nil {
					n.horizon = &h
				}
			}
			afterBadge = true
			continue
		}
		if afterBadge {
			// Badge parts the HTML loader puts on lines of their own.
			if horizonRe().MatchString(t) {
				if cur != nil && cur.horizon == nil {
					cur.horizon = &t
				} else if cur == nil && n.horizon == nil {
					n.horizon = &t
				}
				continue
			}
			if cur == nil && tagRe().MatchString(t) && len(t) <= 20 {
				continue
			}
		}
		afterBadge = false

		// "Confidence: 7/10|Conviction: 4/10", "Conviction:" + next line.
		if kvs, ok := fieldList(t); ok {
			for _, kv := range kvs {
				if kv[1] == "" {
					pending = kv[0]
				} else {
					field(kv[0], kv[1])
				}
			}
			continue
		}
		if m := byRe().FindStringSubmatch(t); m != nil && cur == nil {
			field("by", m[1])
			continue
		}
		if m := updatedRe().FindStringSubmatch(t); m != nil {
			if d := normDate(m[1]); d != nil {
				field("date", m[1])
				continue
			}
		}
		if d := normDate(t); d != nil {
			if cur != nil {
				if cur.asOf == nil {
					cur.asOf = d
				}
			} else if n.published == nil {
				n.published = d
			}
			continue
		}
		if entriesRe().MatchString(t) || skipLines[strings.ToLower(strings.TrimRight(t, ":"))] {
			continue
		}

		// Prose.
		if cur != nil {
			cur.text = append(cur.text, t)
			if cur.summary == nil && countWords(t, 12) >= 12 {
				s := t
				cur.summary = &s
			}
			continue
		}
		if ln.heading == 1 && headerHeader == "" {
			headerHeader = t
			continue
		}
		w := countWords(t, 21)
		if w >= 6 && firstSix == "" {
			firstSix = t
		}
		if titleCand != "" && w >= 6 && stmtAfterTitle == "" {
			stmtAfterTitle = t
		}
		if titleCand == "" && w >= 2 && w <= 20 {
			titleCand = t
		}
	}
	flush()

	if !n.structured() {
		return n
	}
	// Title and statement of a structured note: a Markdown "# " title or
	// the first short line of the header; the statement is the first
	// sentence-length header line after it.
	n.title = headerHeader
	rest := firstSix
	if n.title == "" && titleCand != "" {
		n.title = strings.TrimSpace(strings.TrimPrefix(titleCand, "# "))
		rest = stmtAfterTitle
	}
	if n.statement == "" {
		n.statement = rest
	}
	return n
}

// countWords counts the space-separated words of s, stopping at limit.
func countWords(s string, limit int) int {
	n, in := 0, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			in = false
		} else if !in {
			in = true
			n++
			if n >= limit {
				return n
			}
		}
	}
	return n
}

// perspectiveHeading reports whether lines[i] opens a research
// perspective, and which: "Rates Research" gives "rates". A Markdown
// heading of level 2 or more also opens one when a stance badge or
// "Stance:" field follows it within two lines.
func perspectiveHeading(lines []string, i int, ln line) (string, bool) {
	t := ln.text
	if len(t) > 60 {
		return "", false
	}
	// researchRe matches only lines that end in one of its words: the
	// suffix test spares running it on every line.
	if hasResearchSuffix(t) {
		if m := researchRe().FindStringSubmatch(t); m != nil {
			return strings.ToLower(strings.TrimSpace(m[1])), true
		}
	}
	if ln.heading < 2 {
		return "", false
	}
	seen := 0
	for j := i + 1; j < len(lines) && seen < 2; j++ {
		nt := parseLine(lines[j]).text
		if nt == "" {
			continue
		}
		seen++
		if _, _, ok := parseBadge(nt); ok {
			return strings.ToLower(t), true
		}
		if k, v, ok := cutField(nt); ok && (k == "stance" || k == "rating") && v != "" {
			return strings.ToLower(t), true
		}
	}
	return "", false
}

// kvKeys are the keys kvRe accepts.
var kvKeys = [...]string{"indicator", "metric", "value", "source", "implication"}

// matchKV returns kvRe's two groups in t, as kvRe().FindStringSubmatch
// would, reading a line that is ASCII up to its first colon by hand (most
// lines of a note pass through here, and the regexp backtracks on each).
func matchKV(t string) (key, val string, ok bool) {
	c := strings.IndexByte(t, ':')
	if c < 0 {
		return "", "", false // kvRe needs a colon
	}
	head := t[:c]
	for i := 0; i < len(head); i++ {
		if head[i] >= utf8.RuneSelf {
			return matchKVRe(t) // case folding beyond ASCII, the bullet •
		}
	}
	if strings.IndexByte(t[c:], '\n') >= 0 {
		return matchKVRe(t)
	}
	// The colon kvRe matches is the first: nothing before it can be one.
	i := 0
	if head != "" && (head[0] == '-' || head[0] == '*') {
		j := 1
		for j < len(head) && isRESpace(head[j]) {
			j++
		}
		if j > 1 {
			i = j
		}
	}
	k := head[i:]
	for k != "" && isRESpace(k[len(k)-1]) {
		k = k[:len(k)-1]
	}
	for _, w := range kvKeys {
		if strings.EqualFold(k, w) {
			v := t[c+1:]
			for v != "" && isRESpace(v[0]) {
				v = v[1:]
			}
			return k, v, true
		}
	}
	return "", "", false
}

// matchKVRe is matchKV by the regexp.
func matchKVRe(t string) (key, val string, ok bool) {
	m := kvRe().FindStringSubmatch(t)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// isRESpace reports whether b is in the regexp class \s.
func isRESpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r'
}

// hasResearchSuffix reports whether t ends as researchRe requires.
func hasResearchSuffix(t string) bool {
	return strings.HasSuffix(t, "Research") || strings.HasSuffix(t, "View") ||
		strings.HasSuffix(t, "Views") || strings.HasSuffix(t, "Perspective")
}

// badgeWords are the stance words a badge may start with.
var badgeWords = []string{"bullish", "bearish", "neutral", "mixed"}

// parseBadge reads a stance badge: the stance word, optionally glued to or
// followed by a horizon ("Bearish0-5 Year", "Bearish · 0-5 Year") or by
// lower-case platform tags ("Bullishgeneralactive", "Bullish · general").
func parseBadge(t string) (st schema.Stance, horizon string, ok bool) {
	if len(t) > 60 {
		return "", "", false
	}
	lower := strings.ToLower(t)
	for _, w := range badgeWords {
		if !strings.HasPrefix(lower, w) {
			continue
		}
		st, _ = schema.ParseStance(w)
		rest := strings.TrimFunc(t[len(w):], func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune("·•|,:;-–—/()", r)
		})
		switch {
		case rest == "":
			return st, "", true
		case horizonRe().MatchString(rest):
			return st, rest, true
		}
		tags := strings.FieldsFunc(rest, func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune("·•|,", r)
		})
		if len(tags) <= 3 {
			allTags := true
			for _, tg := range tags {
				if !tagRe().MatchString(tg) {
					allTags = false
				}
			}
			// A glued badge ("Bullishgeneralactive") has no space; a spaced
			// one must separate its tags ("Bullish · general").
			glued := len(tags) == 1 && !strings.ContainsRune(rest, ' ') &&
				len(t) > len(w) && unicode.IsLower(rune(t[len(w)]))
			separated := strings.ContainsAny(t[len(w):], "·•|")
			// "Bullish general active": plain words, none of them a
			// function word ("Bullish on bonds" is a sentence, not a badge).
			spaced := unicode.IsSpace(rune(t[len(w)]))
			for _, tg := range tags {
				for _, f := range strings.Fields(tg) {
					if stopWords()[f] {
						spaced = false
					}
				}
			}
			if allTags && (glued || separated || spaced) {
				return st, "", true
			}
		}
		return "", "", false
	}
	return "", "", false
}

// maxFieldList bounds the fields of one field-list line.
const maxFieldList = 16

// cutField splits a "key: value" line when key is one of the note fields.
func cutField(t string) (key, val string, ok bool) {
	if !strings.Contains(t, ":") { // most lines: no regexp run
		return "", "", false
	}
	m := fieldRe().FindStringSubmatch(t)
	if m == nil {
		return "", "", false
	}
	return strings.ToLower(m[1]), strings.TrimSpace(m[2]), true
}

// fieldList reads a line of one or more note fields separated by "|" or
// "·": "Confidence: 7/10|Conviction: 4/10". Every part must be a field.
func fieldList(t string) ([][2]string, bool) {
	// A note has a few fields to a line; a longer list is no field list.
	if strings.Count(t, "|")+strings.Count(t, "·") >= maxFieldList {
		return nil, false
	}
	parts := strings.FieldsFunc(t, func(r rune) bool { return r == '|' || r == '·' })
	if len(parts) == 0 {
		return nil, false
	}
	var out [][2]string
	for _, p := range parts {
		k, v, ok := cutField(strings.TrimSpace(p))
		if !ok {
			return nil, false
		}
		out = append(out, [2]string{k, v})
	}
	return out, true
}

// tableCols maps a data point table's columns; -1 marks a missing column.
type tableCols struct {
	indicator, value, source, implication, n int
}

// tableHeader recognises "Indicator | Value | Source | Implication" (with
// or without Markdown's outer pipes) and returns its column map.
func tableHeader(t string) *tableCols {
	// A data point table has a handful of columns.
	if !strings.Contains(t, "|") || strings.Count(t, "|") > maxTableCols {
		return nil
	}
	cells := splitRow(t, -1)
	tc := &tableCols{-1, -1, -1, -1, len(cells)}
	for i, c := range cells {
		switch strings.ToLower(strings.Trim(c, "*_ ")) {
		case "indicator", "metric", "data point", "measure", "figure":
			tc.indicator = i
		case "value", "reading", "level", "latest":
			tc.value = i
		case "source", "sources":
			tc.source = i
		case "implication", "implications", "why it matters", "takeaway", "comment":
			tc.implication = i
		}
	}
	if tc.indicator < 0 || tc.value < 0 {
		return nil
	}
	return tc
}

// row reads one table row into a data point; the quote is the row line.
func (tc *tableCols) row(ln line, persp *string) (schema.DataPoint, bool) {
	cells := splitRow(ln.text, tc.n+1) // cells past the header's are not read
	cell := func(i int) string {
		if i < 0 || i >= len(cells) {
			return ""
		}
		return cells[i]
	}
	opt := func(i int) *string {
		c := cell(i)
		switch strings.ToLower(c) {
		case "", "-", "–", "—", "n/a", "na", "none":
			return nil
		}
		return &c
	}
	dp := schema.DataPoint{
		Indicator:   cell(tc.indicator),
		Value:       cell(tc.value),
		Source:      opt(tc.source),
		Implication: opt(tc.implication),
		Perspective: persp,
		Quote:       ln.raw,
	}
	if dp.Indicator == "" || dp.Value == "" {
		return dp, false
	}
	return dp, true
}

// maxTableCols bounds the columns of a data point table's header.
const maxTableCols = 64

// splitRow splits a table row into at most n trimmed cells (n < 0: all),
// dropping the empty cells Markdown's outer pipes make.
func splitRow(t string, n int) []string {
	t = strings.TrimSpace(t)
	t = strings.TrimPrefix(t, "|")
	t = strings.TrimSuffix(t, "|")
	cells := strings.SplitN(t, "|", n)
	for i, c := range cells {
		cells[i] = strings.TrimSpace(c)
	}
	return cells
}

// boldDataPoint reads a Markdown bullet "- **Indicator**: value" whose
// value states a figure; "(Source: X)" gives the source and text after a
// dash the implication.
func boldDataPoint(ln line, persp *string) (schema.DataPoint, bool) {
	m := boldDPRe().FindStringSubmatch(ln.raw)
	if m == nil || !strings.ContainsAny(m[2], "0123456789") {
		return schema.DataPoint{}, false
	}
	dp := schema.DataPoint{Indicator: strings.TrimSpace(m[1]), Perspective: persp, Quote: ln.raw}
	val := m[2]
	if s := srcParRe().FindStringSubmatch(val); s != nil {
		src := strings.TrimSpace(s[1])
		dp.Source = &src
		val = strings.Replace(val, s[0], "", 1)
	}
	for _, sep := range []string{" — ", " – ", " -> ", " → "} {
		if a, b, ok := strings.Cut(val, sep); ok {
			val = a
			if imp := strings.TrimSpace(b); imp != "" {
				dp.Implication = &imp
			}
			break
		}
	}
	dp.Value = strings.TrimSpace(strings.ReplaceAll(val, "**", ""))
	if dp.Indicator == "" || dp.Value == "" {
		return schema.DataPoint{}, false
	}
	return dp, true
}

// dateLayouts are the date forms notes are written in.
var dateLayouts = []string{
	"January 2, 2006", "Jan 2, 2006", "Jan. 2, 2006", "January 2 2006", "2 January 2006",
	"2 Jan 2006", "2006-01-02",
}

// normDate turns a written date into YYYY-MM-DD (RFC 3339 timestamps keep
// their date), or nil when s is not a date.
func normDate(s string) *string {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if len(s) < 8 || len(s) > 40 {
		return nil
	}
	if len(s) > 10 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			d := t.Format("2006-01-02")
			return &d
		}
	}
	return nil
}
