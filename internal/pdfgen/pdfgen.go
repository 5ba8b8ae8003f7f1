// Package pdfgen writes small, valid PDFs with the standard 14 Helvetica
// fonts in WinAnsi encoding: enough for tests and the committed sample.
package pdfgen

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"sort"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// Font names the two fonts a Doc carries.
type Font string

// The fonts every Doc declares.
const (
	Regular Font = "F1" // Helvetica
	Bold    Font = "F2" // Helvetica-Bold
)

// Doc is a PDF under construction.
type Doc struct {
	// Width and Height are the page size in points (default US Letter).
	Width, Height float64
	// Info holds Info dictionary entries such as Title or CreationDate.
	Info  map[string]string
	pages []*Page
}

// Page is one page's content stream.
type Page struct {
	ops    bytes.Buffer
	images []*image.Gray
}

// Image draws img (8-bit grey, Flate-compressed) scaled to the w×h points
// rectangle whose lower left corner is (x, y): a page holding only
// images is what a scanner produces.
func (p *Page) Image(img *image.Gray, x, y, w, h float64) {
	fmt.Fprintf(&p.ops, "q %g 0 0 %g %g %g cm /Im%d Do Q\n", w, h, x, y, len(p.images))
	p.images = append(p.images, img)
}

// NewPage appends an empty page.
func (d *Doc) NewPage() *Page {
	p := &Page{}
	d.pages = append(d.pages, p)
	return p
}

// Text draws s with its baseline starting at (x, y).
func (p *Page) Text(f Font, size, x, y float64, s string) {
	fmt.Fprintf(&p.ops, "BT /%s %g Tf %g %g Td (%s) Tj ET\n", f, size, x, y, escape(s))
}

// Kerned draws words as one TJ array with no space characters, moving
// each next word right by gap thousandths of an em, as many producers do.
func (p *Page) Kerned(f Font, size, x, y float64, gap int, words ...string) {
	fmt.Fprintf(&p.ops, "BT /%s %g Tf %g %g Td [", f, size, x, y)
	for i, w := range words {
		if i > 0 {
			fmt.Fprintf(&p.ops, " %d ", -gap)
		}
		fmt.Fprintf(&p.ops, "(%s)", escape(w))
	}
	p.ops.WriteString("] TJ ET\n")
}

// Raw appends content-stream operators as they are.
func (p *Page) Raw(ops string) { p.ops.WriteString(ops + "\n") }

// Wrap breaks s into lines no wider than width points in f at size.
func Wrap(f Font, size, width float64, s string) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		try := w
		if cur != "" {
			try = cur + " " + w
		}
		if cur != "" && TextWidth(f, size, try) > width {
			lines = append(lines, cur)
			cur = w
			continue
		}
		cur = try
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// TextWidth is the advance of s in f at size, in points.
func TextWidth(f Font, size float64, s string) float64 {
	t := widths(f)
	w := 0
	for _, c := range encode(s) {
		w += t[c]
	}
	return float64(w) * size / 1000
}

// Bytes returns the finished file.
func (d *Doc) Bytes() []byte {
	w, h := d.Width, d.Height
	if w == 0 {
		w, h = 612, 792
	}
	var b bytes.Buffer
	var offs []int
	obj := func(body string) int {
		offs = append(offs, b.Len())
		n := len(offs)
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, body)
		return n
	}
	b.WriteString("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")
	// Objects 1 and 2 are the catalog and page tree; pages follow fonts.
	npages := len(d.pages)
	first := 6 // 3, 4: fonts; 5: info; then page, content pairs
	kids := make([]string, npages)
	for i := range d.pages {
		kids[i] = fmt.Sprintf("%d 0 R", first+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 %g %g] >>", strings.Join(kids, " "), npages, w, h))
	obj(fontDict("Helvetica", Regular))
	obj(fontDict("Helvetica-Bold", Bold))
	var info []string
	for k, v := range d.Info {
		info = append(info, fmt.Sprintf("/%s (%s)", k, escape(v)))
	}
	sort.Strings(info) // deterministic output
	obj("<< " + strings.Join(info, " ") + " >>")
	next := first + 2*npages // images follow the pages
	for i, p := range d.pages {
		var xobj []string
		for k := range p.images {
			xobj = append(xobj, fmt.Sprintf("/Im%d %d 0 R", k, next))
			next++
		}
		res := "/Font << /F1 3 0 R /F2 4 0 R >>"
		if len(xobj) > 0 {
			res += " /XObject << " + strings.Join(xobj, " ") + " >>"
		}
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /Resources << %s >> /Contents %d 0 R >>", res, first+2*i+1))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", p.ops.Len(), p.ops.String()))
	}
	for _, p := range d.pages {
		for _, img := range p.images {
			obj(imageObject(img))
		}
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

// imageObject is an image XObject of img's pixels, row by row.
func imageObject(img *image.Gray) string {
	r := img.Bounds()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := img.PixOffset(r.Min.X, y)
		zw.Write(img.Pix[i : i+r.Dx()]) // a bytes.Buffer does not fail
	}
	zw.Close()
	return fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream",
		r.Dx(), r.Dy(), z.Len(), z.String())
}

func fontDict(base string, f Font) string {
	t := widths(f)
	ws := make([]string, 0, 224)
	for c := 32; c < 256; c++ {
		ws = append(ws, fmt.Sprint(t[c]))
	}
	return fmt.Sprintf("<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 255 /Widths [%s] >>", base, strings.Join(ws, " "))
}

// encode turns s into WinAnsi bytes; characters outside it become '?'.
func encode(s string) []byte {
	var out []byte
	enc := charmap.Windows1252
	for _, r := range s {
		b, ok := enc.EncodeRune(r)
		if !ok {
			b = '?'
		}
		out = append(out, b)
	}
	return out
}

func escape(s string) string {
	var b strings.Builder
	for _, c := range encode(s) {
		switch c {
		case '(', ')', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			if c < 32 || c > 126 {
				fmt.Fprintf(&b, "\\%03o", c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// Advance widths (AFM, thousandths of an em) of ASCII 32..126.
var (
	helvetica = [95]int{
		278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
		556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
		1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
		667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
		333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
		556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
	}
	helveticaBold = [95]int{
		278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
		556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
		975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
		667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
		333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
		611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
	}
)

// widths returns a 256-entry width table for f; codes past ASCII take the
// common widths of dashes, quotes and bullets, else 556.
func widths(f Font) [256]int {
	var t [256]int
	src := &helvetica
	if f == Bold {
		src = &helveticaBold
	}
	for c := range t {
		t[c] = 556
	}
	for i, w := range src {
		t[32+i] = w
	}
	t[0x91], t[0x92], t[0x93], t[0x94] = 222, 222, 333, 333
	t[0x95], t[0x96], t[0x97] = 350, 556, 1000
	t[0xA0] = 278
	return t
}
