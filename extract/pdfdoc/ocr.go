package pdfdoc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The OCR modes OCR accepts.
const (
	OCRAuto  = "auto"  // OCR the pages with no text that draw images
	OCROff   = "off"   // never OCR
	OCRForce = "force" // OCR every page, replacing its text layer
)

// OCRPackages names the Debian packages that install the OCR engine:
// poppler's pdfinfo, pdfimages and pdftoppm, and tesseract with English.
const OCRPackages = "poppler-utils tesseract-ocr tesseract-ocr-eng"

// ErrNoOCR means a page needed OCR but the OCR engine is not installed.
var ErrNoOCR = errors.New("OCR engine not installed: install the Debian packages " + OCRPackages)

// ocrTools are the programs OCR runs.
var ocrTools = []string{"pdfinfo", "pdfimages", "pdftoppm", "tesseract"}

// Limits of one OCR run.
const (
	ocrDPI       = 300     // tesseract's sweet spot for body text
	ocrMaxPixels = 5000    // longest side of a rendered page; lower DPI past it
	ocrMaxPages  = 2000    // as Extract's default MaxPages
	maxPNG       = 1 << 26 // 64 MiB: a 5000×5000 grey page is 25 MB raw
	maxOCRText   = 4 << 20 // text tesseract may print for one page
	maxToolList  = 16 << 20
	maxOCRJobs   = 4 // pages recognised at once, at most
)

// OCRMissing returns nil when the OCR engine's programs are all on PATH,
// else an error wrapping ErrNoOCR that names the missing ones.
func OCRMissing() error { return missing(ocrTools...) }

// missing returns nil when the tools are all on PATH, else an error
// wrapping ErrNoOCR that names the missing ones.
func missing(tools ...string) error {
	var miss []string
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			miss = append(miss, t)
		}
	}
	if len(miss) == 0 {
		return nil
	}
	return fmt.Errorf("%w (not found on PATH: %s)", ErrNoOCR, strings.Join(miss, ", "))
}

// OCR recognises pages of the PDF in data with poppler's pdftoppm (each
// page rendered to a grey PNG at 300 DPI) and tesseract (English). doc is
// the text layer Extract or Pdftotext read from data, nil when they found
// none (ErrNoText). Mode auto OCRs the pages that have no text and whose
// images cover at least a fifth of them, force every page (its text layer
// is replaced), off none. It returns doc, changed in place, with the
// recognised pages' text and a warning "text from OCR" naming them; a doc
// it builds itself takes its metadata from pdfinfo. When doc has text on
// every page, auto runs no program. Errors wrap ErrNoOCR when the engine
// is missing, ErrTimeout when ctx ends, and ErrNoText when no page has
// text even after OCR. The PDF reaches the programs on their standard
// input, never through a file, so nothing is left behind when the process
// is killed.
func OCR(ctx context.Context, data []byte, doc *Document, mode string) (*Document, error) {
	switch mode {
	case OCROff:
		return doc, nil
	case "", OCRAuto, OCRForce:
	default:
		return nil, fmt.Errorf("OCR mode %q: want auto, off or force", mode)
	}
	force := mode == OCRForce
	if !force && doc != nil && !hasEmptyPage(doc) {
		return doc, nil
	}
	// Without pdfinfo and pdfimages there is no telling which pages are
	// scans: the whole engine is named as missing.
	if err := missing("pdfinfo", "pdfimages"); err != nil {
		return nil, OCRMissing()
	}
	if force {
		if err := OCRMissing(); err != nil {
			return nil, err
		}
	}
	info, err := pdfInfo(ctx, data)
	if err != nil {
		return nil, err
	}
	n := min(info.pages, ocrMaxPages)
	if doc != nil {
		n = min(n, len(doc.Pages))
	}
	var todo []int
	if force {
		for p := 1; p <= n; p++ {
			todo = append(todo, p)
		}
	} else {
		var empty []int
		for p := 1; p <= n; p++ {
			if doc == nil || strings.TrimSpace(doc.Pages[p-1]) == "" {
				empty = append(empty, p)
			}
		}
		if len(empty) == 0 {
			return doc, nil
		}
		cover, err := imageCover(ctx, data, empty[0], empty[len(empty)-1])
		if err != nil {
			return nil, err
		}
		for _, p := range empty {
			if scanned(cover, info.sizes, p) {
				todo = append(todo, p)
			}
		}
		if len(todo) == 0 {
			if doc == nil {
				return nil, ErrNoText
			}
			return doc, nil
		}
		if err := OCRMissing(); err != nil {
			return nil, fmt.Errorf("%s scanned: %w", pageList(todo), err)
		}
	}
	texts, err := ocrPages(ctx, data, todo, info.sizes)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		doc = &Document{Title: info.title, Author: info.author, Subject: info.subject, Producer: info.producer, Created: info.created}
		if info.pages > n {
			doc.Warnings = append(doc.Warnings, fmt.Sprintf("only the first %d of %d pages were read", n, info.pages))
		}
	}
	for len(doc.Pages) < n {
		doc.Pages = append(doc.Pages, "")
	}
	for i, p := range todo {
		doc.Pages[p-1] = texts[i]
	}
	if strings.TrimSpace(doc.Text()) == "" {
		return nil, fmt.Errorf("%w; OCR of %s found no text either", ErrNoText, pageList(todo))
	}
	w := "text from OCR (" + pageList(todo) + ")"
	if force {
		w = "text from OCR (--ocr force: " + pageList(todo) + ")"
	}
	doc.Warnings = append(doc.Warnings, w)
	return doc, nil
}

