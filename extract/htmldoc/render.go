package htmldoc

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/thesisdb/thesisdb/internal/lazyre"
)

// skipped elements never contribute text.
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Math: true, atom.Canvas: true, atom.Iframe: true, atom.Object: true,
	atom.Embed: true, atom.Head: true, atom.Button: true, atom.Select: true, atom.Input: true,
	atom.Textarea: true, atom.Option: true, atom.Link: true, atom.Meta: true, atom.Img: true,
	atom.Picture: true, atom.Video: true, atom.Audio: true, atom.Map: true, atom.Title: true,
}

// blocks start and end a line.
var blocks = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Center: true, atom.Details: true, atom.Dialog: true, atom.Dir: true, atom.Div: true,
	atom.Dl: true, atom.Fieldset: true, atom.Figcaption: true, atom.Figure: true,
	atom.Footer: true, atom.Form: true, atom.Header: true, atom.Hgroup: true, atom.Hr: true,
	atom.Legend: true, atom.Main: true, atom.Menu: true, atom.Nav: true, atom.Ol: true,
	atom.P: true, atom.Pre: true, atom.Section: true, atom.Summary: true, atom.Ul: true,
	atom.Body: true, atom.Html: true, atom.Caption: true, atom.Output: true, atom.Listing: true,
	atom.Xmp: true, atom.Plaintext: true,
}

// paragraphs are followed by a blank line.
var paragraphs = map[atom.Atom]bool{
	atom.P: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true,
	atom.H6: true, atom.Blockquote: true, atom.Pre: true, atom.Table: true, atom.Ul: true,
	atom.Ol: true, atom.Dl: true, atom.Section: true, atom.Article: true, atom.Figure: true,
}

// formatting elements are parts of words: no separator goes between them
// and their neighbours.
var formatting = map[atom.Atom]bool{
	atom.B: true, atom.I: true, atom.Em: true, atom.Strong: true, atom.U: true, atom.S: true,
	atom.Sup: true, atom.Sub: true, atom.Small: true, atom.Mark: true, atom.Font: true,
	atom.Abbr: true, atom.Code: true, atom.Kbd: true, atom.Var: true, atom.Samp: true,
	atom.Del: true, atom.Ins: true, atom.Strike: true, atom.Big: true, atom.Tt: true,
	atom.Wbr: true, atom.Q: true, atom.Cite: true, atom.Dfn: true, atom.Bdi: true, atom.Bdo: true,
}

// monospace elements hold code; libraries that rebuild the tree often lose
// the spaces around them, so a separator goes between them and words.
var monospace = map[atom.Atom]bool{atom.Code: true, atom.Kbd: true, atom.Samp: true, atom.Tt: true}

// badgeRe matches the class of elements drawn as separate chips (stance
// and status badges, tags): each gets a line of its own.
var badgeRe = lazyre.New(`(?i)(^|[\s_-])(badge|badges|chip|pill|tag|stance|status)($|[\s_-])`)

// renderer turns a DOM subtree into lines of text.
type renderer struct {
	lines []string
	line  strings.Builder
	// space is a pending whitespace before the next text; soft is a
	// pending separator between adjacent elements, written only between
	// two letters or digits.
	space, soft bool
	// blank asks for an empty line before the next text.
	blank bool
	// label is set after a <dt>: the next <dd> continues its line.
	label bool
	pre   int
	depth int
	// marked collects the lines of structure (table rows, badges,
	// term/definition pairs) a main-content library may drop.
	marked []string
	mark   bool
}

func (r *renderer) text(s string) {
	if r.pre > 0 {
		parts := strings.Split(s, "\n")
		for i, p := range parts {
			if i > 0 {
				r.breakLine()
			}
			r.write(strings.TrimRightFunc(p, unicode.IsSpace))
		}
		return
	}
	if s == "" {
		return
	}
	if c, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(c) {
		r.space = true
	}
	for i, w := range strings.Fields(s) {
		if i > 0 {
			r.space = true
		}
		r.write(w)
	}
	if c, _ := utf8.DecodeLastRuneInString(s); unicode.IsSpace(c) {
		r.space = true
	}
}

