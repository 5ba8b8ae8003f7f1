package web

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/thesisdb/thesisdb/store"
)

// segment is a run of a document's text covered by the same data points'
// quotes (none for plain text). Page, when > 0, is the PDF page that
// starts with this segment; Anchors are the data points whose quote
// starts here.
type segment struct {
	Text       string
	DPs        string // space-separated data point ids
	Ungrounded bool   // every data point covering it is ungrounded
	Page       int
	Anchors    []int64
}

type span struct {
	id         int64
	start, end int
	grounded   bool
}

// segments cuts text at every quote's start and end and every page start
// (offsets count runes, as the store's char_start and char_end do), so
// that each data point's passage is the concatenation of the segments
// naming it. Offsets past the text are clamped; a quote without a
// position is not shown in the text.
func segments(text string, theses []store.ThesisDetail, pageStarts []int) []segment {
	n := utf8.RuneCountInString(text)
	var spans []span
	for _, t := range theses {
		for _, p := range t.DataPoints {
			if p.CharStart == nil || p.CharEnd == nil {
				continue
			}
			s, e := min(max(*p.CharStart, 0), n), min(max(*p.CharEnd, 0), n)
			if e <= s {
				continue
			}
			spans = append(spans, span{p.ID, s, e, p.Grounded})
		}
	}
	cuts := map[int]bool{0: true, n: true}
	for _, sp := range spans {
		cuts[sp.start], cuts[sp.end] = true, true
	}
	pageAt := map[int]int{}
	for i, ps := range pageStarts {
		if ps >= 0 && ps <= n {
			cuts[ps] = true
			if _, seen := pageAt[ps]; !seen || i+1 > pageAt[ps] {
				// Empty pages start where the next one does: the
				// marker names the page the text is on.
				pageAt[ps] = i + 1
			}
		}
	}
	points := make([]int, 0, len(cuts))
	for c := range cuts {
		points = append(points, c)
	}
	sort.Ints(points)
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].start != spans[j].start {
			return spans[i].start < spans[j].start
		}
		return spans[i].id < spans[j].id
	})

	// byte offset of each cut, found in one pass over the text.
	bytesAt := make([]int, len(points))
	ri, bi, k := 0, 0, 0
	for k < len(points) && points[k] == 0 {
		bytesAt[k] = 0
		k++
	}
	for bi < len(text) && k < len(points) {
		_, size := utf8.DecodeRuneInString(text[bi:])
		bi += size
		ri++
		for k < len(points) && points[k] == ri {
			bytesAt[k] = bi
			k++
		}
	}
	for ; k < len(points); k++ {
		bytesAt[k] = len(text)
	}

	var out []segment
	next := 0 // spans[:next] have started
	var open []span
	for i := 0; i+1 < len(points); i++ {
		at := points[i]
		seg := segment{Text: text[bytesAt[i]:bytesAt[i+1]], Page: pageAt[at]}
		// drop spans that ended, add those starting here
		kept := open[:0]
		for _, sp := range open {
			if sp.end > at {
				kept = append(kept, sp)
			}
		}
		open = kept
		for next < len(spans) && spans[next].start <= at {
			if spans[next].end > at {
				open = append(open, spans[next])
				seg.Anchors = append(seg.Anchors, spans[next].id)
			}
			next++
		}
		if len(open) > 0 {
			ids := make([]string, len(open))
			seg.Ungrounded = true
			for j, sp := range open {
				ids[j] = strconv.FormatInt(sp.id, 10)
				seg.Ungrounded = seg.Ungrounded && !sp.grounded
			}
			seg.DPs = strings.Join(ids, " ")
		}
		out = append(out, seg)
	}
	if len(out) == 0 && n == 0 && len(pageStarts) > 0 {
		out = append(out, segment{Page: 1})
	}
	return out
}
