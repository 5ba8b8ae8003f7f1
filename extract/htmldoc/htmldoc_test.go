package htmldoc

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parse(t *testing.T, page string, o *Options) *Result {
	t.Helper()
	res, err := Parse(context.Background(), []byte(page), o)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res
}

func TestCharsets(t *testing.T) {
	cp1252 := []byte("<html><body><p>Caf\xe9 cr\xe8me \x80 42 \x93quoted\x94</p></body></html>")
	for _, tc := range []struct {
		name, ct string
		data     []byte
		want     string
	}{
		{"header charset", "text/html; charset=windows-1252", cp1252, "Café crème € 42 “quoted”"},
		{"no declaration, not UTF-8", "", cp1252, "Café crème € 42 “quoted”"},
		{"meta past 1024 bytes", "", append([]byte("<html><head><!--"+strings.Repeat("x", 2000)+"--><meta charset=\"iso-8859-15\"></head><body><p>"), []byte("Prix: 5 \xa4</p></body></html>")...), "Prix: 5 €"},
		{"declared latin-1 but UTF-8", "text/html; charset=iso-8859-1", []byte("<p>Zürich – 3 €</p>"), "Zürich – 3 €"},
		{"UTF-16 with BOM", "", utf16le("<html><body><p>Ünïcode text</p></body></html>"), "Ünïcode text"},
		{"UTF-8 BOM", "", append([]byte{0xEF, 0xBB, 0xBF}, "<p>naïve</p>"...), "naïve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Parse(context.Background(), tc.data, &Options{ContentType: tc.ct})
			if err != nil {
				t.Fatal(err)
			}
			if res.Text != tc.want {
				t.Errorf("text %q, want %q (charset %s)", res.Text, tc.want, res.Charset)
			}
		})
	}
}

func utf16le(s string) []byte {
	out := []byte{0xFF, 0xFE}
	for _, r := range s {
		out = append(out, byte(r), byte(r>>8))
	}
	return out
}

