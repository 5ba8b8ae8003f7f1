package pdfdoc

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
)

// Financial tables are set as a label column and columns of figures with
// wide clear strips between them. To the XY-cut those strips look like
// page column gutters: cutting there would send a row's label one way and
// its figures another, pages apart. A cut is therefore refused when it
// would split table rows, and a line whose cells hold figures is written
// as a table row, cells joined by " | " as the HTML loader writes them.

const (
	cellGap      = 1.0 // a gap wider than this × font size separates table cells
	maxGutterTry = 8   // candidate gutters tried per region before giving up
)

// baselineRows groups the words of ws into rows on one baseline, top to
// bottom, each row's words (as indexes into ws) left to right.
func baselineRows(ws []word) [][]int {
	idx := make([]int, len(ws))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(ws[b].y, ws[a].y) })
	var rows [][]int
	start := 0
	for i := 1; i <= len(idx); i++ {
		if i < len(idx) && ws[idx[start]].y-ws[idx[i]].y <= 0.5*math.Min(ws[idx[start]].size, ws[idx[i]].size) {
			continue
		}
		row := idx[start:i]
		slices.SortFunc(row, func(a, b int) int { return cmp.Compare(ws[a].x0, ws[b].x0) })
		rows = append(rows, row)
		start = i
	}
	return rows
}

// splitsTableRows reports whether a vertical cut at x = at would cut table
// rows apart. Each row (see baselineRows) with words on both sides of the
// cut is a vote: for a table when most words right of the cut are
// figures, for prose when they hold a run of three or more words set as
// running text, for neither otherwise (header rows, cells of short text).
// A cut that more table rows than prose lines cross is refused.
func splitsTableRows(ws []word, rows [][]int, at float64) bool {
	table, prose := 0, 0
	for _, row := range rows {
		left, right, words, run, longest := false, 0, 0, 0, 0
		var prev *word
		for _, k := range row {
			w := &ws[k]
			if w.x1 <= at {
				left = true
				continue
			}
			right++
			if isFigure(w.s) {
				run = 0
			} else {
				words++
				if prev == nil || w.x0-prev.x1 > cellGap*math.Max(w.size, prev.size) {
					run = 0
				}
				run++
				longest = max(longest, run)
			}
			prev = w
		}
		switch {
		case !left || right == 0:
		case right-words > words:
			table++
		case longest >= 3:
			prose++
		}
	}
	return table > prose
}

// fillers stand in a table's figure columns for a figure: not meaningful,
// not available, nil.
var fillers = map[string]bool{"nm": true, "n/m": true, "na": true, "n/a": true, "nil": true, "x": true}

// isFigure reports whether s is a table figure: a number, perhaps with a
// currency sign, parentheses, a percent sign or a multiple's x, a dash or
// filler standing for none, a footnote mark such as "(a)", or a lone
// currency or percent sign.
func isFigure(s string) bool {
	if fillers[strings.ToLower(s)] {
		return true
	}
	if isFootnote(s) {
		return true
	}
	s = strings.TrimLeftFunc(s, func(r rune) bool { return r == '(' || unicode.Is(unicode.Sc, r) })
	s = strings.TrimRight(s, ")%*,x")
	if s == "" {
		return true
	}
	if strings.Trim(s, "-–—") == "" {
		return true
	}
	s = strings.TrimLeft(s, "-+–—")
	if s == "" || !(s[0] >= '0' && s[0] <= '9' || s[0] == '.') {
		return false
	}
	digits, dash := 0, false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == ',' || c == '.':
		case (c == '-' || c == '–') && !dash && digits > 0:
			dash = true // a range: "44-49"
		default:
			return false
		}
	}
	return digits > 0 && !strings.HasSuffix(s, "-") && !strings.HasSuffix(s, "–")
}

