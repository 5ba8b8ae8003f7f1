// Command gensample writes samples/research-note-semis.pdf, a fictional
// structured research note, laid out like the research platform's notes:
//
//	go run ./extract/pdfdoc/internal/gensample -o samples/research-note-semis.pdf
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/thesisdb/thesisdb/internal/pdfgen"
)

type dataPoint struct{ indicator, value, source, implication string }

type section struct {
	name, stance, scores, summary string
	points                        []dataPoint
}

var note = struct {
	badge, title, statement, conviction, by, updated string
	sections                                         []section
}{
	badge:      "Bearish semiconductors active",
	title:      "Memory Chip Oversupply Returns in 2027",
	statement:  "Capacity added for AI accelerators will spill into commodity DRAM and NAND, pushing memory prices down and squeezing margins at the large memory makers over 2026-2028.",
	conviction: "Conviction: 6/10",
	by:         "By: Priya Okonkwo",
	updated:    "Updated March 9, 2026",
	sections: []section{{
		name:   "Equity Research",
		stance: "Bearish 0-5 Year",
		scores: "Confidence: 6/10|Conviction: 5/10",
		summary: "Memory makers have spent two years redirecting wafers to high-bandwidth memory for AI accelerators, and the resulting scarcity lifted contract prices for ordinary DRAM. " +
			"That scarcity is now being answered: the three largest producers plan to raise combined wafer starts sharply next year while new fabs in Asia reach volume. " +
			"Our channel checks suggest inventories at module makers are already rising, and the history of this industry is that price declines arrive faster than guidance admits. " +
			"We expect gross margins to peak within two quarters and fall through 2027, with the stocks discounting the turn well before the reported numbers show it.",
		points: []dataPoint{
			{"Planned DRAM wafer starts 2027", "+18% year over year", "Northgate Semiconductor Survey, February 2026", "Supply growth well above the 10-12% bit demand trend points to oversupply"},
			{"Module maker inventory", "14 weeks vs. 9 weeks a year ago", "Keystone Channel Checks, March 2026", "Rising inventory usually precedes contract price cuts by one to two quarters"},
			{"DDR5 contract price Q1 2026", "$4.10 per gigabit, up 35% in a year", "Harbor Memory Tracker, March 2026", "Prices sit near cycle highs, leaving little room for further gains"},
			{"HBM share of DRAM wafer capacity", "22% in 2026 from 9% in 2024", "Lumen Analytics, January 2026", "Once HBM lines are fully built, marginal capacity returns to commodity parts"},
		},
	}, {
		name:   "Credit Research",
		stance: "Bearish 0-5 Year",
		scores: "Confidence: 5/10|Conviction: 4/10",
		summary: "Balance sheets are stronger than at the last downturn, yet capital spending commitments are larger too. " +
			"Free cash flow turns negative quickly when prices fall while fab construction continues, and bond spreads for the sector are close to their tightest in a decade. " +
			"We see limited default risk but meaningful spread widening once the price cycle turns.",
		points: []dataPoint{
			{"Sector capital spending 2026", "$61 billion, up 27%", "Company guidance compiled by Meridian, February 2026", "Spending is fixed for the year even if prices soften"},
			{"Net debt to EBITDA, top three makers", "0.6x vs. 1.4x in 2023", "Meridian Credit Model, March 2026", "Leverage is low today but rises fast when EBITDA falls"},
			{"Sector bond spread", "92 bps, 10-year low", "Index data, March 2026", "Tight spreads leave no cushion for a downturn"},
			{"Free cash flow in the 2023 downturn", "Minus $9 billion for the top three", "Company filings", "A repeat would force new borrowing at wider spreads"},
		},
	}},
}

const (
	left, right = 60.0, 552.0
	top, bottom = 720.0, 80.0
)

func main() {
	out := flag.String("o", "samples/research-note-semis.pdf", "output file")
	flag.Parse()
	d := &pdfgen.Doc{Info: map[string]string{
		"Title":        note.title,
		"Author":       "Priya Okonkwo",
		"CreationDate": "D:20260309090000Z",
		"Producer":     "thesisdb gensample",
	}}
	w := &writer{doc: d}
	w.newPage()
	w.line(pdfgen.Bold, 9, note.badge)
	w.gap(6)
	w.line(pdfgen.Bold, 18, note.title)
	w.gap(4)
	w.para(pdfgen.Regular, 11, note.statement)
	w.gap(6)
	w.line(pdfgen.Regular, 10, note.conviction)
	w.line(pdfgen.Regular, 10, note.by)
	w.line(pdfgen.Regular, 10, note.updated)
	for _, s := range note.sections {
		w.gap(14)
		w.line(pdfgen.Bold, 14, s.name)
		w.line(pdfgen.Regular, 10, "(1 entry)")
		w.line(pdfgen.Bold, 10, s.stance)
		w.line(pdfgen.Regular, 10, s.scores)
		w.gap(4)
		w.para(pdfgen.Regular, 10, s.summary)
		w.gap(8)
		w.line(pdfgen.Bold, 12, "Key Data Points")
		for _, p := range s.points {
			w.keep(4)
			w.field("indicator: " + p.indicator)
			w.field("value: " + p.value)
			w.field("source: " + p.source)
			w.field("implication: " + p.implication)
		}
	}
	w.finish()
	if err := os.WriteFile(*out, d.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

type writer struct {
	doc   *pdfgen.Doc
	page  *pdfgen.Page
	pages []*pdfgen.Page
	y     float64
}

func (w *writer) newPage() {
	w.page = w.doc.NewPage()
	w.pages = append(w.pages, w.page)
	w.page.Text(pdfgen.Regular, 8, left, 760, "Meridian Research Notes | For professional investors only")
	w.y = top
}

func (w *writer) keep(lines int) {
	if w.y-float64(lines)*13 < bottom {
		w.newPage()
	}
}

func (w *writer) gap(pt float64) { w.y -= pt }

func (w *writer) line(f pdfgen.Font, size float64, s string) {
	if pdfgen.TextWidth(f, size, s) > right-left {
		log.Fatalf("line too wide for the page: %q", s)
	}
	w.keep(1)
	w.y -= size * 1.3
	w.page.Text(f, size, left, w.y, s)
}

// field writes one "label: value" line, which must fit on one line.
func (w *writer) field(s string) { w.line(pdfgen.Regular, 9.5, s) }

func (w *writer) para(f pdfgen.Font, size float64, s string) {
	for _, l := range pdfgen.Wrap(f, size, right-left, s) {
		w.line(f, size, l)
	}
}

// finish stamps "Page n of m" footers once the page count is known.
func (w *writer) finish() {
	for i, p := range w.pages {
		p.Text(pdfgen.Regular, 8, left, 40, fmt.Sprintf("Page %d of %d", i+1, len(w.pages)))
	}
}