func TestStructure(t *testing.T) {
	page := `<html><body><main>
<div class="badges"><span class="badge">Bullish</span><span class="badge">general</span><span class="badge">active</span></div>
<h1>Title here</h1><p>Para one with <b>bold</b>text and <a href="#">a link</a>.</p>
<ul><li>first item</li><li>second item</li></ul>
<dl><dt>Horizon</dt><dd>0-5 Year</dd><dt>Stance:</dt><dd>Bearish</dd></dl>
<p><span>Tag</span><span>Other</span></p>
<table><tr><th>Indicator</th><th>Value</th></tr><tr><td>CPI</td><td>3.1%</td></tr><tr><td></td><td></td></tr></table>
<p>Line<br>break</p>
</main></body></html>`
	got := parse(t, page, nil).Text
	for _, want := range []string{
		"Bullish\ngeneral\nactive\n", "\nTitle here\n", "Para one with boldtext and a link.",
		"- first item\n- second item", "Horizon: 0-5 Year\nStance: Bearish",
		"Tag Other", "Indicator | Value\nCPI | 3.1%\n", "Line\nbreak",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestChromeAndCaptions(t *testing.T) {
	page := `<html><body>
<header><nav><a>Home</a><a>Markets</a></nav></header>
<div id="cookie-notice">We use cookies</div>
<article><h1>Rates outlook</h1>
<p>` + strings.Repeat("The curve will steepen as short rates fall. ", 10) + `</p>
<figure><img alt="x"><figcaption>Chart Description automatically generated</figcaption></figure>
<p>Graph, line chart Description automatically generated with medium confidence</p>
<div class="share-bar"><a>Share on X</a></div>
</article>
<div class="comments"><h4>Tidak ada komentar:</h4><p>Posting Komentar</p></div>
<p>No comments:</p>
<footer>Copyright footer</footer></body></html>`
	got := parse(t, page, nil).Text
	if !strings.Contains(got, "The curve will steepen") {
		t.Errorf("content lost:\n%s", got)
	}
	for _, bad := range []string{"Markets", "cookies", "automatically generated", "Share on X", "Tidak ada komentar", "Posting Komentar", "No comments", "Copyright footer"} {
		if strings.Contains(got, bad) {
			t.Errorf("kept %q:\n%s", bad, got)
		}
	}
}

func TestMetadata(t *testing.T) {
	page := `<html lang="en"><head><title>Doc title | Site</title>
<meta property="og:site_name" content="The Site">
<link rel="canonical" href="/a/b">
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebSite","name":"x"},{"@type":"NewsArticle","headline":"LD headline","datePublished":"2025-07-04T10:00:00+02:00","author":[{"@type":"Person","name":"Ann Lee"},{"@type":"Person","name":"Bo Chen"}]}]}</script>
</head><body><article><h1>H1 title</h1><p>` + strings.Repeat("Body text. ", 30) + `</p></article></body></html>`
	res := parse(t, page, &Options{URL: "https://example.com/x/y"})
	want := Meta{Title: "LD headline", Author: "Ann Lee, Bo Chen", Published: "2025-07-04", SiteName: "The Site", Canonical: "https://example.com/a/b", Language: "en"}
	if res.Meta != want {
		t.Errorf("meta %+v, want %+v", res.Meta, want)
	}
	res = parse(t, `<html><head><meta property="og:title" content="OG"><meta name="author" content="Zed"><meta property="article:published_time" content="March 5, 2024"></head><body><p>Text body here.</p></body></html>`, nil)
	if res.Title != "OG" || res.Author != "Zed" || res.Published != "2024-03-05" {
		t.Errorf("meta %+v", res.Meta)
	}
	res = parse(t, `<html><body><h1>Only H1</h1><p class="byline">By Jane Roe</p><time datetime="2023-11-02">Nov 2</time><p>Text.</p></body></html>`, nil)
	if res.Title != "Only H1" || res.Author != "Jane Roe" || res.Published != "2023-11-02" {
		t.Errorf("meta %+v", res.Meta)
	}
}

func TestNormalizeDate(t *testing.T) {
	for in, want := range map[string]string{
		"2024-02-16T08:00:00Z": "2024-02-16", "February 16, 2026": "2026-02-16",
		"Monday, February 9, 2026": "2026-02-09", "2024-02-16": "2024-02-16",
		"sometime soon": "sometime soon", "": "",
	} {
		if got := NormalizeDate(in); got != want {
			t.Errorf("NormalizeDate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	const depth = 100_000
	page := "<html><body>" + strings.Repeat("<div>", depth) + "deep text" + strings.Repeat("</div>", depth) + "<p>after</p></body></html>"
	res := parse(t, page, nil)
	if !strings.Contains(res.Text, "deep text") || !strings.Contains(res.Text, "after") {
		t.Errorf("text %q", res.Text)
	}
	if len(res.Warnings) == 0 {
		t.Error("no warning about flattened nesting")
	}
	// Unclosed inline elements nest too.
	res = parse(t, "<p>"+strings.Repeat("<b>x ", depth), nil)
	if strings.Count(res.Text, "x") != depth {
		t.Errorf("%d x, want %d", strings.Count(res.Text, "x"), depth)
	}
}

func TestHugeSingleLine(t *testing.T) {
	if testing.Short() {
		t.Skip("50 MB page")
	}
	var b bytes.Buffer
	b.WriteString("<html><head><title>Big</title></head><body><main>")
	para := "<p>Revenue grew 12% to $4.1 billion while margins widened by 80 basis points. </p>"
	for b.Len() < 50<<20 {
		b.WriteString(para)
	}
	b.WriteString("<p>The end.</p></main></body></html>")
	res, err := Parse(context.Background(), b.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != "structure" || !strings.HasSuffix(res.Text, "The end.") || !strings.HasPrefix(res.Text, "Revenue grew 12%") {
		t.Errorf("method %s, text starts %q", res.Method, res.Text[:80])
	}
}

func TestBadInput(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	garbage := make([]byte, 1<<16)
	rng.Read(garbage)
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), garbage[:100]...)
	for name, data := range map[string][]byte{"random": garbage, "png": png} {
		if _, err := Parse(context.Background(), data, nil); !errors.Is(err, ErrBinary) {
			t.Errorf("%s: err %v, want ErrBinary", name, err)
		}
	}
	for _, page := range []string{"", "   \n", "<html><body><script>x()</script></body></html>", "<html><head><title>t</title></head></html>"} {
		if _, err := Parse(context.Background(), []byte(page), nil); !errors.Is(err, ErrEmpty) {
			t.Errorf("%q: err %v, want ErrEmpty", page, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Parse(ctx, []byte("<p>text</p>"), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"<p>hello</p>", "<table><tr><td>a<td>b</table>", "<dl><dt>x<dd>y</dl>",
		"<div><span class=badge>A</span><span class=badge>B</span></div>",
		"<meta charset=shift_jis><p>\x82\xa0</p>", "\xff\xfe<\x00p\x00>\x00",
		"<script type=application/ld+json>{\"@graph\":[[[{}]]]}</script>",
		"<b><i><b><i>x</b></i>", "<pre>a\n b</pre>", "<svg><p>x</svg>",
	} {
		f.Add([]byte(s), "")
	}
	f.Add([]byte("<p>caf\xe9</p>"), "text/html; charset=latin1")
	f.Fuzz(func(t *testing.T, data []byte, ct string) {
		res, err := Parse(context.Background(), data, &Options{ContentType: ct, MaxDepth: 64})
		if err != nil {
			return
		}
		if strings.TrimSpace(res.Text) == "" {
			t.Error("empty text without error")
		}
	})
}

// samplesDir holds the project's sample documents.
const samplesDir = "../../samples"

func benchPages(b *testing.B, paths []string) {
	var pages [][]byte
	var total int64
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, data)
		total += int64(len(data))
	}
	if len(pages) == 0 {
		b.Skip("no pages")
	}
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, p := range pages {
			if _, err := Parse(context.Background(), p, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkParseCorpus(b *testing.B) {
	paths, _ := filepath.Glob(filepath.Join(corpusDir, "pages", "*.html"))
	if len(paths) == 0 {
		b.Skip("shared HTML corpus not present")
	}
	benchPages(b, paths)
}

func BenchmarkParseSamples(b *testing.B) {
	paths, _ := filepath.Glob(filepath.Join(samplesDir, "*.html"))
	benchPages(b, paths)
}
