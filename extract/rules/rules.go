// Package rules is thesisdb's offline extractor: deterministic rules, no
// model, no network. It reads two kinds of documents.
//
// Structured research notes (a stance badge, "Conviction: 5/10", "By:",
// "Updated <date>", "<X> Research" perspectives with their own badges and
// scores, and data points written as "indicator:/value:/source:/implication:"
// blocks or as "Indicator | Value | Source | Implication" tables) are read
// field by field, and reproduce what the note states to the letter.
//
// Free prose is read shallowly: the stance comes from a small published
// lexicon of cue phrases (see Lexicon), confidence and conviction stay null
// because the text states none, the statement is the most thesis-like
// sentence, and data points are the sentences that state figures (%, bp,
// multiples, currency amounts, P/E ratios, month or year ranges), with the
// figure as written, a short indicator phrase taken from the sentence and
// the source when the sentence attributes one ("according to X", "X
// noted", "(Source: X)", "per X"). Prose data points carry no implication:
// the rules cannot tell what a figure means for the thesis.
//
// Every data point's Quote is a verbatim line or sentence of the document
// text, so extract.Ground finds it exactly.
package rules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
)

// Version identifies the rules; bump it whenever a change alters what the
// extractor returns, so cached extractions can be told apart.
const Version = "rules-2"

// DefaultMaxDataPoints is the number of data points the extractor keeps
// from one document unless told otherwise. Research notes state a few
// dozen figures (the structured seed 42, the web pages of the test corpus
// at most 39); 500 keeps every one of them whole, and most annual reports
// too (those state 250 to 1,400 figures), while a hostile text of figures
// ("1% 1% 1% …") costs a bounded amount of memory to extract, validate,
// ground and store.
const DefaultMaxDataPoints = 500

// maxViews bounds the research perspectives read from one document; notes
// have a handful.
const maxViews = 100

// Extractor is the offline rules extractor. It holds only its settings and
// is safe for concurrent use.
type Extractor struct {
	maxPoints int
}

var _ extract.Extractor = (*Extractor)(nil)

// Option configures the rules extractor.
type Option func(*Extractor)

// WithMaxDataPoints keeps at most n data points per document (n < 1 means
// DefaultMaxDataPoints); the extraction of a document that states more
// carries a warning saying so.
func WithMaxDataPoints(n int) Option {
	return func(e *Extractor) {
		if n >= 1 {
			e.maxPoints = n
		}
	}
}

// New returns the rules extractor.
func New(opts ...Option) *Extractor {
	e := &Extractor{maxPoints: DefaultMaxDataPoints}
	for _, o := range opts {
		o(e)
	}
	return e
}

// MaxDataPoints is the number of data points kept per document.
func (e *Extractor) MaxDataPoints() int {
	if e.maxPoints < 1 {
		return DefaultMaxDataPoints // the zero Extractor
	}
	return e.maxPoints
}

// configHash hashes the version and the stance lexicon, so that any change
// to the rules' configuration changes Info().PromptHash.
var configHash = sync.OnceValue(func() string {
	h := sha256.New()
	h.Write([]byte(Version))
	for _, l := range [][]string{Lexicon.Bullish, Lexicon.Bearish} {
		h.Write([]byte{0})
		h.Write([]byte(strings.Join(l, "\x1f")))
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
})

// Info describes the rules extractor: Extractor "rules", no model, the rules
// version and a short hash of its configuration (the data point limit
// included when it is not the default).
func (e *Extractor) Info() extract.Info {
	h := configHash()
	if n := e.MaxDataPoints(); n != DefaultMaxDataPoints {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s max-data-points=%d", h, n))
		h = hex.EncodeToString(sum[:])[:12]
	}
	return extract.Info{Extractor: "rules", PromptVersion: Version, PromptHash: h}
}

// ValidatesExtractions reports that Extract returns only extractions that
// passed schema.Validate as returned (extract.SelfValidating).
func (e *Extractor) ValidatesExtractions() bool { return true }

// Extract reads doc.Text and returns one thesis that passes
// schema.Validate. Panics are recovered as *extract.PanicError.
func (e *Extractor) Extract(ctx context.Context, doc *schema.Document) (*schema.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rules extract: %w", err)
	}
	if doc == nil {
		return nil, fmt.Errorf("rules extract: nil document")
	}
	start := time.Now()
	var (
		x        *schema.Extraction
		warnings []string
	)
	err := extract.Safely(func() error {
		x, warnings = extractDoc(doc, e.MaxDataPoints())
		return schema.Validate(x)
	})
	if err != nil {
		return nil, fmt.Errorf("rules extract %s: %w", doc.Source, err)
	}
	return &schema.Result{Extraction: x, Duration: time.Since(start), Warnings: warnings}, nil
}

