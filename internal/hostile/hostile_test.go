package hostile

import (
	"bytes"
	"compress/zlib"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract/pdfdoc"
)

func TestPDFsAreSmallAndWellFramed(t *testing.T) {
	for name, c := range map[string]struct {
		data []byte
		max  int
	}{
		"HugeXrefSize":  {HugeXrefSize(), 1024},
		"HugeXrefIndex": {HugeXrefIndex(), 1024},
		"PageTreeCycle": {PageTreeCycle(), 1024},
		"ParentCycle":   {ParentCycle(), 1024},
		"ContentsArray": {ContentsArray(1000), 8 * 1024},
		"FlateBomb":     {FlateBomb(16 << 20), 64 << 10},
		"HugeKeyword":   {HugeKeyword(16 << 20), 64 << 10},
	} {
		if len(c.data) > c.max {
			t.Errorf("%s: %d bytes, want at most %d", name, len(c.data), c.max)
		}
		if !bytes.HasPrefix(c.data, []byte("%PDF-1.")) || !bytes.HasSuffix(c.data, []byte("%%EOF\n")) {
			t.Errorf("%s: not framed as a PDF: %.20q … %q", name, c.data, c.data[max(0, len(c.data)-10):])
		}
	}
	if !bytes.Contains(HugeXrefSize(), []byte("/Size 100000000000")) {
		t.Error("HugeXrefSize does not declare the huge size")
	}
	if n := bytes.Count(ContentsArray(1234), []byte("5 0 R")); n != 1234 {
		t.Errorf("ContentsArray(1234) has %d references", n)
	}
}

// The bombs really inflate to what they promise.
func TestBombsInflate(t *testing.T) {
	for name, data := range map[string][]byte{"FlateBomb": FlateBomb(1 << 20), "HugeKeyword": HugeKeyword(1 << 20)} {
		i := bytes.Index(data, []byte("stream\n"))
		r, err := zlib.NewReader(bytes.NewReader(data[i+len("stream\n"):]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n, _ := io.Copy(io.Discard, r)
		if n < 1<<20 || n > 1<<20+100 {
			t.Errorf("%s(1 MiB) inflates to %d bytes", name, n)
		}
	}
}

func TestValidExtracts(t *testing.T) {
	d, err := pdfdoc.Extract(context.Background(), Valid("Memory prices fall in 2027."), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Text(); got != "Memory prices fall in 2027." {
		t.Errorf("text %q", got)
	}
}

func TestOtherFormats(t *testing.T) {
	h := MisnestedHTML(10000)
	if len(h) < 10000 || len(h) > 10100 || bytes.Count(h, []byte("<b>")) < 900 || bytes.Contains(h, []byte("</b>")) {
		t.Errorf("MisnestedHTML(10000): %d bytes, %d <b>", len(h), bytes.Count(h, []byte("<b>")))
	}
	p := string(PercentRun(3000))
	if len(p) != 3000 || strings.Count(p, "1%") != 1000 {
		t.Errorf("PercentRun(3000): %d bytes, %d percents", len(p), strings.Count(p, "1%"))
	}
}
