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
	digits := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == ',' || c == '.':
		default:
			return false
		}
	}
	return digits > 0
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
	for i, w := range ws {
		split := i == 0
		if i > 0 {
			prev := ws[i-1]
			switch {
			case w.size < 0.85*prev.size && w.x0-prev.x1 < prev.size:
				// a superscript mark stays with what it annotates
			case w.x0-prev.x1 > cellGap*math.Max(w.size, prev.size):
				split = true
			case isCurrency(w.s):
				split = true
			case len(cells) > 1 && isFigure(w.s) && !isMark(w.s) && !isCurrency(prev.s) && allFigures(cells[len(cells)-1]):
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
	// A cell that is only a currency sign belongs to the figure after it,
	// one that is only a percent sign or parenthesis to the one before.
	var out []string
	figure := false
	for i := 0; i < len(cells); i++ {
		c := strings.Join(cells[i], " ")
		switch {
		case isCurrency(c) && i+1 < len(cells):
			cells[i+1] = append([]string{c}, cells[i+1]...)
			continue
		case len(out) > 0 && (isMark(c) || isFootnote(c)):
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
