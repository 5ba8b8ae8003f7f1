// Package synth writes synthetic research notes in the format of the
// samples (samples/research-note-*.txt), so that anyone can rebuild a
// database of any size for benchmarks: every note is different, is
// deterministic in its number, and gives the rules extractor a thesis,
// research perspectives and a fixed number of data points with the units
// analysts filter on (%, bp, x, USD, plain numbers).
package synth

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

var (
	stances      = []string{"Bullish", "Bearish", "Neutral", "Mixed"}
	perspectives = []string{"Rates", "Credit", "Equity", "Macro", "Commodities", "FX", "Policy", "Flows"}
	horizons     = []string{"0-2 Year", "1-3 Year", "0-5 Year", "12-24 months", "0-1 Year"}
	sectors      = []string{"regional banks", "refiners", "semiconductors", "utilities", "homebuilders", "insurers",
		"airlines", "miners", "software", "retailers", "REITs", "shipping", "autos", "telecoms", "chemicals", "media"}
	verbs   = []string{"rerate", "normalise", "compress", "recover", "diverge", "outperform", "lag", "stabilise"}
	drivers = []string{"deposit costs peak", "capacity comes online", "margins revert", "rates fall", "spreads widen",
		"demand slows", "inventories rebuild", "capex rises", "credit tightens", "earnings revise"}
	measures = []string{"spread over Treasuries", "EV/EBITDA", "net debt to EBITDA", "EPS growth", "free cash flow yield",
		"loan growth", "deposit beta", "capacity utilisation", "gross margin", "default rate", "share buybacks",
		"inventory days", "order backlog", "price to book", "dividend yield", "capex"}
	firstNames = []string{"Odile", "Ravi", "Mei", "Jonas", "Ana", "Kwame", "Sofia", "Hiro", "Lena", "Tomás", "Priya", "Elliot"}
	lastNames  = []string{"Marchetti", "Okafor", "Lindqvist", "Tanaka", "Duarte", "Brennan", "Haddad", "Novak", "Iyer", "Keller"}
	firms      = []string{"Meridian", "Halvorsen", "Calder Street", "Brightwater", "Tollgate", "Northgate", "Ashby", "Corran",
		"Feldspar", "Kestrel", "Larchmont", "Penrose", "Quayside", "Redfern", "Stanwick", "Thornbury", "Umber", "Vantage"}
	firmKinds = []string{"Analytics", "Research", "Equity Data", "Credit Research", "Energy Consultants", "Macro",
		"Commodities desk", "estimates", "Economics", "Securities"}
	months = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September",
		"October", "November", "December"}
)

// Sources is the number of distinct data point sources notes cite.
const Sources = 18 * 10 * 12

// rng is a small deterministic generator (SplitMix64).
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// value returns a figure as an analyst writes it, cycling through the
// units the documented queries filter on.
func value(r *rng, k int) string {
	switch k % 8 {
	case 0:
		return fmt.Sprintf("%d bps (%s %d, 2026)", 40+r.intn(600), pick(r, months), 1+r.intn(28))
	case 1:
		return fmt.Sprintf("%d.%d%%", r.intn(30), r.intn(10))
	case 2:
		return fmt.Sprintf("%d.%dx vs. ten-year median %d.%dx", 3+r.intn(25), r.intn(10), 3+r.intn(25), r.intn(10))
	case 3:
		return fmt.Sprintf("$%d billion cumulative", 1+r.intn(900))
	case 4:
		return fmt.Sprintf("%d.%d%%-%d.%d%%", 1+r.intn(5), r.intn(10), 6+r.intn(20), r.intn(10))
	case 5:
		return fmt.Sprintf("-%d%%", 1+r.intn(40))
	case 6:
		return fmt.Sprintf("%d.%dx average (year-end 2025)", r.intn(6), r.intn(10))
	default:
		return fmt.Sprintf("%d,%03d units", 1+r.intn(90), r.intn(1000))
	}
}