// extractDoc builds the extraction: the structured reading where the text
// has structure, the prose reading for whatever it lacks. It keeps at most
// maxPoints data points and maxViews views, shortens overlong fields, and
// returns a warning for each of these limits that cut something.
func extractDoc(doc *schema.Document, maxPoints int) (*schema.Extraction, []string) {
	lines := splitLines(doc.Text)
	n := parseNote(lines, maxPoints)

	th := schema.Thesis{
		Views:      []schema.View{},
		DataPoints: []schema.DataPoint{},
	}
	title := n.title
	if title == "" {
		title = proseTitle(doc, lines)
	}
	th.Title = title

	th.Statement = n.statement
	if th.Statement == "" {
		th.Statement = proseStatement(lines)
	}
	if th.Statement == "" {
		th.Statement = title
	}
	if strings.TrimSpace(th.Statement) == "" {
		th.Statement = "(no statement found)"
	}

	if n.stance != "" {
		th.Stance = n.stance
	} else {
		th.Stance = LexiconStance(doc.Text)
	}
	th.Confidence = n.confidence
	th.Conviction = n.conviction
	th.Horizon = n.horizon
	if th.Horizon == nil {
		th.Horizon = horizonIn(truncate(th.Statement, maxPassage))
	}
	if th.Horizon == nil && !n.structured() {
		th.Horizon = forwardHorizon(lines)
	}

	published := n.published
	if published == nil {
		published = normDate(doc.Published)
	}
	author := n.author
	if author == nil && strings.TrimSpace(doc.Author) != "" {
		a := strings.TrimSpace(doc.Author)
		author = &a
	}

	var warnings []string
	if n.moreSections > 0 {
		warnings = append(warnings, fmt.Sprintf("rules extractor kept the first %d of %d research perspectives", len(n.sections), len(n.sections)+n.moreSections))
	}
	for _, s := range n.sections {
		v := schema.View{
			Perspective: s.perspective,
			Stance:      s.stance,
			Confidence:  s.confidence,
			Conviction:  s.conviction,
			Horizon:     s.horizon,
			Summary:     s.summary,
			AsOf:        s.asOf,
		}
		if v.Stance == "" {
			v.Stance = LexiconStance(strings.Join(s.text, "\n"))
		}
		if v.AsOf == nil {
			v.AsOf = published
		}
		th.Views = append(th.Views, v)
	}

	cut := n.pointsCut
	if len(n.points) > 0 {
		th.DataPoints = append(th.DataPoints, n.points...)
	} else {
		var pts []schema.DataPoint
		pts, cut = proseDataPoints(lines, n.perspectiveAt, maxPoints)
		th.DataPoints = append(th.DataPoints, pts...)
	}
	if cut {
		warnings = append(warnings, fmt.Sprintf("rules extractor kept the first %d data points (its limit, --max-data-points): the document states more figures, which were not extracted", maxPoints))
	}

	var titlePtr *string
	if title != "" {
		titlePtr = &title
	}
	x := &schema.Extraction{
		Title:     titlePtr,
		Author:    author,
		Published: published,
		Theses:    []schema.Thesis{th},
	}
	if k := boundFields(x); k > 0 {
		warnings = append(warnings, fmt.Sprintf("rules extractor shortened %d overlong fields (titles, figures and sources to %d bytes, quotes to %d, statements and summaries to %d)", k, maxField, maxQuoteField, maxPassage))
	}
	return x, warnings
}

// Field limits: no figure, indicator, source or title is longer than
// maxField bytes, no quote longer than maxQuoteField, and no statement or
// view summary (a paragraph, a few thousand bytes in real notes) longer
// than maxPassage, so that one giant line cannot be copied into every data
// point that cites it, nor make validating and storing the extraction cost
// many times its size.
const (
	maxField      = 1000
	maxQuoteField = 2000
	maxPassage    = 8000
)

// boundFields shortens overlong fields of x in place, each at a character
// boundary (a quote keeps its start, so it is still a verbatim passage of
// the text), and returns how many it shortened.
func boundFields(x *schema.Extraction) (shortened int) {
	cut := func(s *string, limit int) {
		if s != nil && len(*s) > limit {
			*s = truncate(*s, limit)
			shortened++
		}
	}
	cut(x.Title, maxField)
	cut(x.Author, maxField)
	for i := range x.Theses {
		th := &x.Theses[i]
		cut(&th.Title, maxField)
		cut(&th.Statement, maxPassage)
		cut(th.Horizon, maxField)
		for j := range th.Views {
			v := &th.Views[j]
			cut(&v.Perspective, maxField)
			cut(v.Horizon, maxField)
			cut(v.Summary, maxPassage)
		}
		for j := range th.DataPoints {
			dp := &th.DataPoints[j]
			cut(&dp.Indicator, maxField)
			cut(&dp.Value, maxField)
			cut(&dp.Quote, maxQuoteField)
			// Sources, implications and perspectives may be shared
			// between data points: shorten copies.
			for _, p := range []**string{&dp.Source, &dp.Implication, &dp.Perspective} {
				if *p != nil && len(**p) > maxField {
					v := truncate(**p, maxField)
					*p = &v
					shortened++
				}
			}
		}
	}
	return shortened
}

// truncate cuts s to at most n bytes at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimSpace(s[:n])
}

// line is one line of the document: raw is the line trimmed of surrounding
// space (a verbatim substring of the text); text is raw without Markdown
// emphasis and heading marks, for matching.
type line struct {
	raw, text string
	heading   int // Markdown heading level, 0 when none
}

// splitLines returns the document's lines that are not blank, trimmed of
// surrounding space: substrings of text, so the only memory they take is
// their headers. Blank lines carry nothing any reading uses.
func splitLines(text string) []string {
	n := 0
	for rest := text; rest != ""; {
		l, r, _ := strings.Cut(rest, "\n")
		rest = r
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	out := make([]string, 0, n)
	for rest := text; rest != ""; {
		l, r, _ := strings.Cut(rest, "\n")
		rest = r
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parseLine reads one trimmed line; lines are parsed when read, not held
// parsed, so that millions of tiny lines cost little memory.
func parseLine(raw string) line {
	t := raw
	h := 0
	for h < len(t) && h < 6 && t[h] == '#' {
		h++
	}
	if h > 0 && h < len(t) && t[h] == ' ' {
		t = strings.TrimSpace(t[h:])
	} else {
		h = 0
	}
	t = strings.TrimSpace(strings.TrimPrefix(t, "> "))
	if strings.Contains(t, "**") {
		t = strings.ReplaceAll(t, "**", "")
	}
	if strings.Contains(t, "__") {
		t = strings.ReplaceAll(t, "__", "")
	}
	return line{raw: raw, text: t, heading: h}
}