// write appends a word to the line, with the pending separator.
func (r *renderer) write(w string) {
	if w == "" {
		return
	}
	if r.line.Len() == 0 {
		if r.blank && len(r.lines) > 0 && r.lines[len(r.lines)-1] != "" {
			r.lines = append(r.lines, "")
		}
		r.blank = false
	} else if r.space {
		r.line.WriteByte(' ')
	} else if r.soft {
		last, _ := utf8.DecodeLastRuneInString(r.line.String())
		next, _ := utf8.DecodeRuneInString(w)
		if isWordRune(last) && isWordRune(next) {
			r.line.WriteByte(' ')
		}
	}
	r.space, r.soft = false, false
	r.line.WriteString(w)
}

func isWordRune(c rune) bool { return unicode.IsLetter(c) || unicode.IsDigit(c) }

// breakLine ends the current line, if it has text.
func (r *renderer) breakLine() {
	if r.line.Len() > 0 {
		l := strings.TrimSpace(r.line.String())
		r.lines = append(r.lines, l)
		if r.mark {
			r.marked = append(r.marked, l)
		}
		r.line.Reset()
	}
	r.mark = false
	r.space, r.soft, r.label = false, false, false
}

func (r *renderer) paragraph() {
	r.breakLine()
	r.blank = true
}

// String returns the text rendered so far.
func (r *renderer) String() string {
	r.breakLine()
	return strings.TrimSpace(strings.Join(r.lines, "\n"))
}

func classOf(n *html.Node) string {
	var s string
	for _, a := range n.Attr {
		if a.Key == "class" {
			s = a.Val
		}
	}
	return s
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// tag returns an element's atom, also for elements built by code that set
// only their name.
func tag(n *html.Node) atom.Atom {
	if n.DataAtom == 0 && n.Type == html.ElementNode {
		return atom.Lookup([]byte(n.Data))
	}
	return n.DataAtom
}

// maxRenderDepth bounds recursion; deeper content is still read, flattened.
const maxRenderDepth = 2000

func (r *renderer) children(n *html.Node) {
	var prev *html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if prev != nil && ((c.Type == html.ElementNode && prev.Type == html.ElementNode &&
			!formatting[tag(prev)] && !formatting[tag(c)]) || monospace[tag(prev)] || monospace[tag(c)]) {
			r.soft = true
		}
		r.node(c)
		if c.Type == html.ElementNode || (c.Type == html.TextNode && c.Data != "") {
			prev = c
		}
	}
}

func (r *renderer) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		r.text(n.Data)
		return
	case html.DocumentNode:
		r.children(n)
		return
	case html.ElementNode:
	default:
		return
	}
	if r.depth > maxRenderDepth {
		r.text(textOf(n))
		return
	}
	r.depth++
	defer func() { r.depth-- }()
	a := tag(n)
	switch {
	case skipped[a]:
		return
	case a == atom.Br:
		r.breakLine()
	case a == atom.Hr:
		r.paragraph()
	case a == atom.H1, a == atom.H2, a == atom.H3, a == atom.H4, a == atom.H5, a == atom.H6:
		r.paragraph()
		r.children(n)
		r.paragraph()
	case a == atom.Table:
		r.table(n)
	case a == atom.Li:
		r.breakLine()
		r.write("-")
		r.space = true
		r.children(n)
		r.breakLine()
	case a == atom.Dt:
		r.breakLine()
		r.children(n)
		r.label = r.line.Len() > 0
	case a == atom.Dd:
		if r.label {
			if !strings.HasSuffix(r.line.String(), ":") {
				r.line.WriteByte(':')
			}
			r.label, r.space = false, true
		} else {
			r.breakLine()
		}
		r.children(n)
		r.mark = true
		r.breakLine()
	case a == atom.Pre || a == atom.Listing || a == atom.Xmp || a == atom.Plaintext:
		r.paragraph()
		r.pre++
		r.children(n)
		r.pre--
		r.paragraph()
	case blocks[a] || a == atom.Tr || a == atom.Td || a == atom.Th ||
		a == atom.Tbody || a == atom.Thead || a == atom.Tfoot:
		if paragraphs[a] {
			r.paragraph()
		} else {
			r.breakLine()
		}
		r.children(n)
		if paragraphs[a] {
			r.paragraph()
		} else {
			r.breakLine()
		}
	case a == 0 && isBlockish(n.Data):
		// Elements of other vocabularies (trafilatura's "head", "list",
		// "item", custom elements) are blocks when they look like it.
		r.breakLine()
		r.children(n)
		r.breakLine()
	case badgeRe().MatchString(classOf(n)) && !hasBlockChild(n):
		r.breakLine()
		r.children(n)
		r.mark = true
		r.breakLine()
	default:
		r.children(n)
	}
}

