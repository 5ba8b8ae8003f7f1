package pdfdoc

import (
	"cmp"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// word is a run of glyphs on one baseline with no visible gap.
type word struct {
	x0, x1, y, size float64
	s               string
	parts           []string // glyph texts, left to right
	rtl             bool
}

// line is a finished line of a page, top to bottom.
type line struct {
	y    float64
	text string
	ws   []word // its words left to right, while the page is laid out
	row  bool   // a table row
}

const (
	spaceGap   = 0.15 // a gap wider than this × font size separates words
	gutterGap  = 0.9  // a clear vertical strip this × font size wide splits columns
	lineGutter = 2.5  // on a single line, only a wider strip splits (tables)
	maxCutWord = 20000
)

// layoutPage turns a page's glyphs into lines in reading order. It
// reorders gs.
func layoutPage(gs []glyph) []line { return new(layoutScratch).layoutPage(gs) }

// layoutScratch is the working memory of page layouts, reused from one
// page to the next by a goroutine that lays out many: nothing a layout
// returns points into it.
type layoutScratch struct {
	keys  []glyphKey
	parts []string
	words []word
	rects []rect
}

// layoutPage is layoutPage with sc's memory.
func (sc *layoutScratch) layoutPage(gs []glyph) []line {
	// Group glyphs by writing direction, in quarter turns; text drawn
	// sideways or upside down is turned upright and laid out after the
	// page's main, horizontal text.
	var groups [4][]glyph
	upright := true
	for _, g := range gs {
		if g.dx <= 0 || math.Abs(g.dy) >= g.dx {
			upright = false
			break
		}
	}
	if upright {
		groups[0] = gs // the common case
	} else {
		for _, g := range gs {
			q := int(math.Round(math.Atan2(g.dy, g.dx)/(math.Pi/2))+4) % 4
			if q != 0 {
				sin, cos := math.Sincos(-float64(q) * math.Pi / 2)
				g.x, g.y = g.x*cos-g.y*sin, g.x*sin+g.y*cos
			}
			groups[q] = append(groups[q], g)
		}
	}
	var lines []line
	for q := 0; q < 4; q++ {
		if len(groups[q]) == 0 {
			continue
		}
		var ls []line
		xyCut(sc.makeWords(groups[q]), &ls, nil, sc)
		ls = joinSameBaseline(ls)
		if q == 0 {
			ls = stackHeadings(ls)
		}
		for i := range ls {
			ls[i].ws = nil
		}
		if q != 0 {
			for i := range ls {
				ls[i].y = math.Inf(-1) // never page furniture by position
			}
		}
		lines = append(lines, ls...)
	}
	return lines
}

// glyphKey is what ordering a glyph reads, with the glyph's index: keys
// are sorted in place of the larger glyphs, by the same comparisons.
type glyphKey struct {
	y, x, size float64
	i          int32
}

// makeWords groups glyphs into words: same baseline, touching in x. It
// sorts gs and drops the glyphs drawn twice at (almost) the same spot.
// The words and their parts are in sc's memory.
func (sc *layoutScratch) makeWords(gs []glyph) []word {
	if len(gs) == 0 {
		return nil
	}
	keys := grow(sc.keys, len(gs))
	sc.keys = keys
	for i := range gs {
		keys[i] = glyphKey{gs[i].y, gs[i].x, gs[i].size, int32(i)}
	}
	// Cluster baselines: sort by y (top first), then x.
	slices.SortStableFunc(keys, func(a, b glyphKey) int {
		if math.Abs(a.y-b.y) > 0.01 {
			return cmp.Compare(b.y, a.y)
		}
		return cmp.Compare(a.x, b.x)
	})
	var ends []int // where each row ends in keys
	start := 0
	for i := 1; i <= len(keys); i++ {
		if i == len(keys) || keys[start].y-keys[i].y > 0.3*math.Max(1, math.Min(keys[start].size, keys[i].size)) {
			slices.SortStableFunc(keys[start:i], func(a, b glyphKey) int { return cmp.Compare(a.x, b.x) })
			ends = append(ends, i)
			start = i
		}
	}
	// Put the glyphs in the keys' order, in place: cycle by cycle, each
	// glyph moved once, a key's index marked done by flipping its sign.
	for j := range keys {
		if keys[j].i < 0 {
			continue
		}
		g := gs[j]
		k := j
		for {
			from := int(keys[k].i)
			keys[k].i = -1 - keys[k].i
			if from == j {
				gs[k] = g
				break
			}
			gs[k] = gs[from]
			k = from
		}
	}
	sorted := gs
	words := sc.words[:0]
	parts := grow(sc.parts, len(gs))[:0] // the words' glyph texts, word after word
	defer func() { sc.words, sc.parts = words, parts }()
	var cur word
	open, curDir := false, 0 // a word is being built; the direction of its last part
	flush := func() {
		if !open {
			return
		}
		open = false
		cur.parts = parts[len(parts)-len(cur.parts) : len(parts) : len(parts)]
		cur.s = strings.Join(cur.parts, "")
		if strings.TrimSpace(cur.s) != "" {
			cur.rtl = isRTL(cur.s)
			words = append(words, cur)
		}
	}
	start = 0
	for _, end := range ends {
		row := sorted[start:end]
		start = end
		for i, g := range row {
			if drawnBefore(row[:i], g) {
				continue // fake bold, shadowed text
			}
			size := math.Max(g.size, 1)
			if open && g.x < cur.x1-0.3*size && strings.TrimSpace(g.s) == "" {
				// A space drawn under a word (padding that overlaps the
				// figure after it) does not split that word.
				continue
			}
			if open && (g.x-cur.x1 > spaceGap*size || g.x < cur.x0-0.1*size) {
				flush()
			}
			// A glyph may stand for several characters, spaces included
			// (ActualText-like ToUnicode entries): spaces end words.
			s := g.s
			for s != "" {
				i := strings.IndexFunc(s, unicode.IsSpace)
				if i == 0 {
					flush()
					_, n := utf8.DecodeRuneInString(s)
					s = s[n:]
					continue
				}
				part := s
				if i > 0 {
					part, s = s[:i], s[i:]
				} else {
					s = ""
				}
				dir := dirOf(part)
				if open && len(cur.parts) > 0 && curDir*dir < 0 {
					flush() // the script changes direction: a new word
				}
				if !open {
					open = true
					cur = word{x0: g.x, x1: g.x + g.w, y: g.y, size: size}
				}
				parts = append(parts, part)
				cur.parts = parts[len(parts)-len(cur.parts)-1:] // its length counts the word's parts
				curDir = dir
				cur.x1 = math.Max(cur.x1, g.x+g.w)
				cur.size = math.Max(cur.size, size)
			}
		}
		flush()
	}
	return words
}

// drawnBefore reports whether one of the glyphs before g in its row (left
// to right) is g drawn again at (almost) the same spot.
func drawnBefore(before []glyph, g glyph) bool {
	x, y := math.Round(g.x*2), math.Round(g.y*2)
	for j := len(before) - 1; j >= 0 && before[j].x > g.x-0.5; j-- {
		b := &before[j]
		if b.s == g.s && math.Round(b.x*2) == x && math.Round(b.y*2) == y {
			return true
		}
	}
	return false
}

func isRTL(s string) bool {
	if ascii(s) {
		return false
	}
	n, r := 0, 0
	for _, c := range s {
		if unicode.IsLetter(c) {
			n++
			if unicode.In(c, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana) {
				r++
			}
		}
	}
	return n > 0 && r*2 > n
}

// ascii reports whether s is all ASCII.
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// dirOf is -1 for a right-to-left letter run, 1 for left-to-right letters,
// 0 for neither (digits, punctuation).
func dirOf(s string) int {
	for i := 0; i < len(s); i++ { // ASCII first, without decoding
		c := s[i]
		if c >= utf8.RuneSelf {
			return dirOfRunes(s[i:])
		}
		if c|0x20 >= 'a' && c|0x20 <= 'z' {
			return 1
		}
	}
	return 0
}

func dirOfRunes(s string) int {
	for _, c := range s {
		if unicode.IsLetter(c) {
			if unicode.In(c, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana) {
				return -1
			}
			return 1
		}
	}
	return 0
}

func (w word) top() float64    { return w.y + 0.6*w.size }
func (w word) bottom() float64 { return w.y - 0.1*w.size }

// rect is the extent of a word as the cuts read it, with its size.
type rect struct{ x0, x1, top, bottom, size float64 }

// region is a set of words being cut, with their extents in the three
// orders the cuts read them in: by left edge, by top (highest first) and
// by size. A cut splits each order stably, so no part is sorted again.
type region struct {
	ws                 []word
	byX, byTop, bySize []rect
}

// newRegion returns the region of ws; scratch receives len(ws) rects that
// cutting it uses as working space. The rects are in sc's memory.
func (sc *layoutScratch) newRegion(ws []word) (_ region, scratch []rect) {
	rs := grow(sc.rects, 4*len(ws))
	sc.rects = rs
	r := region{ws: ws, byX: rs[:len(ws)], byTop: rs[len(ws) : 2*len(ws)], bySize: rs[2*len(ws) : 3*len(ws)]}
	for i := range ws {
		w := &ws[i]
		r.byX[i] = rect{w.x0, w.x1, w.top(), w.bottom(), w.size}
	}
	copy(r.byTop, r.byX)
	copy(r.bySize, r.byX)
	// Which of two words with one left edge (or top) comes first changes
	// no gap found between them, nor the median size.
	slices.SortFunc(r.byX, func(a, b rect) int { return cmp.Compare(a.x0, b.x0) })
	slices.SortFunc(r.byTop, func(a, b rect) int { return cmp.Compare(b.top, a.top) })
	slices.SortFunc(r.bySize, func(a, b rect) int { return cmp.Compare(a.size, b.size) })
	return r, rs[3*len(ws):]
}

// split cuts r into the words keep holds for and the others; the words go
// as partition moves them, each order of extents stays in order.
func (r region) split(scratch []rect, keep func(rect) bool) (in, out region) {
	in.ws, out.ws = partition(r.ws, func(w *word) bool {
		return keep(rect{w.x0, w.x1, w.top(), w.bottom(), w.size})
	})
	in.byX, out.byX = splitRects(r.byX, scratch, keep)
	in.byTop, out.byTop = splitRects(r.byTop, scratch, keep)
	in.bySize, out.bySize = splitRects(r.bySize, scratch, keep)
	return in, out
}

// splitRects moves the rects keep holds for to the front of rs, both parts
// in their order, using scratch (at least len(rs) long).
func splitRects(rs, scratch []rect, keep func(rect) bool) (in, out []rect) {
	n, m := 0, 0
	for i := range rs {
		if keep(rs[i]) {
			rs[n] = rs[i]
			n++
		} else {
			scratch[m] = rs[i]
			m++
		}
	}
	copy(rs[n:], scratch[:m])
	return rs[:n:n], rs[n:]
}

// xyCut orders words by recursive XY-cut: split at a column gutter when
// one crosses the whole region, else at the widest horizontal gap, and
// emit each uncuttable region as lines. Gaps between table cells are not
// gutters; refused holds the x of those found in enclosing regions, which
// stay refused in every part of them.
func xyCut(ws []word, out *[]line, refused []float64, sc *layoutScratch) {
	if len(ws) == 0 {
		return
	}
	if len(ws) > maxCutWord {
		*out = append(*out, regionLines(ws)...)
		return
	}
	r, scratch := sc.newRegion(ws)
	cutRegion(r, scratch, out, refused)
}

func cutRegion(r region, scratch []rect, out *[]line, refused []float64) {
	if len(r.ws) == 0 {
		return
	}
	left, right, ok, refused := verticalCut(r, scratch, refused)
	if ok {
		cutRegion(left, scratch, out, refused)
		cutRegion(right, scratch, out, refused)
		return
	}
	if top, bottom, ok := horizontalCut(r, scratch); ok {
		cutRegion(top, scratch, out, refused)
		cutRegion(bottom, scratch, out, refused)
		return
	}
	*out = append(*out, regionLines(r.ws)...)
}

// verticalCut cuts r at the widest clear vertical strip that is a column
// gutter: not a gap between table cells (see splitsTableRows), nor a strip
// holding an x in refused. It returns refused with the table gaps it found.
func verticalCut(r region, scratch []rect, refused []float64) (left, right region, ok bool, _ []float64) {
	ws, xs := r.ws, r.byX
	size := r.bySize[len(r.bySize)/2].size // the median
	type gap struct{ width, at float64 }
	var gaps []gap
	reach := xs[0].x1
	for _, x := range xs[1:] {
		if g := x.x0 - reach; g >= gutterGap*size && !holdsAny(reach, x.x0, refused) {
			gaps = append(gaps, gap{g, reach + g/2})
		}
		reach = math.Max(reach, x.x1)
	}
	sort.SliceStable(gaps, func(a, b int) bool { return gaps[a].width > gaps[b].width })
	var rows [][]int
	for n, g := range gaps {
		if n == maxGutterTry {
			break
		}
		if g.width < lineGutter*size {
			l, r := baselinesSplit(ws, g.at)
			if l < 2 || r < 2 {
				continue
			}
		}
		if !sideBySide(ws, g.at) {
			continue
		}
		if rows == nil {
			rows = baselineRows(ws)
		}
		if splitsTableRows(ws, rows, g.at) {
			refused = append(refused[:len(refused):len(refused)], g.at)
			continue
		}
		left, right = r.split(scratch, func(x rect) bool { return x.x1 <= g.at })
		return left, right, true, refused
	}
	return region{}, region{}, false, refused
}

// sideBySide reports whether the words left and right of x = at share at
// least half the height of the shorter side: columns do, while a heading
// set to the left of a centred title only looks like a column.
func sideBySide(ws []word, at float64) bool {
	lt, lb, rt, rb := math.Inf(-1), math.Inf(1), math.Inf(-1), math.Inf(1)
	for i := range ws {
		w := &ws[i]
		if w.x1 <= at {
			lt, lb = math.Max(lt, w.top()), math.Min(lb, w.bottom())
		} else {
			rt, rb = math.Max(rt, w.top()), math.Min(rb, w.bottom())
		}
	}
	return math.Min(lt, rt)-math.Max(lb, rb) >= 0.5*math.Min(lt-lb, rt-rb)
}

// partition reorders ws in place so that the words keep goes to come first
// and returns the two parts; cutting a region this way copies no words.
func partition(ws []word, keep func(*word) bool) (in, out []word) {
	n := 0
	for i := range ws {
		if keep(&ws[i]) {
			ws[n], ws[i] = ws[i], ws[n]
			n++
		}
	}
	return ws[:n:n], ws[n:]
}

// baselinesSplit counts the distinct text lines among the words of ws left
// of x = at and among those right of it.
func baselinesSplit(ws []word, at float64) (left, right int) {
	var l, r []float64
	for _, w := range ws {
		if w.x1 <= at {
			l = append(l, w.y)
		} else {
			r = append(r, w.y)
		}
	}
	return countBaselines(l), countBaselines(r)
}

// holdsAny reports whether some x in xs lies between lo and hi.
func holdsAny(lo, hi float64, xs []float64) bool {
	for _, x := range xs {
		if lo < x && x < hi {
			return true
		}
	}
	return false
}

// countBaselines counts the distinct baselines among ys, reordering them.
func countBaselines(ys []float64) int {
	slices.Sort(ys)
	n := 0
	for i, y := range ys {
		if i == 0 || y-ys[i-1] > 2 {
			n++
		}
	}
	return n
}

// horizontalCut splits r at the widest clear horizontal strip.
func horizontalCut(r region, scratch []rect) (top, bottom region, ok bool) {
	ys := r.byTop
	best, at := 0.0, 0.0
	low := ys[0].bottom
	for _, y := range ys[1:] {
		if g := low - y.top; g > best+1e-9 {
			best, at = g, low-g/2
		}
		low = math.Min(low, y.bottom)
	}
	if best <= 0 {
		return region{}, region{}, false
	}
	keep := func(x rect) bool { return x.bottom >= at }
	n := 0
	for i := range ys {
		if keep(ys[i]) {
			n++
		}
	}
	if n == 0 || n == len(ys) {
		return region{}, region{}, false
	}
	top, bottom = r.split(scratch, keep)
	return top, bottom, true
}

// regionLines sets the words of one block into lines.
func regionLines(ws []word) []line {
	slices.SortStableFunc(ws, func(a, b word) int { return cmp.Compare(b.y, a.y) })
	var out []line
	start, base := 0, 0 // where the line and its last baseline start
	for i := 1; i <= len(ws); i++ {
		if i < len(ws) && ws[base].y-ws[i].y <= 0.5*math.Min(ws[base].size, ws[i].size) {
			continue
		}
		if i < len(ws) && superscripts(ws[base:i], ws[i:]) {
			base = i // footnote marks set above the line they belong to
			continue
		}
		text, row := joinWords(ws[start:i])
		out = append(out, line{y: ws[base].y, text: text, ws: ws[start:i], row: row})
		start, base = i, i
	}
	return out
}

// superscripts reports whether the words of sup, all in a smaller type
// than the line below them that starts below, sit raised on that line.
func superscripts(sup, below []word) bool {
	size := below[0].size
	for _, w := range below[1:] {
		if below[0].y-w.y > 0.5*size {
			break
		}
		size = max(size, w.size)
	}
	for _, w := range sup {
		if w.size > 0.85*size || w.y-below[0].y > 0.75*size || utf8.RuneCountInString(w.s) > 4 {
			return false
		}
	}
	return true
}

// joinWords sets one line's words in reading order, right to left when
// most of its words are.
func joinWords(ws []word) (_ string, row bool) {
	rtl := 0
	for _, w := range ws {
		if w.rtl {
			rtl++
		}
	}
	slices.SortStableFunc(ws, func(a, b word) int { return cmp.Compare(a.x0, b.x0) })
	if rtl == 0 {
		if row := tableRow(ws); row != "" {
			return row, true
		}
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.s
		if w.rtl {
			parts[i] = reverseParts(w.parts)
		}
	}
	if rtl*2 > len(ws) {
		// Visual to logical order: reverse the words, but keep runs of
		// left-to-right words (numbers, Latin names) in their order.
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
			ws[i], ws[j] = ws[j], ws[i]
		}
		for i := 0; i < len(parts); {
			if ws[i].rtl {
				i++
				continue
			}
			j := i
			for j < len(parts) && !ws[j].rtl {
				j++
			}
			for a, b := i, j-1; a < b; a, b = a+1, b-1 {
				parts[a], parts[b] = parts[b], parts[a]
			}
			i = j
		}
	}
	return strings.Join(parts, " "), false
}

