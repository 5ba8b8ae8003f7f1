// Package hostile generates small documents built to hurt a parser, for
// tests: each function says what its output does to
// github.com/ledongthuc/pdf (or to the HTML loader and the rules
// extractor) when nothing stops it first. Nothing here is committed as a
// file; tests generate what they need.
package hostile

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"

	"github.com/thesisdb/thesisdb/internal/pdfgen"
)

// HugeXrefSize is a PDF of about 200 bytes whose cross-reference stream
// declares /Size 100000000000. ledongthuc/pdf allocates a table of that many
// entries (some 3 TB) before reading anything else: the Go runtime stops the
// whole process with "fatal error: runtime: out of memory", which recover
// cannot catch.
func HugeXrefSize() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n%\xE2\xE3\xCF\xD3\n")
	off := b.Len()
	b.WriteString("1 0 obj\n<< /Type /XRef /Size 100000000000 /W [1 4 2] /Root 2 0 R /Length 7 >>\nstream\n\x01\x00\x00\x00\x0f\x00\x00\nendstream\nendobj\n")
	b.WriteString("2 0 obj\n<< /Type /Catalog /Pages 3 0 R >>\nendobj\n")
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", off)
	return b.Bytes()
}

// HugeXrefIndex is a PDF whose classic xref table opens a subsection at
// object number 100000000000. ledongthuc/pdf grows its table to that index
// on the first entry: the same fatal out-of-memory as HugeXrefSize.
func HugeXrefIndex() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	off := b.Len()
	b.WriteString("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 1\n0000000000 65535 f \n1 1\n%010d 00000 n \n100000000000 1\n%010d 00000 n \n", off, off)
	fmt.Fprintf(&b, "trailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", x)
	return b.Bytes()
}

// PageTreeCycle is a PDF whose page tree node lists itself as its own
// kid. ledongthuc/pdf's Reader.Page descends into the kid forever: the
// calling goroutine spins at full CPU and never returns.
func PageTreeCycle() []byte {
	return Build([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
	}, 1)
}

// ParentCycle is a one-page PDF whose page is its own /Parent and has no
// /Resources. ledongthuc/pdf's Page.Resources climbs the /Parent chain
// looking for them and never stops.
func ParentCycle() []byte {
	return Build([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 3 0 R /Contents 4 0 R >>",
		stream([]byte("BT /F1 12 Tf 72 700 Td (loop) Tj ET"), false),
	}, 1)
}

// ContentsArray is a one-page PDF whose /Contents array holds n references
// to one small Flate content stream. ledongthuc/pdf opens a buffer and an
// inflater per element before reading any of them: 200,000 references
// (about 1.2 MB) peaked at 3.2 GB.
func ContentsArray(n int) []byte {
	var refs strings.Builder
	refs.Grow(6 * n)
	for range n {
		refs.WriteString("5 0 R ")
	}
	return Build([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> >> /Contents [" + refs.String() + "] >>",
		helvetica,
		stream([]byte("BT /F1 12 Tf 72 700 Td (x) Tj ET\n"), true),
	}, 1)
}

// FlateBomb is a one-page PDF whose Flate content stream inflates to about
// n bytes holding one string shown with Tj; the file is about n/1000 bytes.
// ledongthuc/pdf's lexer accumulates the string in a growing buffer and
// then copies it: a 1 MB file (n = 1 GB) peaked at 4.1 GB.
func FlateBomb(n int64) []byte {
	return bombPDF("BT /F1 12 Tf 72 700 Td (", 'A', n, ") Tj ET\n")
}

// HugeKeyword is a one-page PDF whose Flate content stream inflates to a
// single keyword of n bytes. ledongthuc/pdf's lexer accumulates it like a
// string: n = 1 GB peaked at 3.1 GB.
func HugeKeyword(n int64) []byte {
	return bombPDF("BT /F1 12 Tf 72 700 Td ", 'k', n, " ET\n")
}

func bombPDF(head string, fill byte, n int64, tail string) []byte {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	w.Write([]byte(head))
	chunk := bytes.Repeat([]byte{fill}, 1<<16)
	for left := n; left > 0; {
		k := min(left, int64(len(chunk)))
		w.Write(chunk[:k])
		left -= k
	}
	w.Write([]byte(tail))
	w.Close()
	return Build([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		helvetica,
		rawStream(z.Bytes(), "/Filter /FlateDecode"),
	}, 1)
}

// Valid is a small, valid one-page PDF whose text layer is text.
func Valid(text string) []byte {
	d := &pdfgen.Doc{}
	p := d.NewPage()
	y := 740.0
	for _, l := range pdfgen.Wrap(pdfgen.Regular, 11, 468, text) {
		p.Text(pdfgen.Regular, 11, 72, y, l)
		y -= 14
		if y < 60 {
			p = d.NewPage()
			y = 740
		}
	}
	return d.Bytes()
}

// MisnestedHTML is an HTML page of about n bytes of formatting tags opened
// and never closed (<b><i><u>x…). The HTML parser's adoption agency
// algorithm reconstructs the open formatting elements at every step: 8 MB
// took 15 s and 1.6 GB in the HTML loader.
func MisnestedHTML(n int) []byte {
	const unit = "<b><i><u>x"
	var b bytes.Buffer
	b.Grow(n + 64)
	b.WriteString("<!doctype html><html><head><title>t</title></head><body><p>")
	for b.Len() < n {
		b.WriteString(unit)
	}
	return b.Bytes()
}

// PercentRun is about n bytes of "1% 1% …": each one a data point to the
// rules extractor, 3 MB of which gave 1,000,000 of them in 133 s and 4.7 GB.
func PercentRun(n int) []byte {
	return bytes.Repeat([]byte("1% "), (n+2)/3)
}

const helvetica = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"

// stream is an object body holding data, Flate-compressed when flate.
func stream(data []byte, flate bool) string {
	if !flate {
		return rawStream(data, "")
	}
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(data)
	w.Close()
	return rawStream(z.Bytes(), "/Filter /FlateDecode")
}

func rawStream(data []byte, dict string) string {
	return fmt.Sprintf("<< /Length %d %s >>\nstream\n%s\nendstream", len(data), dict, data)
}

// Build writes objects 1..len(objs) with a correct xref table; root is
// the catalog's object number.
func Build(objs []string, root int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, root, x)
	return b.Bytes()
}
