package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// PagedText joins a paged document's pages as a PDF's text is joined (the
// pages that are not blank, separated by a blank line), cleans the result
// exactly as CleanText does, and returns with it where each page starts in
// it, in runes (the unit of a data point's char_start). A page that is
// blank, or cleans to nothing, starts where the next page does, so that
// every character lies on the page it came from.
func PagedText(pages []string) (text string, starts []int) {
	var b strings.Builder
	marks := make([]int, len(pages))
	blank := make([]bool, len(pages))
	wrote := false
	for i, p := range pages {
		if strings.TrimSpace(p) == "" {
			blank[i] = true
			continue
		}
		if wrote {
			b.WriteString("\n\n")
		}
		marks[i] = b.Len()
		b.WriteString(p)
		wrote = true
	}
	// A blank page is marked where the next page starts (after the
	// separator), or at the very end.
	next := b.Len()
	for i := len(pages) - 1; i >= 0; i-- {
		if blank[i] {
			marks[i] = next
		} else {
			next = marks[i]
		}
	}
	return cleanMarked(b.String(), marks)
}

// cleanMarked is CleanText(s), also mapping marks (ascending byte offsets
// into s) to rune offsets in the result: each to where the first rune the
// result keeps from s[mark:] stands, or to the result's end.
func cleanMarked(s string, marks []int) (string, []int) {
	at := make([]int, len(marks))
	var b strings.Builder
	b.Grow(len(s))
	n, k := 0, 0 // runes written, next mark
	emit := func(r rune, src int) {
		for k < len(marks) && marks[k] <= src {
			at[k] = n
			k++
		}
		b.WriteRune(r)
		n++
	}
	// Newlines and spaces are held back until a rune that is neither shows
	// they are kept: spaces ending a line are dropped, and runs of three
	// or more newlines (blank lines included) fold to two.
	var (
		newlines   int
		nlSrc      [2]int
		spaces     []rune
		spaceSrc   []int
		flushLines = func() {
			for i := 0; i < newlines && i < 2; i++ {
				emit('\n', nlSrc[i])
			}
			newlines = 0
		}
	)
	for i := 0; i < len(s); {
		if c := s[i]; c > ' ' && c < utf8.RuneSelf && c != 0x7f {
			// A run of printable ASCII other than space is kept as it is.
			flushLines()
			for j, sp := range spaces {
				emit(sp, spaceSrc[j])
			}
			spaces, spaceSrc = spaces[:0], spaceSrc[:0]
			j := i + 1
			for j < len(s) && s[j] > ' ' && s[j] < utf8.RuneSelf && s[j] != 0x7f {
				j++
			}
			for k < len(marks) && marks[k] < j {
				at[k] = n + max(marks[k]-i, 0)
				k++
			}
			b.WriteString(s[i:j])
			n += j - i
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		src := i
		i += size
		switch {
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue // "\r\n" is one line end
			}
			r = '\n'
		case r == '\n' || r == '\t':
		case r == '\f' || r == '\v':
			r = '\n'
		case r == utf8.RuneError, r == '\uFEFF', unicode.IsControl(r):
			continue
		}
		switch {
		case r == '\n':
			spaces, spaceSrc = spaces[:0], spaceSrc[:0]
			if newlines < 2 {
				nlSrc[newlines] = src
			}
			newlines++
		case unicode.IsSpace(r):
			spaces = append(spaces, r)
			spaceSrc = append(spaceSrc, src)
		default:
			flushLines()
			for j, sp := range spaces {
				emit(sp, spaceSrc[j])
			}
			spaces, spaceSrc = spaces[:0], spaceSrc[:0]
			emit(r, src)
		}
	}
	flushLines()
	for ; k < len(marks); k++ {
		at[k] = n
	}
	return b.String(), at
}
