package pdfdoc

import (
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/internal/pdfgen"
)

// statement is a small income statement: labels, then figures in three
// right-aligned columns, as filings set them.
var statement = [][]string{
	{"Net product sales", "$ 118,573", "$ 141,915", "$ 160,408"},
	{"Net service sales", "59,293", "90,972", "120,114"},
	{"Total net sales", "177,866", "232,887", "280,522"},
	{"Operating expenses:"},
	{"Cost of sales", "111,934", "139,156", "165,536"},
	{"Interest expense", "(848)", "(1,417)", "(1,600)"},
	{"Other income (expense), net", "346", "(183)", "—"},
	{"Net income", "$ 3,033", "$ 10,073", "$ 11,588"},
}

// drawTable draws statement with its header row at (x, y): the label
// column x wide, then columns col points wide, figures right-aligned.
func drawTable(p *pdfgen.Page, x, y, label, col float64) {
	const size = 9
	for i, h := range []string{"2017", "2018", "2019"} {
		right := x + label + float64(i+1)*col
		p.Text(pdfgen.Bold, size, right-pdfgen.TextWidth(pdfgen.Bold, size, h), y, h)
	}
	for r, row := range statement {
		ry := y - float64(r+1)*12
		p.Text(pdfgen.Regular, size, x, ry, row[0])
		for i, cell := range row[1:] {
			right := x + label + float64(i+1)*col
			fig := cell
			if rest, ok := strings.CutPrefix(cell, "$ "); ok {
				// The currency sign at the column's left, the figure at its right.
				p.Text(pdfgen.Regular, size, right-col+4, ry, "$")
				fig = rest
			}
			p.Text(pdfgen.Regular, size, right-pdfgen.TextWidth(pdfgen.Regular, size, fig), ry, fig)
		}
	}
}

// statementLines is statement as the engine must write it.
func statementLines() []string {
	out := []string{"2017 | 2018 | 2019"}
	for _, row := range statement {
		out = append(out, strings.Join(row, " | "))
	}
	return out
}

