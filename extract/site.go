package extract

import (
	"fmt"

	"github.com/thesisdb/thesisdb/extract/htmldoc"
)

// SiteRules override main-content detection for one site's HTML pages:
// research sites whose layout defeats the generic extractor. Every field
// is a goquery (CSS) selector; an empty one keeps the generic result.
// Remove is applied first; Content's text (outermost matches, in document
// order) then replaces main-content detection, and Title, Author and Date
// override the page's metadata (Date reads a datetime or content attribute
// before the text). A Content rule that selects no text falls back to the
// generic detection with a warning.
type SiteRules struct {
	Content string   `json:"content,omitempty" toml:"content"`
	Title   string   `json:"title,omitempty" toml:"title"`
	Author  string   `json:"author,omitempty" toml:"author"`
	Date    string   `json:"date,omitempty" toml:"date"`
	Remove  []string `json:"remove,omitempty" toml:"remove"`
}

// IsZero reports whether r sets no rule.
func (r SiteRules) IsZero() bool {
	return r.Content == "" && r.Title == "" && r.Author == "" && r.Date == "" && len(r.Remove) == 0
}

// Validate compiles every selector of r, with an error naming the field
// and the selector that does not compile.
func (r SiteRules) Validate() error {
	for _, f := range []struct{ name, sel string }{{"content", r.Content}, {"title", r.Title}, {"author", r.Author}, {"date", r.Date}} {
		if f.sel == "" {
			continue
		}
		if _, err := htmldoc.CompileSelector(f.sel); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	for i, sel := range r.Remove {
		if _, err := htmldoc.CompileSelector(sel); err != nil {
			return fmt.Errorf("remove[%d]: %w", i, err)
		}
	}
	return nil
}
