package pdfdoc

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/internal/hostile"
	"github.com/thesisdb/thesisdb/internal/pdfgen"
)

// rawPDF writes objects 1..n (a catalog first) and a correct xref table.
func rawPDF(objs ...string) []byte { return hostile.Build(objs, 1) }

func flateStream(dict string, data []byte) string {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(data)
	w.Close()
	return fmt.Sprintf("<< /Length %d /Filter /FlateDecode %s >>\nstream\n%s\nendstream", z.Len(), dict, z.Bytes())
}

// onePage is a PDF whose single page has the content stream ops.
func onePage(ops string) []byte {
	return rawPDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
		flateStream("", []byte(ops)),
	)
}

func TestHostilePDFsAreRefusedBeforeParsing(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		says string
	}{
		{"huge xref stream /Size", hostile.HugeXrefSize(), "xref stream (object 1) declares /Size 100000000000"},
		{"huge xref table subsection", hostile.HugeXrefIndex(), "xref table has a subsection of objects 100000000000"},
		{"huge xref stream /Index", bytes.Replace(hostile.HugeXrefSize(), []byte("/Size 100000000000"), []byte("/Size 3 /Index [99999999999 1]"), 1), "/Index section of objects 99999999999"},
		{"huge trailer /Size", bytes.Replace(hostile.Valid("x"), []byte("/Size 8"), []byte("/Size 90000000000"), 1), "trailer declares /Size 90000000000"},
		{"xref stream /W too wide", bytes.Replace(hostile.HugeXrefSize(), []byte("/Size 100000000000 /W [1 4 2]"), []byte("/Size 3 /W [1 999999999999 2]"), 1), "field 999999999999 bytes wide"},
		{"page tree cycle", hostile.PageTreeCycle(), "page tree node 2 lists itself as its own kid"},
		{"page tree loop through a child", rawPDF(
			"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [3 0 R] /Count 2 >>",
			"<< /Type /Pages /Kids [4 0 R 2 0 R] /Parent 2 0 R /Count 2 >>",
			"<< /Type /Page /Parent 3 0 R >>",
		), "node 3 lists its ancestor 2 as a kid"},
		{"parent cycle", hostile.ParentCycle(), "page tree node 3 is its own /Parent"},
		{"parent loop", rawPDF(
			"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 4 0 R >>",
			"<< /Type /Page /Parent 2 0 R >>",
			"<< /Type /Pages /Parent 2 0 R >>",
		), "loops back to node 2"},
		{"contents array", hostile.ContentsArray(maxContents + 1), "a /Contents array has more than 10000 streams"},
		{"flate bomb string", hostile.FlateBomb(maxToken + 1024), "stream 5: a string, name or keyword is longer than 16 MiB"},
		{"flate bomb keyword", hostile.HugeKeyword(maxToken + 1024), "stream 5: a string, name or keyword is longer than 16 MiB"},
		{"operand pile", onePage(strings.Repeat("1 ", maxOperands+1) + "Tj"), "stream 4: more than 1048576 operands pile up"},
		{"huge array", onePage("[" + strings.Repeat("1 ", maxArray+1) + "] TJ"), "stream 4: an array has more than 1048576 elements"},
		{"deep nesting", onePage(strings.Repeat("[", maxNesting+2)), "nested more than 1000 deep"},
		{"huge predictor columns", rawPDF(
			"<< /Type /Catalog /Pages 2 0 R >>",
			"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
			"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
			flateStream("/DecodeParms << /Predictor 12 /Columns 99999999999 >>", []byte("BT ET")),
		), "/Columns 99999999999"},
		{"object stream /N", rawPDF(
			"<< /Type /Catalog /Pages 2 0 R >>",
			flateStream("/Type /ObjStm /N 99999999999 /First 4", []byte("2 0 << >>")),
		), "object stream 2 declares /N 99999999999"},
		{"page tree cycle inside an object stream", rawPDF(
			"<< /Type /Catalog /Pages 2 0 R >>",
			flateStream("/Type /ObjStm /N 1 /First 4", []byte("2 0 << /Type /Pages /Kids [2 0 R] /Count 1 >>")),
		), "page tree node 2 lists itself as its own kid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Extract(context.Background(), c.data, &Options{Timeout: 10 * time.Second})
			var le *LimitError
			if !errors.As(err, &le) || !errors.Is(err, ErrLimit) {
				t.Fatalf("err = %v, want a LimitError", err)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q does not say %q", err, c.says)
			}
			if Abandoned() != 0 {
				t.Errorf("%d extractions abandoned: the library had the file", Abandoned())
			}
		})
	}
}

// Just under each limit the file goes to the library.
func TestJustUnderTheLimitsIsRead(t *testing.T) {
	for name, data := range map[string][]byte{
		"contents array": hostile.ContentsArray(100),
		"long string":    onePage("BT /F1 12 Tf 72 700 Td (" + strings.Repeat("a", 1<<20) + ") Tj ET"),
		"operands":       onePage(strings.Repeat("1 ", 100000) + "n"),
		"nesting":        onePage(strings.Repeat("[", 500) + strings.Repeat("]", 500) + " n"),
		"valid":          hostile.Valid("Memory prices fall."),
	} {
		if err := precheck(data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStreamDecodeLimits(t *testing.T) {
	s := &prescan{}
	l := &limitReader{r: bytes.NewReader(make([]byte, 100)), left: 10, s: s, id: 7}
	p := &parser{s: s, lx: lexer{r: l, buf: make([]byte, 0, 64)}}
	if err := p.contentStream(); err != nil {
		t.Fatal(err)
	}
	if l.err == nil || !strings.Contains(l.err.Error(), "stream 7 decodes to more than 256 MiB") {
		t.Errorf("err = %v", l.err)
	}
	s = &prescan{decoded: maxDecoded}
	l = &limitReader{r: bytes.NewReader(make([]byte, 100)), left: maxStream, s: s, id: 7}
	if _, err := l.Read(make([]byte, 10)); err == nil || !strings.Contains(err.Error(), "in all") {
		t.Errorf("err = %v", err)
	}
}

// corpusPDFs lists the shared corpora's PDFs, if they are there.
func corpusPDFs(tb testing.TB) []string {
	root := filepath.Join("..", "..", "..", "shared", "corpora")
	if _, err := os.Stat(root); err != nil {
		tb.Skip("no shared corpora")
	}
	a, _ := filepath.Glob(filepath.Join(root, "pdf", "*.pdf"))
	b, _ := filepath.Glob(filepath.Join(root, "filings", "*.pdf"))
	return append(a, b...)
}

// Real documents pass the pre-scan.
func TestPrecheckPassesCorpus(t *testing.T) {
	for _, f := range corpusPDFs(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := precheck(data); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
	d := &pdfgen.Doc{}
	for i := range 50 {
		d.NewPage().Text(pdfgen.Regular, 12, 72, 700, fmt.Sprint("page ", i))
	}
	if err := precheck(d.Bytes()); err != nil {
		t.Errorf("generated document: %v", err)
	}
}

// BenchmarkPrecheck measures the pre-scan alone, and Extract (which
// includes it) over the same files, so the ratio is its cost.
func BenchmarkPrecheck(b *testing.B) {
	var data [][]byte
	var total int64
	for _, f := range corpusPDFs(b) {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Extract(context.Background(), d, nil); err != nil {
			continue // only what extracts
		}
		data = append(data, d)
		total += int64(len(d))
	}
	b.Run("precheck", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, d := range data {
				if err := precheck(d); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("extract", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			for _, d := range data {
				if _, err := Extract(context.Background(), d, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