// hasEmptyPage reports whether a page of doc has no text.
func hasEmptyPage(doc *Document) bool {
	for _, p := range doc.Pages {
		if strings.TrimSpace(p) == "" {
			return true
		}
	}
	return false
}

// pdfInfoResult is what OCR needs from pdfinfo.
type pdfInfoResult struct {
	pages                                     int
	sizes                                     map[int][2]float64 // points, by page
	title, author, subject, producer, created string
}

// pdfInfo runs poppler's pdfinfo for the page count, page sizes and metadata.
func pdfInfo(ctx context.Context, data []byte) (*pdfInfoResult, error) {
	res, err := runTool(ctx, data, maxToolList, nil, "pdfinfo", "-rawdates", "-enc", "UTF-8", "-f", "1", "-l", strconv.Itoa(ocrMaxPages), "-")
	if err != nil {
		return nil, toolError("pdfinfo", res, err)
	}
	info := &pdfInfoResult{sizes: map[int][2]float64{}}
	sc := bufio.NewScanner(bytes.NewReader(res.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "Pages":
			info.pages, _ = strconv.Atoi(val)
		case "Title":
			info.title = cleanInfo(val)
		case "Author":
			info.author = cleanInfo(val)
		case "Subject":
			info.subject = cleanInfo(val)
		case "Producer":
			info.producer = cleanInfo(val)
		case "CreationDate":
			info.created = ParseDate(val)
		default:
			// "Page    1 size:  612 x 792 pts (letter)"
			f := strings.Fields(key)
			if len(f) != 3 || f[0] != "Page" || f[2] != "size" {
				continue
			}
			p, err1 := strconv.Atoi(f[1])
			v := strings.Fields(val)
			if err1 != nil || len(v) < 3 || v[1] != "x" {
				continue
			}
			w, err2 := strconv.ParseFloat(v[0], 64)
			h, err3 := strconv.ParseFloat(v[2], 64)
			if err2 == nil && err3 == nil {
				info.sizes[p] = [2]float64{w, h}
			}
		}
	}
	if info.pages <= 0 {
		return nil, &CorruptError{Reason: "pdfinfo: no pages"}
	}
	return info, nil
}