// reverseParts joins a right-to-left word's glyph texts in logical order.
func reverseParts(p []string) string {
	var b strings.Builder
	for i := len(p) - 1; i >= 0; i-- {
		b.WriteString(p[i])
	}
	return b.String()
}

// joinSameBaseline puts back on one line the consecutive blocks that a
// wide gap split on the same baseline (table cells, tab stops).
func joinSameBaseline(ls []line) []line {
	var out []line
	for _, l := range ls {
		if n := len(out); n > 0 && math.Abs(out[n-1].y-l.y) < 1 {
			out[n-1].text += " " + l.text
			ws := append(slices.Clip(out[n-1].ws), l.ws...)
			slices.SortStableFunc(ws, func(a, b word) int { return cmp.Compare(a.x0, b.x0) })
			out[n-1].ws, out[n-1].row = ws, false
			continue
		}
		out = append(out, l)
	}
	return out
}

var (
	pageNumRe = regexp.MustCompile(`(?i)^(page\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(\s*(of|/)\s*\d{1,4})?$`)
	digitsRe  = regexp.MustCompile(`\d+`)
)

// removeFurniture drops page numbers and the header and footer lines that
// repeat (digits aside) on many pages.
func removeFurniture(pages [][]line) {
	if len(pages) < 2 {
		return
	}
	// Up to two lines at the top and bottom of a page may be furniture;
	// fewer on short pages, so that a page is never all edge.
	edgeOf := func(p []line) int { return max(1, min(2, len(p)/4)) }
	count := map[string]int{}
	for _, p := range pages {
		seen := map[string]bool{}
		edge := edgeOf(p)
		for i, l := range p {
			if i < edge || i >= len(p)-edge {
				k := digitsRe.ReplaceAllString(strings.ToLower(strings.TrimSpace(l.text)), "#")
				if !seen[k] {
					seen[k] = true
					count[k]++
				}
			}
		}
	}
	need := (len(pages) + 1) / 2
	if need < 2 {
		need = 2
	}
	for pi, p := range pages {
		var keep []line
		edge := edgeOf(p)
		for i, l := range p {
			if i < edge || i >= len(p)-edge {
				t := strings.TrimSpace(l.text)
				k := digitsRe.ReplaceAllString(strings.ToLower(t), "#")
				if pageNumRe.MatchString(t) || count[k] >= need {
					continue
				}
			}
			keep = append(keep, l)
		}
		if len(keep) > 0 { // a page of repeated lines is content, not furniture
			pages[pi] = keep
		}
	}
}

// dehyphenate joins a word broken by a hyphen at the end of a line with its
// rest on the next line.
func dehyphenate(ls []line) {
	for i := 0; i+1 < len(ls); i++ {
		a := []rune(ls[i].text)
		n := len(a)
		if n < 3 || (a[n-1] != '-' && a[n-1] != '\u00AD') || !unicode.IsLetter(a[n-2]) {
			continue
		}
		next := ls[i+1].text
		first, rest, _ := strings.Cut(next, " ")
		r := []rune(first)
		if len(r) == 0 || !unicode.IsLower(r[0]) {
			continue
		}
		ls[i].text = string(a[:n-1]) + first
		ls[i+1].text = rest
	}
}

// grow returns s resliced to length n, reallocated when its capacity is
// less.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func isLetter(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
