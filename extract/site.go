package extract

// SiteRules override main-content detection for one site's HTML pages:
// research sites whose layout defeats the generic extractor. Every field
// is a goquery (CSS) selector; an empty one keeps the generic result.
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
