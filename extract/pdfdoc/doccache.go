package pdfdoc

import "github.com/ledongthuc/pdf"

// docCache holds what the pages of one document share, so that each is
// read once: its fonts and its page tree (and the interpreters' buffers
// are reused). The library resolves an indirect
// object again, from the file or by inflating its object stream, on every
// access, and finds page n by walking the tree from the root.
type docCache struct {
	fonts   map[string]*fontInfo // by the font dictionary's printed form
	tree    *pageNode
	interps []*interp // content interpreters, one per form nesting depth
}

func newDocCache() *docCache {
	return &docCache{fonts: map[string]*fontInfo{}}
}

// font returns the font of dictionary v, loading it on first use. The key
// is the dictionary as the library prints it: its direct values and the
// object numbers of its indirect ones (ToUnicode, Widths, descriptor), so
// two dictionaries with one key describe the same font.
func (c *docCache) font(v pdf.Value) *fontInfo {
	if v.Kind() != pdf.Dict {
		return loadFont(v)
	}
	key := v.String()
	if f, ok := c.fonts[key]; ok {
		return f
	}
	f := loadFont(v)
	c.fonts[key] = f
	return f
}

// pageNode is a node of the page tree, its kids read on first use.
type pageNode struct {
	v      pdf.Value
	pages  bool // a /Pages node
	page   bool // a /Page leaf
	count  int  // a /Pages node's /Count
	kids   []*pageNode
	loaded bool
}

func newPageNode(v pdf.Value) *pageNode {
	n := &pageNode{v: v}
	switch v.Key("Type").Name() {
	case "Pages":
		n.pages = true
		n.count = int(v.Key("Count").Int64())
	case "Page":
		n.page = true
	}
	return n
}

func (n *pageNode) children() []*pageNode {
	if !n.loaded {
		n.loaded = true
		kids := n.v.Key("Kids")
		for i := 0; i < kids.Len(); i++ {
			n.kids = append(n.kids, newPageNode(kids.Index(i)))
		}
	}
	return n.kids
}

// maxTreeDepth bounds the descent through the page tree (the pre-scan
// already refuses loops in it).
const maxTreeDepth = 1000

// page returns page num (1-based) exactly as the library's Reader.Page
// finds it, following the /Count of each /Pages node, but reading each node
// of the tree once per document.
func (c *docCache) page(r *pdf.Reader, num int) pdf.Page {
	if c.tree == nil {
		c.tree = newPageNode(r.Trailer().Key("Root").Key("Pages"))
	}
	num-- // now 0-indexed
	node := c.tree
Search:
	for depth := 0; node.pages && depth < maxTreeDepth; depth++ {
		if node.count < num {
			return pdf.Page{}
		}
		for _, kid := range node.children() {
			if kid.pages {
				if num < kid.count {
					node = kid
					continue Search
				}
				num -= kid.count
				continue
			}
			if kid.page {
				if num == 0 {
					return pdf.Page{V: kid.v}
				}
				num--
			}
		}
		break
	}
	return pdf.Page{}
}