func source(r *rng) string {
	return fmt.Sprintf("%s %s, %s 2026", pick(r, firms), pick(r, firmKinds), pick(r, months))
}

// Note returns synthetic note n with points data points (at least one),
// spread over research perspectives of up to ten points each.
func Note(n, points int) string {
	r := rng(uint64(n)*0x2545f4914f6cdd1d + 1)
	points = max(points, 1)
	var b strings.Builder
	sector := pick(&r, sectors)
	fmt.Fprintf(&b, "%s\nsector\nactive\n\n", pick(&r, stances))
	fmt.Fprintf(&b, "%s %s as %s (note %d)\n\n", strings.ToUpper(sector[:1])+sector[1:], pick(&r, verbs), pick(&r, drivers), n)
	fmt.Fprintf(&b, "We expect %s to %s over 2026-2028 as %s, with earnings following the cycle rather than leading it.\n\n",
		sector, pick(&r, verbs), pick(&r, drivers))
	fmt.Fprintf(&b, "Conviction: %d/10\nBy: %s %s\nUpdated %s %d, 2026\n\n", 1+r.intn(10), pick(&r, firstNames), pick(&r, lastNames),
		pick(&r, months), 1+r.intn(28))
	k := 0
	for sec := 0; k < points; sec++ {
		persp := perspectives[(n+sec)%len(perspectives)]
		fmt.Fprintf(&b, "%s Research\n\n(1 entry)\n%s %s\nConfidence: %d/10|Conviction: %d/10\n", persp, pick(&r, stances),
			pick(&r, horizons), 1+r.intn(10), 1+r.intn(10))
		fmt.Fprintf(&b, "From the %s side, %s %s while %s; the market prices little of it. "+
			"Risks are a faster cycle and policy surprises.\n\nKey Data Points\n\n", strings.ToLower(persp), sector, pick(&r, verbs), pick(&r, drivers))
		table := sec%2 == 1
		if table {
			b.WriteString("Indicator | Value | Source | Implication\n")
		}
		for i := 0; i < 10 && k < points; i, k = i+1, k+1 {
			ind := fmt.Sprintf("%s %s %d", strings.ToUpper(sector[:1])+sector[1:], pick(&r, measures), k)
			val, src := value(&r, k), source(&r)
			impl := fmt.Sprintf("%s %s as %s", sector, pick(&r, verbs), pick(&r, drivers))
			if table {
				fmt.Fprintf(&b, "%s | %s | %s | %s\n", ind, val, src, impl)
			} else {
				fmt.Fprintf(&b, "indicator: %s\nvalue: %s\nsource: %s\nimplication: %s\n", ind, val, src, impl)
			}
		}
		fmt.Fprintf(&b, "\nSources\n\n%s %d, 2026\n\n", pick(&r, months), 1+r.intn(28))
	}
	return b.String()
}

// WriteNotes writes notes first..first+count-1 into dir as
// note-NNNNNNN.txt, each with points data points, and returns their paths
// and total size.
func WriteNotes(dir string, first, count, points int) (paths []string, bytes int64, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, fmt.Errorf("synthetic notes: %w", err)
	}
	for n := first; n < first+count; n++ {
		p := filepath.Join(dir, fmt.Sprintf("note-%07d.txt", n))
		body := Note(n, points)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return nil, 0, fmt.Errorf("synthetic notes: %w", err)
		}
		paths = append(paths, p)
		bytes += int64(len(body))
	}
	return paths, bytes, nil
}

// PageStarts splits text into pages as a PDF's would be stored: where each
// page starts, in characters (runes, as schema.Document.PageStarts), a new
// page beginning at the first line after every size characters. It gives
// a database of text notes the pages of a database of PDFs.
func PageStarts(text string, size int) []int {
	starts := []int{0}
	size = max(size, 1)
	total := utf8.RuneCountInString(text)
	chars, next := 0, size
	for _, r := range text {
		chars++
		if r == '\n' && chars >= next && chars < total {
			starts = append(starts, chars)
			next = chars + size
		}
	}
	return starts
}
