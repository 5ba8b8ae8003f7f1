package pdfdoc

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/internal/pdfgen"
	"github.com/thesisdb/thesisdb/internal/textscore"
)

// scanText is the known text of the generated scanned pages.
const scanText = `Credit Outlook March 2026. We remain overweight investment grade credit
over the next twelve months. The US High Yield Index spread closed at 284 basis
points on January 31, well below its ten year average of 420 basis points.
Default rates fell to 3.1 percent and leverage is stable at 4.2 times EBITDA.
Issuance of 145 billion dollars in the first quarter was absorbed easily by
demand from insurers and pension funds. We expect spreads to widen modestly
as growth slows, so we prefer shorter maturities and higher quality issuers.`

// needOCR skips a test when the OCR engine is not installed.
func needOCR(t *testing.T) {
	t.Helper()
	if err := OCRMissing(); err != nil {
		t.Skip(err)
	}
}

// scannedPage renders text on a letter page at 200 DPI, as a scanner
// would see it.
func scannedPage(t *testing.T, text string) *image.Gray {
	t.Helper()
	img, err := pdfgen.ScanText(context.Background(), text, 200)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestOCRImageOnlyPDF: a PDF of one scanned page has no text layer; OCR
// reads its words back and its metadata from pdfinfo.
func TestOCRImageOnlyPDF(t *testing.T) {
	needOCR(t)
	d := &pdfgen.Doc{Info: map[string]string{"Title": "Credit Outlook", "CreationDate": "D:20260305"}}
	d.NewPage().Image(scannedPage(t, scanText), 0, 0, 612, 792)
	data := d.Bytes()
	ctx := context.Background()
	if _, err := Extract(ctx, data, nil); !errors.Is(err, ErrNoText) {
		t.Fatalf("Extract: err = %v, want ErrNoText", err)
	}
	doc, err := OCR(ctx, data, nil, OCRAuto)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Pages) != 1 {
		t.Fatalf("%d pages, want 1", len(doc.Pages))
	}
	if r := textscore.WordRecall(doc.Pages[0], scanText); r < 0.9 {
		t.Errorf("word recall %.3f < 0.9; OCR text:\n%s", r, doc.Pages[0])
	} else {
		t.Logf("word recall %.3f", r)
	}
	if doc.Title != "Credit Outlook" || doc.Created != "2026-03-05" {
		t.Errorf("title %q, created %q: want the Info dictionary's", doc.Title, doc.Created)
	}
	if len(doc.Warnings) != 1 || doc.Warnings[0] != "text from OCR (page 1)" {
		t.Errorf("warnings %q, want [text from OCR (page 1)]", doc.Warnings)
	}
}

// TestOCRAutoOnlyImagePages: in a document with a text page, a blank page,
// a scanned page and a page with only a logo, auto OCRs the scanned page
// only and keeps every page in its place.
func TestOCRAutoOnlyImagePages(t *testing.T) {
	needOCR(t)
	first := "Page one has a real text layer about rates and duration."
	d := &pdfgen.Doc{}
	d.TextPage(first)
	d.NewPage()
	d.NewPage().Image(scannedPage(t, scanText), 0, 0, 612, 792)
	logo := scannedPage(t, "LOGO") // its text would be read if the page were OCRed
	d.NewPage().Image(logo, 72, 600, 100, 130)
	data := d.Bytes()
	ctx := context.Background()
	doc, err := Extract(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Pages) != 4 || doc.Pages[2] != "" || doc.Pages[3] != "" {
		t.Fatalf("text layer pages %q: want 4, the last two empty", doc.Pages)
	}
	doc, err = OCR(ctx, data, doc, OCRAuto)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Pages) != 4 {
		t.Fatalf("%d pages after OCR, want 4", len(doc.Pages))
	}
	if doc.Pages[3] != "" {
		t.Errorf("the logo page was OCRed: %q", doc.Pages[3])
	}
	if doc.Pages[0] != first || doc.Pages[1] != "" {
		t.Errorf("pages 1 and 2 changed: %q", doc.Pages[:2])
	}
	if r := textscore.WordRecall(doc.Pages[2], scanText); r < 0.9 {
		t.Errorf("page 3 word recall %.3f < 0.9:\n%s", r, doc.Pages[2])
	}
	if got := strings.Join(doc.Warnings, "; "); got != "text from OCR (page 3)" {
		t.Errorf("warnings %q, want text from OCR (page 3)", got)
	}
}