// tableRow joins the words of one line, in left-to-right order, as a table
// row when it is one: cells split at wide gaps, at least one cell after
// the first a figure. It returns "" for any other line.
func tableRow(ws []word) string {
	// Cells: split at wide gaps and before a currency sign; after the
	// first cell (the label), also between two figures, which a tight
	// table sets closer than a wide gap, unless the cell holds words too
	// (a date: "May 26, 2019").
	var cells [][]string
	apart := map[int]bool{} // cells set off by a wide gap
	for i, w := range ws {
		split := i == 0
		if i > 0 {
			prev := ws[i-1]
			switch {
			case w.size < 0.85*prev.size && w.x0-prev.x1 < prev.size:
				// a superscript mark stays with what it annotates
			case w.x0-prev.x1 > cellGap*math.Max(w.size, prev.size):
				split = true
				apart[len(cells)] = true
			case isCurrency(w.s):
				split = true
			case len(cells) > 1 && isFigure(w.s) && !isMark(w.s) && !isCurrency(prev.s) && prev.s != "(" && allFigures(cells[len(cells)-1]):
				split = true
			}
		}
		if split {
			cells = append(cells, nil)
		}
		cells[len(cells)-1] = append(cells[len(cells)-1], w.s)
	}
	if len(cells) < 2 {
		return ""
	}
	// A cell that is only a currency sign or an opening parenthesis
	// belongs to the figure after it, one that is only a percent sign or
	// closing parenthesis to the one before.
	var out []string
	figure := false
	for i := 0; i < len(cells); i++ {
		c := strings.Join(cells[i], " ")
		switch {
		case (isCurrency(c) || c == "(" || c == "$ (") && i+1 < len(cells):
			cells[i+1] = append([]string{c}, cells[i+1]...)
			continue
		case len(out) > 0 && (isMark(c) || isFootnote(c) && !apart[i]):
			out[len(out)-1] += " " + c
			continue
		}
		if len(out) > 0 && !figure {
			figure = allFigures(cells[i])
		}
		out = append(out, c)
	}
	if !figure || len(out) < 2 {
		return ""
	}
	return strings.Join(out, " | ")
}

// allFigures reports whether every word of a cell is a figure.
func allFigures(cell []string) bool {
	for _, w := range cell {
		if !isFigure(w) {
			return false
		}
	}
	return true
}

// isFootnote reports whether s is a footnote mark: "(a)", "(1)", "*".
func isFootnote(s string) bool {
	if s == "*" || s == "**" || s == "†" {
		return true
	}
	return len(s) == 3 && s[0] == '(' && s[2] == ')' && (s[1] >= 'a' && s[1] <= 'z' || s[1] >= '1' && s[1] <= '9')
}

// isMark reports whether s is a percent sign or closing parenthesis set
// apart from its figure.
func isMark(s string) bool { return s == "%" || s == ")" || s == ")%" || s == "%)" }

// isCurrency reports whether s is only a currency sign.
func isCurrency(s string) bool {
	n := 0
	for _, c := range s {
		if !unicode.Is(unicode.Sc, c) {
			return false
		}
		n++
	}
	return n > 0
}

// span is a stretch of x.
type span struct{ x0, x1 float64 }

const (
	maxHeadingLines = 6   // lines of column headings stacked over a table
	maxHeadingRows  = 40  // table rows read for the columns under them
	headingGap      = 0.6 // a gap wider than this × font size separates headings
)

// stackHeadings writes the column headings set over several lines above a
// table ("Fixed Asset" over "Related Costs") as one row, each column's
// words top to bottom: "($ in millions) | Employee Costs | Fixed Asset
// Related Costs | Total". The columns are the strips the figures of the
// table's rows cover. Only lines wholly made of headings over single
// columns, or of words left of them, are stacked; a heading across several
// columns ("Year Ended December 31,") stays a line of its own.
func stackHeadings(ls []line) []line {
	for i := 1; i < len(ls); i++ {
		if !ls[i].row || ls[i-1].row {
			continue
		}
		end, gap := i, 0 // the table: rows, and at most two other lines in a row
		for ; end < len(ls) && end-i < maxHeadingRows && gap <= 2; end++ {
			if gap++; ls[end].row {
				gap = 0
			}
		}
		cols := figureColumns(ls[i:end])
		if len(cols) < 2 {
			continue
		}
		size := ls[i].ws[0].size
		k := i
		for k > 0 && i-k < maxHeadingLines {
			h := ls[k-1]
			if h.row || len(h.ws) == 0 || slices.ContainsFunc(h.ws, func(w word) bool { return w.rtl }) || h.y <= ls[i].y || h.y-ls[i].y > float64(maxHeadingLines+1)*2*size || !headingLine(h.ws, cols) {
				break
			}
			k--
		}
		if i-k < 2 {
			continue
		}
		// Each heading cell goes to the column under its middle; a
		// column's cells are read top to bottom.
		type piece struct {
			y, x float64
			s    string
		}
		pieces := make([][]piece, len(cols)+1)
		for _, l := range ls[k:i] {
			eachCell(l.ws, func(cell []word) {
				c, last := 0, cell[len(cell)-1]
				if last.x1 > cols[0].x0 {
					c = nearestColumn((cell[0].x0+last.x1)/2, cols) + 1
				}
				var b strings.Builder
				for j, w := range cell {
					if j > 0 {
						b.WriteByte(' ')
					}
					b.WriteString(w.s)
				}
				pieces[c] = append(pieces[c], piece{cell[0].y, cell[0].x0, b.String()})
			})
		}
		parts := make([][]string, len(pieces))
		for c, ps := range pieces {
			slices.SortStableFunc(ps, func(a, b piece) int {
				if math.Abs(a.y-b.y) > 0.5*size {
					return cmp.Compare(b.y, a.y)
				}
				return cmp.Compare(a.x, b.x)
			})
			for _, p := range ps {
				parts[c] = append(parts[c], p.s)
			}
		}
		var cells []string
		for c, p := range parts {
			if len(p) > 0 || c == 0 {
				cells = append(cells, strings.Join(p, " "))
			}
		}
		text := strings.Join(cells, " | ")
		if len(parts[0]) == 0 {
			text = strings.TrimPrefix(text, " | ")
		}
		stacked := line{y: ls[k].y, text: text}
		ls = append(ls[:k], append([]line{stacked}, ls[i:]...)...)
		i = k + 1
	}
	return ls
}