// isBlockish tells whether a non-HTML element name is a block.
func isBlockish(name string) bool {
	switch name {
	case "head", "list", "item", "row", "cell", "quote", "lb", "graphic", "code":
		return true
	}
	return false
}

func hasBlockChild(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (blocks[tag(c)] || tag(c) == atom.Table) {
			return true
		}
	}
	return false
}

// textOf returns the text of a subtree without recursion.
func textOf(n *html.Node) string {
	var b strings.Builder
	stack := []*html.Node{n}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
			b.WriteByte(' ')
			continue
		}
		if c.Type == html.ElementNode && skipped[tag(c)] {
			continue
		}
		for k := c.LastChild; k != nil; k = k.PrevSibling {
			stack = append(stack, k)
		}
	}
	return b.String()
}

// rows returns a table's rows, not those of tables nested in it.
func rows(table *html.Node) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch tag(c) {
			case atom.Tr:
				out = append(out, c)
			case atom.Thead, atom.Tbody, atom.Tfoot:
				walk(c)
			}
		}
	}
	walk(table)
	return out
}

func cells(tr *html.Node) []*html.Node {
	var out []*html.Node
	for c := tr.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (tag(c) == atom.Td || tag(c) == atom.Th) {
			out = append(out, c)
		}
	}
	return out
}

// isDataTable tells a table of data (rendered as rows of cells) from one
// used for page layout (rendered as blocks): a layout table nests tables or
// holds long runs of prose in its cells.
func isDataTable(t *html.Node) bool {
	rs := rows(t)
	if len(rs) == 0 {
		return false
	}
	stack := []*html.Node{t.FirstChild}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c == nil {
			continue
		}
		stack = append(stack, c.NextSibling)
		if c.Type == html.ElementNode && tag(c) == atom.Table {
			return false
		}
		stack = append(stack, c.FirstChild)
	}
	for _, tr := range rs {
		for _, td := range cells(tr) {
			if utf8.RuneCountInString(strings.TrimSpace(textOf(td))) > 400 {
				return false
			}
		}
	}
	return true
}

// table renders a data table as one line per row, cells joined by " | ".
func (r *renderer) table(t *html.Node) {
	r.paragraph()
	if !isDataTable(t) {
		r.children(t)
		r.paragraph()
		return
	}
	for c := t.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && tag(c) == atom.Caption {
			r.node(c)
		}
	}
	for _, tr := range rows(t) {
		var vals []string
		empty := true
		for _, td := range cells(tr) {
			sub := renderer{depth: r.depth}
			sub.children(td)
			v := strings.Join(strings.Fields(sub.String()), " ")
			if v != "" {
				empty = false
			}
			vals = append(vals, v)
		}
		if empty {
			continue
		}
		r.breakLine()
		r.write(strings.Join(vals, " | "))
		r.mark = true
		r.breakLine()
	}
	r.paragraph()
}

// Render returns the text of a DOM subtree: one line per block, headings
// and list items on lines of their own, data tables as "cell | cell" rows,
// <dt>/<dd> pairs as "term: definition".
func Render(n *html.Node) string {
	var r renderer
	r.node(n)
	return r.String()
}
