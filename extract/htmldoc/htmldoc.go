// Package htmldoc turns an HTML page into clean text and metadata: it
// decodes the page's charset, keeps the main content (not navigation,
// comments, share bars, related lists or cookie banners) and writes it as
// lines that keep the page's structure: headings and list items on lines of
// their own, tables as "cell | cell" rows, term/definition pairs as
// "term: definition", badges apart.
//
// It knows nothing of thesisdb's types; the extract package adapts it.
package htmldoc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"

	"github.com/thesisdb/thesisdb/extract/internal/sniff"
	"github.com/thesisdb/thesisdb/internal/lazyre"
)

// Errors Parse wraps, for callers that branch on the cause.
var (
	// ErrBinary means the input is not text.
	ErrBinary = errors.New("binary content, not HTML")
	// ErrEmpty means the page has no text.
	ErrEmpty = errors.New("no text in the page")
)

// Options configure Parse. The zero value is usable.
type Options struct {
	// ContentType is the HTTP Content-Type header the page came with, if
	// any: its charset parameter decides the decoding.
	ContentType string
	// URL is where the page came from, to resolve a relative canonical URL.
	URL string
	// MaxDepth caps element nesting; deeper tags are dropped and their
	// text kept (default 256; the HTML parser refuses more than 512).
	MaxDepth int
	// MaxLibraryBytes is the largest page handed to the main-content
	// library; larger ones are read by the structure walk alone, which is
	// linear in time and memory (default 8 MiB).
	MaxLibraryBytes int
	// Rules, when set, override main-content detection and metadata for
	// the page's site (see Rules).
	Rules *Rules
}

// Result is a page's clean text and metadata.
type Result struct {
	Meta
	// Text is the main content, one block per line.
	Text string
	// Charset is the encoding the page was decoded from.
	Charset string
	// Method is how the main content was found: "trafilatura",
	// "structure" when the structure-preserving walk was used, or
	// "site rule" when Options.Rules' content selector was.
	Method string
	// Warnings are problems that did not stop the parse.
	Warnings []string
}

// Parse decodes an HTML page and returns its main text and metadata.
func Parse(ctx context.Context, data []byte, o *Options) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("html: internal error: %v", r)
		}
	}()
	if o == nil {
		o = &Options{}
	}
	maxDepth := o.MaxDepth
	if maxDepth <= 0 {
		maxDepth = 256
	}
	maxLib := o.MaxLibraryBytes
	if maxLib <= 0 {
		maxLib = 8 << 20
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ErrEmpty
	}
	text, cs, warn, err := decode(data, o.ContentType)
	if err != nil {
		return nil, fmt.Errorf("html: %w", err)
	}
	if sniff.Binary(text) {
		return nil, fmt.Errorf("%w: it holds NUL or control bytes", ErrBinary)
	}
	res = &Result{Charset: cs}
	if warn != "" {
		res.Warnings = append(res.Warnings, warn)
	}
	if tooDeep(text, maxDepth) {
		text = flatten(text, maxDepth)
		res.Warnings = append(res.Warnings, fmt.Sprintf("elements nested deeper than %d were flattened", maxDepth))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := html.Parse(bytes.NewReader(text))
	for d := maxDepth / 2; err != nil && strings.Contains(err.Error(), "exceeds") && d >= 16; d /= 2 {
		// The tree builder nests deeper than the tokens suggest
		// (misnested formatting elements are reopened): flatten harder.
		root, err = html.Parse(bytes.NewReader(flatten(text, d)))
	}
	if err != nil {
		return nil, fmt.Errorf("html: parse: %w", err)
	}
	var base *url.URL
	if o.URL != "" {
		base, _ = url.Parse(o.URL)
	}
	rules, err := o.Rules.compile()
	if err != nil {
		return nil, fmt.Errorf("html: %w", err)
	}
	doc := goquery.NewDocumentFromNode(root)
	if rules != nil {
		rules.removeMatches(doc)
	}
	res.Meta = metadata(doc, base)
	if rules != nil {
		rules.overrideMeta(doc, &res.Meta)
		if res.Text = rules.contentText(doc); res.Text != "" {
			res.Method = "site rule"
			return res, nil
		}
		if rules.content != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("site rule content %q selected no text: main content found generically", o.Rules.Content))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Text, res.Method = mainText(root, base, len(text) <= maxLib)
	if len(text) > maxLib {
		res.Warnings = append(res.Warnings, fmt.Sprintf("page larger than %d bytes: main content found without the library", maxLib))
	}
	if strings.TrimSpace(res.Text) == "" {
		return nil, ErrEmpty
	}
	return res, nil
}