func TestTableRowsStayOnOneLine(t *testing.T) {
	d := &pdfgen.Doc{}
	p := d.NewPage()
	p.Text(pdfgen.Bold, 12, 72, 740, "CONSOLIDATED STATEMENTS OF OPERATIONS")
	drawTable(p, 72, 700, 220, 90)
	p.Text(pdfgen.Regular, 9, 72, 580, "See accompanying notes to consolidated financial statements.")
	got := strings.Split(extractText(t, d).Text(), "\n")
	want := append(append([]string{"CONSOLIDATED STATEMENTS OF OPERATIONS"}, statementLines()...),
		"See accompanying notes to consolidated financial statements.")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// column draws wrapped prose in a column width wide, from (x, y) down.
func column(p *pdfgen.Page, x, y, width float64, text string) []string {
	lines := pdfgen.Wrap(pdfgen.Regular, 10, width, text)
	for i, l := range lines {
		p.Text(pdfgen.Regular, 10, x, y-float64(i)*13, l)
	}
	return lines
}

const (
	leftProse = "Revenue grew in every segment during the year, led by the cloud business, " +
		"whose growth of 28 percent outpaced the market for the third year running. Margins " +
		"widened as data centre utilisation rose and the cost of sales grew more slowly " +
		"than revenue, while operating expenses were flat."
	rightProse = "Management expects capital expenditure of 2027 to be 14 percent higher, " +
		"with 3 new regions opening in the first half. 41 percent of the total goes to " +
		"servers, 2 further sites are planned for 2028, and the dividend stays at 1.20 " +
		"per share for the year."
)

func TestTwoColumnProseKeepsColumnOrder(t *testing.T) {
	d := &pdfgen.Doc{}
	p := d.NewPage()
	left := column(p, 72, 700, 220, leftProse)
	right := column(p, 320, 700, 220, rightProse)
	got := extractText(t, d).Text()
	want := strings.Join(append(append([]string{}, left...), right...), "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "|") {
		t.Errorf("prose set as a table: %q", got)
	}
}

func TestTableInsideTwoColumnPage(t *testing.T) {
	d := &pdfgen.Doc{}
	p := d.NewPage()
	left := column(p, 72, 700, 220, leftProse+" "+leftProse)
	right := column(p, 320, 700, 220, rightProse)
	y := 700 - float64(len(right)+1)*13
	drawTable(p, 320, y, 112, 46)
	got := extractText(t, d).Text()
	want := strings.Join(append(append(append([]string{}, left...), right...), statementLines()...), "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFootnoteMarksJoinTheirRow(t *testing.T) {
	d := &pdfgen.Doc{}
	p := d.NewPage()
	for r, row := range [][]string{{"Provision for credit losses", "761", "(1,868)"}, {"Net income/(loss)", "3,100", "5,645"}} {
		y := 700 - float64(r)*11
		p.Text(pdfgen.Regular, 8, 72, y, row[0])
		p.Text(pdfgen.Regular, 8, 260-pdfgen.TextWidth(pdfgen.Regular, 8, row[1]), y, row[1])
		p.Text(pdfgen.Regular, 8, 330-pdfgen.TextWidth(pdfgen.Regular, 8, row[2]), y, row[2])
	}
	p.Text(pdfgen.Regular, 5, 331, 689+3, "(a)") // raised, smaller
	want := "Provision for credit losses | 761 | (1,868)\nNet income/(loss) | 3,100 | 5,645 (a)"
	if got := extractText(t, d).Text(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestHeadingsLeftOfACentredTitleFollowIt(t *testing.T) {
	d := &pdfgen.Doc{}
	p := d.NewPage()
	p.Text(pdfgen.Bold, 10, 240, 740, "Consolidated Balance Sheets")
	p.Text(pdfgen.Regular, 9, 250, 728, "(In Millions, Except Par Value)")
	p.Text(pdfgen.Bold, 9, 330, 712, "May 31, 2020")
	p.Text(pdfgen.Bold, 9, 420, 712, "May 26, 2019")
	p.Text(pdfgen.Bold, 9, 72, 700, "ASSETS")
	p.Text(pdfgen.Regular, 9, 72, 688, "Current assets:")
	p.Text(pdfgen.Regular, 9, 72, 650, "See accompanying notes to consolidated financial statements.")
	want := "Consolidated Balance Sheets\n(In Millions, Except Par Value)\nMay 31, 2020 May 26, 2019\n" +
		"ASSETS\nCurrent assets:\nSee accompanying notes to consolidated financial statements."
	if got := extractText(t, d).Text(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestStackedColumnHeadingsBecomeOneRow(t *testing.T) {
	d := &pdfgen.Doc{}
	p := d.NewPage()
	// Headings of two, one and three lines, bottom-aligned over their
	// columns, beside the label column's own heading.
	head := func(right, y float64, s string) {
		p.Text(pdfgen.Bold, 9, right-pdfgen.TextWidth(pdfgen.Bold, 9, s), y, s)
	}
	p.Text(pdfgen.Bold, 9, 72, 700, "($ in millions)")
	head(310, 700, "Employee Costs")
	head(400, 711, "Fixed Asset")
	head(400, 700, "Related Costs")
	head(490, 700, "Other Costs")
	head(570, 722, "Total")
	head(570, 711, "Restructuring")
	head(570, 700, "Costs")
	for r, row := range [][]string{{"Liability balance at June 30, 2022", "97", "3", "18", "118"}, {"Cash paid", "(16)", "(1)", "(8)", "(25)"}} {
		y := 686 - float64(r)*12
		p.Text(pdfgen.Regular, 9, 72, y, row[0])
		for i, right := range []float64{310, 400, 490, 570} {
			p.Text(pdfgen.Regular, 9, right-pdfgen.TextWidth(pdfgen.Regular, 9, row[i+1]), y, row[i+1])
		}
	}
	want := "($ in millions) | Employee Costs | Fixed Asset Related Costs | Other Costs | Total Restructuring Costs\n" +
		"Liability balance at June 30, 2022 | 97 | 3 | 18 | 118\nCash paid | (16) | (1) | (8) | (25)"
	if got := extractText(t, d).Text(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestTableRowCells(t *testing.T) {
	// Words at x, 8 points high, each 5 points wide a character.
	row := func(xs []float64, ss ...string) []word {
		var ws []word
		for i, s := range ss {
			ws = append(ws, word{x0: xs[i], x1: xs[i] + 5*float64(len(s)), size: 8, s: s})
		}
		return ws
	}
	for _, tc := range []struct {
		ws   []word
		want string
	}{
		// A parenthesis set apart from its figure, a currency sign close to
		// the figure before it.
		{row([]float64{0, 200, 240, 300, 330}, "Loss", "(", "377)", "$", "12"), "Loss | ( 377) | $ 12"},
		// Tight figures still part; a date in a heading cell does not.
		{row([]float64{0, 200, 235, 300, 323, 337}, "Cash", "5,698", "(14)", "May", "26,", "2019"), "Cash | 5,698 | (14) | May 26, 2019"},
		// Prose with a wide gap and no figures is no table row.
		{row([]float64{0, 200}, "Revenue", "grew"), ""},
	} {
		if got := tableRow(tc.ws); got != tc.want {
			t.Errorf("tableRow = %q, want %q", got, tc.want)
		}
	}
}

func TestIsFigure(t *testing.T) {
	for s, want := range map[string]bool{
		"1,234": true, "(1,600)": true, "$": true, "$118,573": true, "12.5%": true,
		"—": true, "-": true, "NM": true, "(a)": true, "2.5x": true, "€": true,
		"44-49": true, "2019–2021": true, "10-": false,
		"Revenue": false, "(Decrease)": false, "Q4": false, "10-K": false, "a": false,
	} {
		if got := isFigure(s); got != want {
			t.Errorf("isFigure(%q) = %v, want %v", s, got, want)
		}
	}
}

// BenchmarkLayoutFilings lays out the pages of the filings corpus' most
// table-heavy filings from glyphs read once, so that it measures the
// layout alone.
func BenchmarkLayoutFilings(b *testing.B) {
	var pages [][]glyph
	n := 0
	for _, f := range filings(b) {
		if !strings.HasPrefix(f.Name, "AMAZON") && !strings.HasPrefix(f.Name, "JPMORGAN_2022") &&
			!strings.HasPrefix(f.Name, "JOHNSON") && !strings.HasPrefix(f.Name, "MGMRESORTS_2023") {
			continue
		}
		r, _, err := open(f.Data, &Options{})
		if err != nil {
			b.Fatalf("%s: %v", f.Name, err)
		}
		for i := 1; i <= r.NumPage(); i++ {
			pr := &pageReader{maxGlyphs: 500000, stop: func() bool { return false }}
			if err := pageGlyphs(r, i, pr); err != nil {
				b.Fatalf("%s page %d: %v", f.Name, i, err)
			}
			pages = append(pages, pr.glyphs)
			n += len(pr.glyphs)
		}
	}
	scratch := make([]glyph, 0, n)
	for b.Loop() {
		for _, p := range pages {
			// layoutPage reorders its glyphs: give it each page as read.
			layoutPage(append(scratch[:0], p...))
		}
	}
	b.ReportMetric(float64(len(pages)), "pages/op")
	b.ReportMetric(float64(n), "glyphs/op")
}
