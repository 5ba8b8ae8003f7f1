// Package schema defines thesisdb's domain types: the documents analysts
// supply and the investment-thesis extraction drawn from them, together with
// the JSON Schema that extraction must satisfy, its validation and the
// normalisation of the free-text values (stances, scores, figures) in it.
//
// The package depends on nothing else in thesisdb; every other package
// depends on it.
package schema

import (
	_ "embed"
	"sort"
	"time"
)

// JSON is the extraction JSON Schema (draft 2020-12). It is usable as an
// OpenAI strict structured-output schema as it is.
//
//go:embed extraction.schema.json
var JSON []byte

// Version identifies the schema's meaning. Bump it whenever
// extraction.schema.json changes so that re-extraction jobs can tell stale
// extractions from current ones.
const Version = "1"

// Stance is an author's position on a subject.
type Stance string

// The stances an extraction may hold.
const (
	Bullish Stance = "bullish"
	Bearish Stance = "bearish"
	Neutral Stance = "neutral"
	Mixed   Stance = "mixed"
)

// Stances lists every valid Stance, in the schema's order.
var Stances = []Stance{Bullish, Bearish, Neutral, Mixed}

// Valid reports whether s is one of Stances.
func (s Stance) Valid() bool {
	for _, v := range Stances {
		if s == v {
			return true
		}
	}
	return false
}

// Extraction is the structured content of one document: the JSON Schema's
// document, field for field.
type Extraction struct {
	Title     *string  `json:"title"`
	Author    *string  `json:"author"`
	Published *string  `json:"published"`
	Theses    []Thesis `json:"theses"`
}

// Thesis is one investment thesis a document argues.
type Thesis struct {
	Title      string      `json:"title"`
	Statement  string      `json:"statement"`
	Subject    *string     `json:"subject"`
	Stance     Stance      `json:"stance"`
	Confidence *float64    `json:"confidence"`
	Conviction *float64    `json:"conviction"`
	Horizon    *string     `json:"horizon"`
	Views      []View      `json:"views"`
	DataPoints []DataPoint `json:"data_points"`
}

// View is a thesis seen from one research perspective (rates, credit, ...).
type View struct {
	Perspective string   `json:"perspective"`
	Stance      Stance   `json:"stance"`
	Confidence  *float64 `json:"confidence"`
	Conviction  *float64 `json:"conviction"`
	Horizon     *string  `json:"horizon"`
	Summary     *string  `json:"summary"`
	AsOf        *string  `json:"as_of"`
}

// DataPoint is one key figure: what is measured, its value as written, who
// reports it and what it means for the thesis, with the verbatim quote that
// states it.
type DataPoint struct {
	Indicator   string  `json:"indicator"`
	Value       string  `json:"value"`
	Source      *string `json:"source"`
	Implication *string `json:"implication"`
	Perspective *string `json:"perspective"`
	Quote       string  `json:"quote"`

	// Ground locates Quote in the document's text. It is derived after
	// extraction and is not part of the JSON document.
	Ground *Grounding `json:"-"`
}

// Grounding says where a data point's quote stands in its document's text.
// Start and End are offsets in characters (Unicode code points) of the
// document text, so SQLite's substr(text, Start+1, End-Start) returns the
// passage.
type Grounding struct {
	Start, End int
	// Method is how the quote was found: "exact", "normalized" or "fuzzy";
	// empty when it was not found.
	Method string
	// Grounded is true when the quote was found and the numbers in the
	// value appear in it.
	Grounded bool
}

// Document is one loaded input: its cleaned text and what is known about it.
type Document struct {
	// Kind is the format the document was loaded from: text, markdown,
	// html or pdf.
	Kind string `json:"kind"`
	// Source is the file path or the final URL the document came from.
	Source    string `json:"source"`
	Title     string `json:"title"`
	Author    string `json:"author"`
	Published string `json:"published"` // YYYY-MM-DD (or RFC 3339) when known
	SiteName  string `json:"site_name,omitempty"`
	// CanonicalURL is the URL the page declares as its own, when it does.
	CanonicalURL string `json:"canonical_url,omitempty"`
	// Text is the cleaned text that extractors read.
	Text string `json:"text"`
	// PageStarts holds, for a PDF, where each page (first page first, empty
	// pages included) starts in Text, in characters (runes) as a data
	// point's Grounding counts them; nil when the document has no pages.
	PageStarts []int `json:"page_starts,omitempty"`
	// SHA256 is the hex SHA-256 of the original bytes: the document's identity.
	SHA256 string `json:"sha256,omitempty"`
	// Bytes is the size of the original input.
	Bytes int64 `json:"bytes,omitempty"`
	// Tags are labels such as the inbox sub-folder the file was dropped in.
	Tags []string `json:"tags,omitempty"`
	// Warnings are notes from loading (a guessed encoding, say).
	Warnings []string `json:"warnings,omitempty"`
}

// PageAt returns the 1-based page that the character at offset char (in
// runes, as PageStarts) stands on, or 0 when the document has no pages or
// char is negative.
func (d *Document) PageAt(char int) int {
	if len(d.PageStarts) == 0 || char < 0 {
		return 0
	}
	// The last page starting at or before char: empty pages start where
	// the next one does, so they never hold a character.
	n := sort.Search(len(d.PageStarts), func(i int) bool { return d.PageStarts[i] > char })
	if n == 0 {
		return 1
	}
	return n
}

// Usage counts what one or more model calls consumed.
type Usage struct {
	PromptTokens       int     `json:"prompt_tokens"`
	CompletionTokens   int     `json:"completion_tokens"`
	CachedPromptTokens int     `json:"cached_prompt_tokens"`
	Requests           int     `json:"requests"`
	CostUSD            float64 `json:"cost_usd"`
	// CostUnknown is set when the calls could not be priced (a model
	// missing from the price table, a local server): CostUSD is then not
	// a cost, and the database stores NULL.
	CostUnknown bool `json:"cost_unknown,omitempty"`
}

// Add accumulates u2 into u.
func (u *Usage) Add(u2 Usage) {
	u.PromptTokens += u2.PromptTokens
	u.CompletionTokens += u2.CompletionTokens
	u.CachedPromptTokens += u2.CachedPromptTokens
	u.Requests += u2.Requests
	u.CostUSD += u2.CostUSD
	u.CostUnknown = u.CostUnknown || u2.CostUnknown
}

// Result is what an extractor returns for one document.
type Result struct {
	Extraction *Extraction
	Usage      Usage
	Duration   time.Duration
	// Warnings are notes on the extraction to keep with the document (a
	// limit that cut it short, say).
	Warnings []string
}
