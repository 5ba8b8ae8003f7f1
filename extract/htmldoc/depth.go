package htmldoc

import (
	"bytes"
	"io"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// voidElements never have content or an end tag.
var voidElements = map[atom.Atom]bool{
	atom.Area: true, atom.Base: true, atom.Br: true, atom.Col: true, atom.Embed: true,
	atom.Hr: true, atom.Img: true, atom.Input: true, atom.Link: true, atom.Meta: true,
	atom.Source: true, atom.Track: true, atom.Wbr: true, atom.Param: true, atom.Keygen: true,
}

// selfClosing elements end when a sibling of the same name starts.
var selfClosing = map[atom.Atom]bool{
	atom.P: true, atom.Li: true, atom.Dt: true, atom.Dd: true, atom.Option: true,
	atom.Tr: true, atom.Td: true, atom.Th: true,
}

// nester tracks an approximation of the element nesting a tree builder
// would produce, from tokens alone.
type nester struct{ stack []atom.Atom }

// start records a start tag and returns the new depth.
func (n *nester) start(a atom.Atom) int {
	if len(n.stack) > 0 && selfClosing[a] && n.stack[len(n.stack)-1] == a {
		n.stack = n.stack[:len(n.stack)-1]
	}
	n.stack = append(n.stack, a)
	return len(n.stack)
}

// end records an end tag: it closes the nearest open element of that name
// among the innermost few, and is ignored otherwise (a stray end tag).
func (n *nester) end(a atom.Atom) {
	for i := len(n.stack) - 1; i >= 0 && i >= len(n.stack)-32; i-- {
		if n.stack[i] == a {
			n.stack = n.stack[:i]
			return
		}
	}
}

// tooDeep reports whether the page's elements nest deeper than max.
func tooDeep(data []byte, max int) bool {
	z := html.NewTokenizer(bytes.NewReader(data))
	var n nester
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if voidElements[a] {
				continue
			}
			if n.start(a) > max {
				return true
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			n.end(atom.Lookup(name))
		}
	}
}

// flatten rewrites a page so that no element nests deeper than max: the
// tags of deeper elements are dropped and their text kept, so the page reads
// the same while parsing and walking it stay bounded. (HTML tree building
// costs time proportional to the depth for every element, so 100,000
// nested <div>s would take minutes.)
func flatten(data []byte, max int) []byte {
	z := html.NewTokenizer(bytes.NewReader(data))
	var out bytes.Buffer
	out.Grow(len(data))
	var n nester
	excess := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				out.Write(z.Raw())
			}
			return out.Bytes()
		case html.StartTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if voidElements[a] {
				break
			}
			if excess > 0 || len(n.stack) >= max {
				excess++
				out.WriteByte(' ')
				continue
			}
			n.start(a)
		case html.EndTagToken:
			if excess > 0 {
				excess--
				out.WriteByte(' ')
				continue
			}
			name, _ := z.TagName()
			n.end(atom.Lookup(name))
		}
		out.Write(z.Raw())
	}
}