// TestOCRAutoLeavesTextPDFAlone: a document with text on every page is
// returned as it is, without running anything (PATH is empty).
func TestOCRAutoLeavesTextPDFAlone(t *testing.T) {
	d := &pdfgen.Doc{}
	d.TextPage(scanText)
	data := d.Bytes()
	doc, err := Extract(context.Background(), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := doc.Text()
	t.Setenv("PATH", t.TempDir())
	got, err := OCR(context.Background(), data, doc, OCRAuto)
	if err != nil || got.Text() != before || len(got.Warnings) != 0 {
		t.Errorf("OCR auto on a text PDF: err %v, warnings %q, text changed %v", err, got.Warnings, got.Text() != before)
	}
}

// TestImageCover measures what images cover, inline images included.
func TestImageCover(t *testing.T) {
	if _, err := exec.LookPath("pdfimages"); err != nil {
		t.Skip("pdfimages not installed")
	}
	d := &pdfgen.Doc{}
	d.NewPage().Raw("q 612 0 0 792 0 0 cm BI /W 85 /H 110 /CS /G /BPC 8 ID\n" + strings.Repeat("\x80", 85*110) + "\nEI Q")
	d.NewPage().Image(image.NewGray(image.Rect(0, 0, 60, 90)), 72, 72, 60, 90)
	d.NewPage()
	cover, err := imageCover(context.Background(), d.Bytes(), 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[int][2]float64{1: {612, 792}, 2: {612, 792}, 3: {612, 792}}
	if c := cover[1] / (612 * 792); c < 0.95 || c > 1.05 {
		t.Errorf("inline full-page image covers %.2f of page 1, want 1", c)
	}
	if c := cover[2]; c < 60*90*0.95 || c > 60*90*1.05 {
		t.Errorf("logo covers %.0f square points, want %d", c, 60*90)
	}
	if !scanned(cover, sizes, 1) || scanned(cover, sizes, 2) || scanned(cover, sizes, 3) {
		t.Errorf("scanned pages: %v %v %v, want only page 1", scanned(cover, sizes, 1), scanned(cover, sizes, 2), scanned(cover, sizes, 3))
	}
}

// TestOCRForce replaces a text layer with what OCR reads.
func TestOCRForce(t *testing.T) {
	needOCR(t)
	d := &pdfgen.Doc{}
	d.TextPage(scanText)
	d.TextPage("A second page on equity valuations at 18.5 times forward earnings.")
	data := d.Bytes()
	doc, err := Extract(context.Background(), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc.Pages[0] = "stale"
	doc, err = OCR(context.Background(), data, doc, OCRForce)
	if err != nil {
		t.Fatal(err)
	}
	if r := textscore.WordRecall(doc.Pages[0], scanText); r < 0.9 {
		t.Errorf("page 1 word recall %.3f < 0.9:\n%s", r, doc.Pages[0])
	}
	if !strings.Contains(doc.Pages[1], "18.5 times forward earnings") {
		t.Errorf("page 2 = %q", doc.Pages[1])
	}
	if got := strings.Join(doc.Warnings, "; "); got != "text from OCR (--ocr force: pages 1-2)" {
		t.Errorf("warnings %q", got)
	}
}

// TestOCRMissingEngine names the packages to install when the programs
// are not on PATH.
func TestOCRMissingEngine(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 100, 100))
	d := &pdfgen.Doc{}
	d.NewPage().Image(img, 0, 0, 612, 792)
	t.Setenv("PATH", t.TempDir())
	_, err := OCR(context.Background(), d.Bytes(), nil, OCRAuto)
	if !errors.Is(err, ErrNoOCR) {
		t.Fatalf("err = %v, want ErrNoOCR", err)
	}
	for _, want := range []string{"poppler-utils tesseract-ocr tesseract-ocr-eng", "not found on PATH: pdfinfo, pdfimages, pdftoppm, tesseract"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestOCRBlankPagesOnly: an image-less, text-less PDF stays ErrNoText.
func TestOCRBlankPagesOnly(t *testing.T) {
	needOCR(t)
	d := &pdfgen.Doc{}
	d.NewPage()
	_, err := OCR(context.Background(), d.Bytes(), nil, OCRAuto)
	if !errors.Is(err, ErrNoText) {
		t.Fatalf("err = %v, want ErrNoText", err)
	}
	// A blank image is OCRed, and found empty.
	d = &pdfgen.Doc{}
	white := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range white.Pix {
		white.Pix[i] = 255
	}
	d.NewPage().Image(white, 0, 0, 612, 792)
	_, err = OCR(context.Background(), d.Bytes(), nil, OCRAuto)
	if !errors.Is(err, ErrNoText) || !strings.Contains(err.Error(), "OCR of page 1 found no text either") {
		t.Fatalf("err = %v, want ErrNoText saying OCR found nothing", err)
	}
}

func TestOCRBadMode(t *testing.T) {
	if _, err := OCR(context.Background(), nil, nil, "always"); err == nil || !strings.Contains(err.Error(), "want auto, off or force") {
		t.Errorf("err = %v", err)
	}
}

// tsv writes tesseract TSV for lines of words: each line is its block
// number, the top and height of its box, and its words with their left
// edges and widths, in pixels.
func tsv(lines ...tsvLine) string {
	var b strings.Builder
	b.WriteString("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n")
	b.WriteString("1\t1\t0\t0\t0\t0\t0\t0\t2550\t3300\t-1\t\n")
	for i, l := range lines {
		fmt.Fprintf(&b, "4\t1\t%d\t1\t%d\t0\t%d\t%d\t%d\t%d\t-1\t\n", l.block, i+1, l.words[0].left, l.top, 500, l.height)
		for j, w := range l.words {
			fmt.Fprintf(&b, "5\t1\t%d\t1\t%d\t%d\t%d\t%d\t%d\t%d\t95\t%s\n", l.block, i+1, j+1, w.left, l.top, w.width, l.height, w.text)
		}
	}
	return b.String()
}

type tsvLine struct {
	block, top, height int
	words              []tsvWord
}

type tsvWord struct {
	left, width int
	text        string
}

// TestOCRLayout: tesseract's words are laid out like a text layer's: a
// table that tesseract reads column by column comes out row by row, and
// a word hyphenated across lines is joined.
func TestOCRLayout(t *testing.T) {
	got := ocrLayout(tsv(
		tsvLine{1, 400, 45, []tsvWord{{300, 150, "Revenue"}, {470, 90, "($m)"}}},
		tsvLine{1, 476, 45, []tsvWord{{300, 200, "Operating"}, {520, 130, "margin"}}},
		tsvLine{2, 401, 45, []tsvWord{{1400, 130, "41,396"}}},
		tsvLine{2, 477, 45, []tsvWord{{1420, 110, "18.2%"}}},
		tsvLine{3, 400, 45, []tsvWord{{1800, 130, "44,870"}}},
		tsvLine{3, 476, 45, []tsvWord{{1820, 110, "19.5%"}}},
		tsvLine{4, 900, 45, []tsvWord{{300, 80, "The"}, {400, 160, "invest-"}}},
		tsvLine{4, 960, 45, []tsvWord{{300, 110, "ment"}, {430, 90, "case"}}},
	), 300)
	lines := strings.Split(got, "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), got)
	}
	for i, want := range [][]string{{"Revenue ($m)", "41,396", "44,870"}, {"Operating margin", "18.2%", "19.5%"}} {
		at := 0
		for _, w := range want {
			k := strings.Index(lines[i][at:], w)
			if k < 0 {
				t.Errorf("line %d %q lacks %q after %d", i+1, lines[i], w, at)
				break
			}
			at += k + len(w)
		}
	}
	t.Logf("%s", got)
	if lines[2] != "The investment" || lines[3] != "case" {
		t.Errorf("hyphenated lines %q, want [The investment case]", lines[2:])
	}
}

func TestPageList(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{
		{[]int{3}, "page 3"},
		{[]int{1, 2}, "pages 1-2"},
		{[]int{1, 2, 3, 4, 7, 9, 10}, "pages 1-4, 7, 9-10"},
	} {
		if got := pageList(c.in); got != c.want {
			t.Errorf("pageList(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestRunToolOutputCap: a tool printing past its cap is stopped and
// reported, not read to the end.
func TestRunToolOutputCap(t *testing.T) {
	if _, err := exec.LookPath("yes"); err != nil {
		t.Skip("no yes(1)")
	}
	res, err := runTool(context.Background(), nil, 1000, nil, "yes")
	if !errors.Is(err, errOutputLimit) {
		t.Fatalf("err = %v, want errOutputLimit", err)
	}
	if len(res.stdout) != 1000 {
		t.Errorf("kept %d bytes, want 1000", len(res.stdout))
	}
}

// TestRunToolContext: a tool still running when the context ends is
// killed and reported as ErrTimeout.
func TestRunToolContext(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep(1)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := runTool(ctx, nil, 1000, nil, "sleep", "60")
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}

// BenchmarkOCRPage is the cost of one scanned letter page through OCR
// auto, everything included: pdfinfo, pdfimages, pdftoppm at 300 DPI and
// tesseract; cpu-s/page is the CPU time of those programs.
//
//	go test -run '^$' -bench OCRPage -benchtime 5x ./extract/pdfdoc/
func BenchmarkOCRPage(b *testing.B) {
	if err := OCRMissing(); err != nil {
		b.Skip(err)
	}
	src := &pdfgen.Doc{}
	src.TextPage(scanText + "\n" + scanText + "\n" + scanText)
	img, err := pdfgen.Render(context.Background(), src.Bytes(), 1, 300)
	if err != nil {
		b.Fatal(err)
	}
	d := &pdfgen.Doc{}
	d.NewPage().Image(img, 0, 0, 612, 792)
	data := d.Bytes()
	cpu := childCPU()
	for b.Loop() {
		if _, err := OCR(context.Background(), data, nil, OCRAuto); err != nil {
			b.Fatal(err)
		}
	}
	// The programs' CPU time, which a busy machine does not inflate as it
	// does the wall time.
	b.ReportMetric((childCPU()-cpu)/float64(b.N), "cpu-s/page")
}

// popplerOnly puts only poppler's programs on PATH: tesseract is missing.
func popplerOnly(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"pdfinfo", "pdfimages", "pdftoppm"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skip(tool, " not installed")
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Skip(err)
		}
	}
	t.Setenv("PATH", dir)
}

// TestOCRWithoutTesseract: poppler alone tells scans from blank pages, so
// only a document with a scanned page asks for tesseract, naming the page.
func TestOCRWithoutTesseract(t *testing.T) {
	needOCR(t)
	scan := scannedPage(t, scanText)
	popplerOnly(t)
	d := &pdfgen.Doc{}
	d.TextPage("Typed page.")
	d.NewPage()
	data := d.Bytes()
	doc, err := Extract(context.Background(), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := OCR(context.Background(), data, doc, OCRAuto); err != nil || len(got.Warnings) != 0 {
		t.Errorf("text and blank pages: err %v, warnings %q; want neither", err, got.Warnings)
	}
	d.NewPage().Image(scan, 0, 0, 612, 792)
	data = d.Bytes()
	if doc, err = Extract(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	_, err = OCR(context.Background(), data, doc, OCRAuto)
	if !errors.Is(err, ErrNoOCR) || !strings.Contains(err.Error(), "page 3 scanned: OCR engine not installed") || !strings.Contains(err.Error(), "not found on PATH: tesseract)") {
		t.Errorf("err = %v, want ErrNoOCR naming page 3 and tesseract", err)
	}
}

// TestOCRStopsAtDeadline: a tesseract that hangs is killed when the
// context ends, with the other pages' programs, and the error is a
// timeout naming the first page that did not finish.
func TestOCRStopsAtDeadline(t *testing.T) {
	needOCR(t)
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX shell")
	}
	d := &pdfgen.Doc{}
	img := scannedPage(t, scanText)
	for range 3 {
		d.NewPage().Image(img, 0, 0, 612, 792)
	}
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	script := "#!/bin/sh\ntouch '" + started + "'\nexec sleep 60\n"
	if err := os.WriteFile(filepath.Join(dir, "tesseract"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	// The deadline passes once tesseract runs, however slow the machine.
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		for range 6000 {
			if _, err := os.Stat(started); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel(context.DeadlineExceeded)
	}()
	_, err := OCR(ctx, d.Bytes(), nil, OCRAuto)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "OCR of page 1 of 3: ") {
		t.Fatalf("err = %v, want ErrTimeout naming page 1", err)
	}
}

// TestOCRLaysOutLikeTextLayer: a scanned page is laid out as the same
// page's text layer is: two columns of prose read left column first, and
// a table keeps each row on one line, label first.
func TestOCRLaysOutLikeTextLayer(t *testing.T) {
	needOCR(t)
	left := "Credit spreads tightened through the quarter as issuers returned to the primary market and investors added duration. We keep an overweight in banks and utilities, where leverage is stable and ratings momentum is positive."
	right := "Equity valuations look stretched: the index trades at nineteen times forward earnings, above its long run average. We prefer quality compounders with pricing power, and hold cash for better entry points later this year."
	rows := [][]string{{"Revenue ($m)", "41,396", "44,870"}, {"Operating margin", "18.2%", "19.5%"}, {"Net debt / EBITDA", "1.8x", "1.5x"}}
	src := &pdfgen.Doc{}
	p := src.NewPage()
	for i, l := range pdfgen.Wrap(pdfgen.Regular, 11, 220, left) {
		p.Text(pdfgen.Regular, 11, 72, 720-14*float64(i), l)
	}
	for i, l := range pdfgen.Wrap(pdfgen.Regular, 11, 220, right) {
		p.Text(pdfgen.Regular, 11, 320, 720-14*float64(i), l)
	}
	p = src.NewPage()
	for i, r := range rows {
		y := 700 - 18*float64(i)
		p.Text(pdfgen.Regular, 11, 72, y, r[0])
		for j, c := range r[1:] {
			p.Text(pdfgen.Regular, 11, 360+90*float64(j)-pdfgen.TextWidth(pdfgen.Regular, 11, c), y, c)
		}
	}
	typed, err := Extract(context.Background(), src.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	scan, err := pdfgen.Scan(context.Background(), src.Bytes(), 2, 200, 612, 792)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := OCR(context.Background(), scan, nil, OCRAuto)
	if err != nil {
		t.Fatal(err)
	}
	// Most lines of the text layer are lines of the OCR text, in order.
	for pg := range 2 {
		want := strings.Split(typed.Pages[pg], "\n")
		got := strings.Split(doc.Pages[pg], "\n")
		same, at := 0, 0
		for _, w := range want {
			for k := at; k < len(got); k++ {
				if got[k] == w {
					same++
					at = k + 1
					break
				}
			}
		}
		if same*10 < len(want)*8 {
			t.Errorf("page %d: %d of the text layer's %d lines found in order in the OCR text:\n%s\n--- text layer:\n%s", pg+1, same, len(want), doc.Pages[pg], typed.Pages[pg])
		}
	}
	// The left column comes first: every word only it has comes before
	// every word only the right column has.
	inLeft, inRight := map[string]bool{}, map[string]bool{}
	for _, w := range textscore.Words(left) {
		inLeft[w] = true
	}
	for _, w := range textscore.Words(right) {
		inRight[w] = true
	}
	lastLeft, firstRight := -1, -1
	for i, w := range textscore.Words(doc.Pages[0]) {
		switch {
		case inLeft[w] && !inRight[w]:
			lastLeft = i
		case inRight[w] && !inLeft[w] && firstRight < 0:
			firstRight = i
		}
	}
	if lastLeft < 0 || firstRight < 0 || lastLeft > firstRight {
		t.Errorf("columns interleaved: last left-column word at %d, first right-column word at %d:\n%s", lastLeft, firstRight, doc.Pages[0])
	}
	for _, r := range rows {
		found := false
		for _, l := range strings.Split(doc.Pages[1], "\n") {
			i, j, k := strings.Index(l, r[0]), strings.Index(l, r[1]), strings.Index(l, r[2])
			found = found || (i >= 0 && i < j && j < k)
		}
		if !found {
			t.Errorf("no line holds the row %q in order:\n%s", r, doc.Pages[1])
		}
	}
}
