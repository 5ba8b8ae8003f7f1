package pdfdoc

import (
	"fmt"
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/internal/pdfgen"
)

func TestParseNumber(t *testing.T) {
	cases := []string{"0", "12", "-3", "+7", "3.25", "-.5", ".5", "4.", "-0", "0.1", "123456.789",
		"1234567890123456789", "0.000000000000000000000001", "99999999999999.9999"}
	rng := rand.New(rand.NewSource(1))
	for range 2000 {
		cases = append(cases, strconv.FormatFloat((rng.Float64()-0.5)*math10(rng.Intn(12)), 'f', rng.Intn(8), 64))
	}
	for _, c := range cases {
		got, ok := parseNumber([]byte(c))
		want, err := strconv.ParseFloat(c, 64)
		if !ok || err != nil || got != want {
			t.Errorf("parseNumber(%q) = %v, %v; strconv says %v, %v", c, got, ok, want, err)
		}
	}
	for _, c := range []string{"Tj", "1.2.3", "--5", "1e5", "-", "+", "12a", "TJ"} {
		if v, ok := parseNumber([]byte(c)); ok {
			t.Errorf("parseNumber(%q) = %v, true; want not a number", c, v)
		}
	}
}

func math10(n int) float64 {
	v := 1.0
	for range n {
		v *= 10
	}
	return v
}

// ops runs the interpreter over src and prints each operator with its
// operands, one per line.
func ops(src string) string {
	var b strings.Builder
	in := &interp{}
	var show func(o operand) string
	show = func(o operand) string {
		switch o.kind {
		case kNum:
			return strconv.FormatFloat(o.num, 'g', -1, 64)
		case kName:
			return "/" + string(o.b)
		case kString:
			return strconv.Quote(string(o.b))
		case kArray:
			var parts []string
			for _, e := range o.arr {
				parts = append(parts, show(e))
			}
			return "[" + strings.Join(parts, " ") + "]"
		}
		return "null"
	}
	in.run([]byte(src), func(op []byte, args []operand) {
		for _, a := range args {
			b.WriteString(show(a) + " ")
		}
		b.WriteString(string(op) + "\n")
	})
	return b.String()
}

func TestInterpOperators(t *testing.T) {
	src := "BT /F1 12 Tf 1 0 0 1 72.5 -.5 Tm\n" +
		"[(He) -120 (llo\\051\\(\\)) <48 65 6C6>] TJ\n" +
		"(a\\\\b\\nc\\101\\7x\\\nd(nested)) Tj % a comment Tj\n" +
		"/Span << /MCID 3 /Alt (x) /K [1 2] >> BDC EMC\n" +
		"/A#20B Do true false null 3 d0\n" +
		"BI /W 2 /H 1 /BPC 8 /CS /G ID \x00EI\xff Tj EI Q\n" +
		"ET"
	want := `BT
/F1 12 Tf
1 0 0 1 72.5 -0.5 Tm
["He" -120 "llo)()" "Hel` + "`" + `"] TJ
"a\\b\ncA\axd(nested)" Tj
/Span null BDC
EMC
/A B Do
null null null 3 d0
Q
ET
`
	if got := ops(src); got != want {
		t.Errorf("operators:\n%s\nwant:\n%s", got, want)
	}
}

func TestInterpMalformed(t *testing.T) {
	// Unterminated strings and arrays run to the end; a stray ']' or '>>'
	// is dropped; an odd hex digit is followed by 0.
	for src, want := range map[string]string{
		"(abc":             "",
		"[1 2 (x) Tj":      "",
		"] >> 5 w":         "5 w\n",
		"<414> Tj":         `"A@" Tj` + "\n",
		"(a\\qb) Tj":       `"aqb" Tj` + "\n",
		"BI /W 1 ID xx":    "",
		"1.2.3 4 w":        "1.2.3\n4 w\n",
		"{ 1 } 2 j":        "1 2 j\n",
		"(a) (b) Tj\n5 Tc": `"a" "b" Tj` + "\n5 Tc\n",
	} {
		if got := ops(src); got != want {
			t.Errorf("%q: got %q, want %q", src, got, want)
		}
	}
}

func TestFindObjMatchesRegexp(t *testing.T) {
	data := []byte("1 0 obj <<>> endobj 112 0 obj 12 0 R 12\n0  obj x 12 00 obj 12 0 objx 12 0 obj\r\n<</V 2>>")
	for _, ref := range [][2]string{{"12", "0"}, {"1", "0"}, {"112", "0"}, {"2", "0"}, {"12", "00"}, {"7", "0"}} {
		re := regexp.MustCompile(`(?:^|[^0-9])` + ref[0] + `\s+` + ref[1] + `\s+obj`)
		want := -1
		if loc := re.FindIndex(data); loc != nil {
			want = loc[1]
		}
		if got := findObj(data, []byte(ref[0]), []byte(ref[1])); got != want {
			t.Errorf("findObj(%s %s) = %d, regexp says %d", ref[0], ref[1], got, want)
		}
	}
}

// TestDocCachePages reads the pages of a generated document out of order
// through one cache: each has its own text, the page tree gives what the
// library's Reader.Page gives, and the one font is loaded once.
func TestDocCachePages(t *testing.T) {
	var d pdfgen.Doc
	for i := 1; i <= 5; i++ {
		d.NewPage().Text(pdfgen.Regular, 12, 72, 700, fmt.Sprintf("page%d", i))
	}
	r, _, err := open(d.Bytes(), &Options{})
	if err != nil {
		t.Fatal(err)
	}
	cache := newDocCache()
	for _, i := range []int{3, 1, 5, 2, 4, 3} {
		pr := &pageReader{maxGlyphs: 1000, stop: func() bool { return false }, doc: cache}
		if err := pageGlyphs(r, i, pr); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, g := range pr.glyphs {
			b.WriteString(g.s)
		}
		if got, want := b.String(), fmt.Sprintf("page%d", i); got != want {
			t.Errorf("page %d reads %q, want %q", i, got, want)
		}
		if got, want := cache.page(r, i).V.String(), r.Page(i).V.String(); got != want {
			t.Errorf("page %d: cache gives %s, library %s", i, got, want)
		}
	}
	if cache.page(r, 6).V.IsNull() != r.Page(6).V.IsNull() || !cache.page(r, 6).V.IsNull() {
		t.Error("page 6 of 5 exists")
	}
	if len(cache.fonts) != 1 {
		t.Errorf("%d fonts cached, want 1", len(cache.fonts))
	}
}

// TestDocCacheFilings checks the cached page tree against the library's on
// every page of the filings corpus, whose trees are nested.
func TestDocCacheFilings(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the filings corpus")
	}
	for _, f := range filings(t) {
		r, _, err := open(f.Data, &Options{})
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		cache := newDocCache()
		for i := 1; i <= r.NumPage()+1; i++ {
			if got, want := cache.page(r, i).V.String(), r.Page(i).V.String(); got != want {
				t.Fatalf("%s page %d: cache gives %.80s, library %.80s", f.Name, i, got, want)
			}
		}
	}
}
