package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/thesisdb/thesisdb/schema"
)

// pageSpan is one page of a document's text: characters (runes) from
// CharStart to CharEnd, the unit of data_points.char_start.
type pageSpan struct {
	Page      int `json:"page"`
	CharStart int `json:"char_start"`
	CharEnd   int `json:"char_end"`
}

// pageSpans returns doc's pages with where each starts and ends in its
// text; nil when it has none (it is not a PDF).
func pageSpans(doc *schema.Document) []pageSpan {
	n := utf8.RuneCountInString(doc.Text)
	var spans []pageSpan
	for i, start := range doc.PageStarts {
		end := n
		if i+1 < len(doc.PageStarts) {
			end = doc.PageStarts[i+1]
		}
		spans = append(spans, pageSpan{Page: i + 1, CharStart: start, CharEnd: end})
	}
	return spans
}

// pageMarker is the line `thesisdb text --pages` prints before each page.
func pageMarker(page int) string { return fmt.Sprintf("--- page %d ---", page) }

// writePaged prints doc's text with a marker line before each page, the
// page's text without the blank lines that separate pages. A page with no
// text is its marker alone.
func writePaged(w io.Writer, doc *schema.Document) error {
	// Byte offset of every rune offset a page starts or ends at.
	spans := pageSpans(doc)
	at := make(map[int]int, 2*len(spans))
	for _, s := range spans {
		at[s.CharStart], at[s.CharEnd] = -1, -1
	}
	r := 0
	for b := range doc.Text {
		if _, ok := at[r]; ok {
			at[r] = b
		}
		r++
	}
	if _, ok := at[r]; ok {
		at[r] = len(doc.Text)
	}
	var sb strings.Builder
	for _, s := range spans {
		from, to := at[s.CharStart], at[s.CharEnd]
		if from < 0 || to < from {
			return fmt.Errorf("page %d: offsets %d..%d outside the text", s.Page, s.CharStart, s.CharEnd)
		}
		sb.WriteString(pageMarker(s.Page))
		sb.WriteByte('\n')
		if t := strings.Trim(doc.Text[from:to], "\n"); t != "" {
			sb.WriteString(t)
			sb.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, sb.String())
	return err
}