// mainText finds the page's main content and renders it. The library's
// choice of content wins unless it dropped the structure a research page
// lives by: when the structure walk finds table rows, badges or
// term/definition pairs in the page's content and the library kept fewer
// than nine in ten of them, the structure walk's text is used instead.
func mainText(root *html.Node, base *url.URL, useLibrary bool) (text, method string) {
	if !useLibrary || textLen(root) < 500 {
		// Too large for the library, or too short for its statistics,
		// which then repeat or drop text: walk the page.
		walked, _ := structureText(root)
		return walked, "structure"
	}
	// The library works on its own copy of the tree; the walk then strips
	// the original in place.
	lib := libraryText(root, base)
	walked, marked := structureText(root)
	if lib == "" {
		return walked, "structure"
	}
	structural := marked
	for _, l := range strings.Split(walked, "\n") {
		if scoreRe().MatchString(l) {
			structural = append(structural, l)
		}
	}
	if len(structural) >= 2 {
		flat := collapseSpace(lib)
		kept := 0
		for _, m := range structural {
			if strings.Contains(flat, collapseSpace(m)) {
				kept++
			}
		}
		if kept*10 < len(structural)*9 {
			return window(walked, flat, marked), "structure"
		}
	}
	return lib, "trafilatura"
}

// scoreRe matches the score lines of research notes.
var scoreRe = lazyre.New(`(?i)\b(confidence|conviction)\s*:\s*\d`)

// window cuts the structure walk's text down to the span the library
// found the main content in: from the first to the last line of some
// length that the library kept, widened over structure lines (badges,
// table rows) that touch it.
func window(walked, libFlat string, marked []string) string {
	isMarked := map[string]bool{}
	for _, m := range marked {
		isMarked[m] = true
	}
	lines := strings.Split(walked, "\n")
	first, last := -1, -1
	for i, l := range lines {
		if len(l) >= 25 && strings.Contains(libFlat, collapseSpace(l)) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return walked
	}
	for first > 0 && (isMarked[lines[first-1]] || lines[first-1] == "") {
		first--
	}
	for last < len(lines)-1 && (isMarked[lines[last+1]] || lines[last+1] == "") {
		last++
	}
	return strings.TrimSpace(strings.Join(lines[first:last+1], "\n"))
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// libraryText is the main content as go-trafilatura finds it, rendered.
func libraryText(root *html.Node, base *url.URL) string {
	res, err := trafilatura.ExtractDocument(root, trafilatura.Options{
		OriginalURL:     base,
		ExcludeComments: true,
		HtmlDateMode:    trafilatura.Disabled,
		EnableFallback:  true,
	})
	if err != nil || res.ContentNode == nil {
		return ""
	}
	return dropBoilerplateLines(Render(res.ContentNode))
}

// structureText is the text of the page's <main>, its <article> or its
// body, less page furniture, rendered with all of its structure; marked
// are its lines of table rows, badges and term/definition pairs. It
// removes the furniture from root's tree.
func structureText(root *html.Node) (text string, marked []string) {
	doc := goquery.NewDocumentFromNode(root)
	scope := doc.Find("main, [role=main]").First()
	if scope.Length() == 0 || textLen(scope.Nodes[0]) < 200 {
		best := 0
		doc.Find("article").Each(func(_ int, s *goquery.Selection) {
			if l := textLen(s.Nodes[0]); l > best {
				best, scope = l, s
			}
		})
		if best < 200 {
			scope = doc.Find("body").First()
		}
	}
	n := root
	if scope.Length() > 0 {
		n = scope.Nodes[0]
		stripChrome(n)
	}
	var r renderer
	r.node(n)
	return dropBoilerplateLines(r.String()), r.marked
}