// figureColumns returns, left to right, the strips of x the figures of
// the table rows among ls cover, beyond each row's label.
func figureColumns(ls []line) []span {
	var spans []span
	for _, l := range ls {
		if !l.row {
			continue
		}
		label := true // the words before the first wide gap
		for j, w := range l.ws {
			if j > 0 && w.x0-l.ws[j-1].x1 > cellGap*math.Max(w.size, l.ws[j-1].size) {
				label = false
			}
			if label || !isFigure(w.s) || isCurrency(w.s) || isMark(w.s) || isFootnote(w.s) {
				continue
			}
			spans = append(spans, span{w.x0, w.x1})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.x0, b.x0) })
	var cols []span
	for _, s := range spans {
		if n := len(cols); n > 0 && s.x0 <= cols[n-1].x1 {
			cols[n-1].x1 = math.Max(cols[n-1].x1, s.x1)
			continue
		}
		cols = append(cols, s)
	}
	return cols
}

// eachCell calls f with each run of the words of a heading line (left to
// right) that no gap wider than a word space splits.
func eachCell(ws []word, f func([]word)) {
	start := 0
	for i := 1; i <= len(ws); i++ {
		if i == len(ws) || ws[i].x0-ws[i-1].x1 > headingGap*math.Max(ws[i].size, ws[i-1].size) {
			f(ws[start:i])
			start = i
		}
	}
}

// headingLine reports whether the words of a line are all headings of
// single columns among cols, or left of them all, and not all left.
func headingLine(ws []word, cols []span) bool {
	inColumn, ok := false, true
	eachCell(ws, func(cell []word) {
		x0, x1 := cell[0].x0, cell[len(cell)-1].x1
		if x1 <= cols[0].x0 {
			return // the label column's heading
		}
		inColumn = true
		covered := 0
		for _, c := range cols {
			if mid := (c.x0 + c.x1) / 2; x0 <= mid && mid <= x1 {
				covered++
			}
		}
		// A heading is no wider than one and a half columns: a centred
		// title over the table is not one.
		n := nearestColumn((x0+x1)/2, cols)
		pitch := math.Inf(1)
		if n > 0 {
			pitch = mid(cols[n]) - mid(cols[n-1])
		}
		if n+1 < len(cols) {
			pitch = math.Min(pitch, mid(cols[n+1])-mid(cols[n]))
		}
		if covered > 1 || x1-x0 > 1.5*pitch || !slices.ContainsFunc(cell, func(w word) bool { return !isFigure(w.s) }) {
			ok = false // across columns, or figures
		}
	})
	return ok && inColumn
}

func mid(s span) float64 { return (s.x0 + s.x1) / 2 }

// nearestColumn returns the index of the column in cols whose middle is
// nearest mid.
func nearestColumn(mid float64, cols []span) int {
	best, d := 0, math.Inf(1)
	for i, c := range cols {
		if e := math.Abs((c.x0+c.x1)/2 - mid); e < d {
			best, d = i, e
		}
	}
	return best
}