// minImageCover is the share of a page that images must cover for auto
// to OCR it: a scan covers all of it, a logo on an otherwise empty page
// (a filing's last page, say) a few hundredths, and its OCR is noise.
const minImageCover = 0.2

// imageCover returns, for the pages from first to last that draw images
// (image XObjects, inline images, stencil masks), the area the images
// cover in square points, from poppler's pdfimages (its x-ppi and y-ppi
// are the size an image is drawn at). Soft masks are not counted twice.
func imageCover(ctx context.Context, data []byte, first, last int) (map[int]float64, error) {
	res, err := runTool(ctx, data, maxToolList, nil, "pdfimages", "-list", "-f", strconv.Itoa(first), "-l", strconv.Itoa(last), "-")
	if err != nil {
		return nil, toolError("pdfimages", res, err)
	}
	// page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio
	cover := map[int]float64{}
	sc := bufio.NewScanner(bytes.NewReader(res.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 9 {
			continue
		}
		p, err := strconv.Atoi(f[0])
		if err != nil || f[2] == "smask" || f[2] == "mask" {
			continue
		}
		w, _ := strconv.ParseFloat(f[3], 64)
		h, _ := strconv.ParseFloat(f[4], 64)
		xppi, _ := strconv.ParseFloat(f[len(f)-4], 64)
		yppi, _ := strconv.ParseFloat(f[len(f)-3], 64)
		area := 0.0 // drawn at no measurable size: listed, not counted
		if xppi > 0 && yppi > 0 {
			area = w / xppi * 72 * h / yppi * 72
		}
		cover[p] += area
	}
	return cover, nil
}

// scanned reports whether images cover enough of a page to OCR it; a page
// of unknown size counts when it has any image.
func scanned(cover map[int]float64, sizes map[int][2]float64, page int) bool {
	c, ok := cover[page]
	if !ok {
		return false
	}
	area := sizes[page][0] * sizes[page][1]
	if area <= 0 {
		return true
	}
	return c >= minImageCover*area
}

// ocrPages recognises the pages (1-based), a few at once, and returns
// their text in the same order.
func ocrPages(ctx context.Context, data []byte, pages []int, sizes map[int][2]float64) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	texts := make([]string, len(pages))
	errs := make([]error, len(pages))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), maxOCRJobs, len(pages)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				texts[i], errs[i] = ocrPage(ctx, data, pages[i], sizes[pages[i]])
				if errs[i] != nil {
					cancel()
				}
			}
		}()
	}
	for i := range pages {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	// The first error in page order; a timeout beats the cancellations
	// it caused on other pages.
	var first error
	for i, err := range errs {
		if err == nil {
			continue
		}
		err = fmt.Errorf("OCR of page %d of %d: %w", pages[i], len(pages), err)
		if first == nil || (errors.Is(err, ErrTimeout) && !errors.Is(first, ErrTimeout)) {
			first = err
		}
	}
	return texts, first
}

// ocrPage renders one page and recognises its text.
func ocrPage(ctx context.Context, data []byte, page int, size [2]float64) (string, error) {
	dpi := ocrDPI
	if side := max(size[0], size[1]); side > 0 && side/72*ocrDPI > ocrMaxPixels {
		dpi = max(1, int(ocrMaxPixels*72/side))
	}
	p := strconv.Itoa(page)
	png, err := runTool(ctx, data, maxPNG, nil, "pdftoppm", "-r", strconv.Itoa(dpi), "-gray", "-png", "-f", p, "-l", p, "-singlefile", "-")
	if err != nil {
		return "", toolError("pdftoppm", png, err)
	}
	// One thread per tesseract: its OpenMP threads cost more than they
	// give on a page this size, and pages already run side by side.
	res, err := runTool(ctx, png.stdout, maxOCRText, []string{"OMP_THREAD_LIMIT=1"}, "tesseract", "-", "-", "-l", "eng", "--dpi", strconv.Itoa(dpi), "tsv")
	if err != nil {
		if strings.Contains(res.stderr, "Failed loading language") || strings.Contains(res.stderr, "traineddata") {
			return "", fmt.Errorf("%w (tesseract has no English data: %s)", ErrNoOCR, firstLine(res.stderr))
		}
		return "", toolError("tesseract", res, err)
	}
	return ocrLayout(string(res.stdout), dpi), nil
}

