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
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
)

// Version identifies the rules; bump it whenever a change alters what the
// extractor returns, so cached extractions can be told apart.
const Version = "rules-1"

// Extractor is the offline rules extractor. It holds no state and is safe
// for concurrent use.
type Extractor struct{}

var _ extract.Extractor = (*Extractor)(nil)

// New returns the rules extractor.
func New() *Extractor { return &Extractor{} }

// configHash hashes the version and the stance lexicon, so that any change
// to the rules' configuration changes Info().PromptHash.
var configHash = func() string {
	h := sha256.New()
	h.Write([]byte(Version))
	for _, l := range [][]string{Lexicon.Bullish, Lexicon.Bearish} {
		h.Write([]byte{0})
		h.Write([]byte(strings.Join(l, "\x1f")))
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// Info describes the rules extractor: Extractor "rules", no model, the rules
// version and a short hash of its configuration.
func (*Extractor) Info() extract.Info {
	return extract.Info{Extractor: "rules", PromptVersion: Version, PromptHash: configHash}
}

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
	var x *schema.Extraction
	err := extract.Safely(func() error {
		x = extractDoc(doc)
		return schema.Validate(x)
	})
	if err != nil {
		return nil, fmt.Errorf("rules extract %s: %w", doc.Source, err)
	}
	return &schema.Result{Extraction: x, Duration: time.Since(start)}, nil
}

// extractDoc builds the extraction: the structured reading where the text
// has structure, the prose reading for whatever it lacks.
func extractDoc(doc *schema.Document) *schema.Extraction {
	lines := splitLines(doc.Text)
	n := parseNote(lines)

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
		th.Horizon = horizonIn(th.Statement)
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

	if len(n.points) > 0 {
		th.DataPoints = append(th.DataPoints, n.points...)
	} else {
		th.DataPoints = append(th.DataPoints, proseDataPoints(lines, n.perspectiveOf)...)
	}

	var titlePtr *string
	if title != "" {
		titlePtr = &title
	}
	return &schema.Extraction{
		Title:     titlePtr,
		Author:    author,
		Published: published,
		Theses:    []schema.Thesis{th},
	}
}

// line is one line of the document: raw is the line trimmed of surrounding
// space (a verbatim substring of the text); text is raw without Markdown
// emphasis and heading marks, for matching.
type line struct {
	raw, text string
	heading   int // Markdown heading level, 0 when none
}

func splitLines(text string) []line {
	parts := strings.Split(text, "\n")
	out := make([]line, len(parts))
	for i, p := range parts {
		raw := strings.TrimSpace(p)
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
		t = strings.ReplaceAll(t, "**", "")
		t = strings.ReplaceAll(t, "__", "")
		out[i] = line{raw: raw, text: t, heading: h}
	}
	return out
}
