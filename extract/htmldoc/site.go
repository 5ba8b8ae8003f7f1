package htmldoc

import (
	"fmt"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// Rules override main-content detection for one site's pages, for research
// sites whose layout defeats the generic extractor. Every field is a CSS
// selector (goquery's dialect); an empty one keeps the generic result.
type Rules struct {
	// Content selects the main content. Its elements' text, in document
	// order, replaces main-content detection; inside it only elements
	// that never hold content (scripts, forms, navigation, hidden
	// elements) are dropped, no class-name guessing. When it matches
	// nothing the generic detection runs, with a warning.
	Content string
	// Title, Author and Date select the element whose text (or, for Date,
	// its datetime or content attribute first) overrides the page's
	// metadata.
	Title, Author, Date string
	// Remove selects elements deleted before anything else is read.
	Remove []string
}

// IsZero reports whether r sets no rule.
func (r *Rules) IsZero() bool {
	return r == nil || (r.Content == "" && r.Title == "" && r.Author == "" && r.Date == "" && len(r.Remove) == 0)
}

// CompileSelector compiles a rule's CSS selector, with an error that names
// the selector when it is not valid.
func CompileSelector(sel string) (cascadia.Selector, error) {
	s, err := cascadia.Compile(sel)
	if err != nil {
		return nil, fmt.Errorf("bad CSS selector %q: %w", sel, err)
	}
	return s, nil
}

// compiledRules are Rules with their selectors compiled.
type compiledRules struct {
	content, title, author, date cascadia.Selector
	remove                       []cascadia.Selector
}

// compile checks and compiles every selector of r; nil when r is empty.
func (r *Rules) compile() (*compiledRules, error) {
	if r.IsZero() {
		return nil, nil
	}
	c := &compiledRules{}
	for _, f := range []struct {
		name, sel string
		dst       *cascadia.Selector
	}{{"content", r.Content, &c.content}, {"title", r.Title, &c.title}, {"author", r.Author, &c.author}, {"date", r.Date, &c.date}} {
		if strings.TrimSpace(f.sel) == "" {
			continue
		}
		s, err := CompileSelector(f.sel)
		if err != nil {
			return nil, fmt.Errorf("site rule %s: %w", f.name, err)
		}
		*f.dst = s
	}
	for _, sel := range r.Remove {
		s, err := CompileSelector(sel)
		if err != nil {
			return nil, fmt.Errorf("site rule remove: %w", err)
		}
		c.remove = append(c.remove, s)
	}
	return c, nil
}

// removeMatches deletes every element the remove rules select.
func (c *compiledRules) removeMatches(doc *goquery.Document) {
	for _, s := range c.remove {
		doc.FindMatcher(s).Remove()
	}
}

// overrideMeta replaces m's title, author and date with what the rules'
// selectors find, where they find something.
func (c *compiledRules) overrideMeta(doc *goquery.Document, m *Meta) {
	if c.title != nil {
		if t := first(doc.FindMatcher(c.title).First().Text()); t != "" {
			m.Title = t
		}
	}
	if c.author != nil {
		if t := squash(byPrefixRe().ReplaceAllString(squash(doc.FindMatcher(c.author).First().Text()), "")); t != "" {
			m.Author = t
		}
	}
	if c.date != nil {
		s := doc.FindMatcher(c.date).First()
		if t := first(s.AttrOr("datetime", ""), s.AttrOr("content", ""), s.Text()); t != "" {
			m.Published = NormalizeDate(t)
		}
	}
}

// contentText renders the elements the content rule selects (the
// outermost of nested matches), each from a copy with its non-content
// elements dropped; "" when the rule selects no text.
func (c *compiledRules) contentText(doc *goquery.Document) string {
	if c.content == nil {
		return ""
	}
	matches := doc.FindMatcher(c.content)
	var parts []string
	matches.Each(func(_ int, s *goquery.Selection) {
		if s.ParentsFiltered("*").FilterNodes(matches.Nodes...).Length() > 0 {
			return // inside another match, rendered with it
		}
		n := s.Clone().Nodes[0]
		stripNonContent(n)
		if t := dropBoilerplateLines(Render(n)); t != "" {
			parts = append(parts, t)
		}
	})
	return strings.Join(parts, "\n\n")
}

// stripNonContent removes comments, hidden elements and elements that
// never hold content (chromeTags) from a subtree, in place.
func stripNonContent(root *html.Node) {
	removeNodes(root, func(n *html.Node) bool {
		return n.Type == html.CommentNode || (n.Type == html.ElementNode && (chromeTags[tag(n)] || isHidden(n)))
	})
}