// ocrLayout lays out the words tesseract found (its TSV output: a row per
// word with its box in pixels) as Extract lays out a text layer's glyphs,
// so that a scanned table keeps each row on one line, label first, and
// columns of prose keep their reading order; tesseract's own text output
// reads a table column by column. The words of one of tesseract's lines
// share a baseline (the median bottom of its words: most have no
// descender) and a font size (the line's height).
func ocrLayout(tsv string, dpi int) string {
	type box struct{ left, top, width, height float64 }
	type key [4]string // page, block, paragraph, line
	var (
		pageHeight float64
		lineBoxes  = map[key]box{}
		words      = map[key][]box{}
		texts      = map[key][]string{}
		order      []key
	)
	for i, row := range strings.Split(tsv, "\n") {
		f := strings.Split(row, "\t")
		if i == 0 || len(f) < 12 {
			continue
		}
		var b box
		var err error
		for j, v := range []*float64{&b.left, &b.top, &b.width, &b.height} {
			if *v, err = strconv.ParseFloat(f[6+j], 64); err != nil {
				break
			}
		}
		if err != nil {
			continue
		}
		k := key{f[1], f[2], f[3], f[4]}
		switch f[0] {
		case "1":
			pageHeight = max(pageHeight, b.top+b.height)
		case "4":
			lineBoxes[k] = b
		case "5":
			text := strings.TrimSpace(f[11])
			if text == "" {
				continue
			}
			if _, seen := words[k]; !seen {
				order = append(order, k)
			}
			words[k] = append(words[k], b)
			texts[k] = append(texts[k], text)
		}
	}
	scale := 72 / float64(dpi)
	var gs []glyph
	for _, k := range order {
		ws := words[k]
		bottoms := make([]float64, len(ws))
		for i, w := range ws {
			bottoms[i] = w.top + w.height
		}
		slices.Sort(bottoms)
		base := bottoms[len(bottoms)/2]
		size := lineBoxes[k].height
		if size <= 0 {
			size = ws[0].height
		}
		for i, w := range ws {
			gs = append(gs, glyph{x: w.left * scale, y: (pageHeight - base) * scale, w: w.width * scale,
				size: size * scale, dx: 1, s: texts[k][i]})
		}
	}
	ls := layoutPage(gs)
	dehyphenate(ls)
	var b strings.Builder
	for _, l := range ls {
		if t := strings.TrimSpace(l.text); t != "" {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(t)
		}
	}
	return b.String()
}

// toolError describes a failed poppler or tesseract run, keeping
// ErrTimeout and the output cap as they are.
func toolError(name string, res toolResult, err error) error {
	var ee *exec.ExitError
	switch {
	case errors.Is(err, ErrTimeout), errors.Is(err, errOutputLimit):
		return err
	case errors.As(err, &ee) && strings.Contains(res.stderr, "password"):
		return fmt.Errorf("%w: %s cannot be given the password without exposing it on its command line: not OCRed", ErrEncrypted, name)
	case errors.As(err, &ee):
		return fmt.Errorf("%s: %w: %s", name, err, firstNonEmpty(firstLine(res.stderr), "no message"))
	}
	return fmt.Errorf("%s: %w", name, err)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// pageList names pages compactly: "page 3", "pages 1-4, 7".
func pageList(pages []int) string {
	var parts []string
	for i := 0; i < len(pages); {
		j := i
		for j+1 < len(pages) && pages[j+1] == pages[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(pages[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", pages[i], pages[j]))
		}
		i = j + 1
	}
	word := "pages "
	if len(pages) == 1 {
		word = "page "
	}
	return word + strings.Join(parts, ", ")
}
