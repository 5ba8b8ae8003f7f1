package rules

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/schema"
)

// run extracts a synthetic document and checks the result is valid and
// every quote grounds exactly.
func run(t *testing.T, doc *schema.Document) *schema.Thesis {
	t.Helper()
	if doc.Kind == "" {
		doc.Kind = "text"
	}
	res, err := New().Extract(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(res.Extraction); err != nil {
		t.Fatalf("invalid extraction: %v", err)
	}
	assertGroundedExactly(t, doc.Text, res.Extraction)
	return &res.Extraction.Theses[0]
}

func TestInfo(t *testing.T) {
	info := New().Info()
	if info.Extractor != "rules" || info.Model != "" || info.PromptVersion != Version {
		t.Errorf("info = %+v", info)
	}
	if len(info.PromptHash) != 12 || info.PromptHash != New().Info().PromptHash {
		t.Errorf("prompt hash %q is not a stable 12-character hash", info.PromptHash)
	}
}

func TestParseBadge(t *testing.T) {
	for _, tc := range []struct {
		in      string
		stance  schema.Stance
		horizon string
		ok      bool
	}{
		{"Bullishgeneralactive", schema.Bullish, "", true},
		{"Bearish0-5 Year", schema.Bearish, "0-5 Year", true},
		{"Bearish · 0-5 Year", schema.Bearish, "0-5 Year", true},
		{"Neutral | 12-24 Months", schema.Neutral, "12-24 Months", true},
		{"Mixed", schema.Mixed, "", true},
		{"BULLISH", schema.Bullish, "", true},
		{"Bullish · general · active", schema.Bullish, "", true},
		{"Bullish general active", schema.Bullish, "", true},
		{"Bearish short-term", schema.Bearish, "short-term", true},
		{"Bullish on bonds", "", "", false},
		{"Bullishness abounds in markets", "", "", false},
		{"Bearish sentiment has peaked, and we think the worst is over.", "", "", false},
		{"Rates Research", "", "", false},
	} {
		st, h, ok := parseBadge(tc.in)
		if st != tc.stance || h != tc.horizon || ok != tc.ok {
			t.Errorf("parseBadge(%q) = %q, %q, %v; want %q, %q, %v", tc.in, st, h, ok, tc.stance, tc.horizon, tc.ok)
		}
	}
}

// glued is a note laid out as the research platform's text export does.
const glued = `Bearishmacroactive

Euro Area Periphery Spreads

Peripheral sovereign spreads will widen over 2026-2027 as fiscal slippage meets thinner ECB support.

Conviction:
7/10
By:Ines Okafor
Updated January 5, 2026

Rates Research

(1 entry)
Bearish0-2 Year
Confidence: 8/10|Conviction: 7/10
Fiscal deficits are drifting above target while the central bank runs down its bond holdings, which leaves private buyers to absorb a heavier supply of periphery debt at a time when their appetite is fading.

Key Data Points

indicator: Italy 10-year spread to Bunds
value: 132 bps (December 31, 2025)
source: Fictional Desk, January 2026
implication: Spreads start from tight levels
indicator: Periphery net issuance 2026
value: EUR 210 billion
source: Fictional Desk
implication: Heavier supply for private buyers

Sources

January 5, 2026

Credit Research

(1 entry)
Neutral0-2 Year
Confidence: 5/10|Conviction: 3/10
Bank balance sheets in the periphery are sounder than in the last crisis, so a widening in sovereign spreads should not turn into a credit event for the banking system this time.
`

func TestGluedNote(t *testing.T) {
	th := run(t, &schema.Document{Text: glued, Title: "Bearishmacroactive"})
	if th.Title != "Euro Area Periphery Spreads" || th.Stance != schema.Bearish ||
		num(th.Conviction) != 0.7 || th.Confidence != nil || str(th.Horizon) != "2026-2027" {
		t.Errorf("thesis = %q %s conv %v conf %v horizon %s", th.Title, th.Stance, num(th.Conviction), num(th.Confidence), str(th.Horizon))
	}
	if !strings.HasPrefix(th.Statement, "Peripheral sovereign spreads will widen") {
		t.Errorf("statement = %q", th.Statement)
	}
	wantViews := []string{"rates bearish 0-2 Year 0.8 0.7", "credit neutral 0-2 Year 0.5 0.3"}
	if got := viewKeys(th.Views); !reflect.DeepEqual(got, wantViews) {
		t.Errorf("views = %q, want %q", got, wantViews)
	}
	if len(th.DataPoints) != 2 {
		t.Fatalf("data points = %d, want 2", len(th.DataPoints))
	}
	d := th.DataPoints[0]
	if d.Indicator != "Italy 10-year spread to Bunds" || d.Value != "132 bps (December 31, 2025)" ||
		str(d.Source) != "Fictional Desk, January 2026" || str(d.Implication) != "Spreads start from tight levels" ||
		str(d.Perspective) != "rates" || d.Quote != "value: 132 bps (December 31, 2025)" {
		t.Errorf("data point = %+v", d)
	}
}

func viewKeys(vs []schema.View) []string {
	var out []string
	for _, v := range vs {
		out = append(out, strings.Join([]string{v.Perspective, string(v.Stance), str(v.Horizon),
			jsonNum(v.Confidence), jsonNum(v.Conviction)}, " "))
	}
	return out
}

func jsonNum(p *float64) string {
	b, _ := json.Marshal(p)
	return string(b)
}

// separated is a note as the HTML loader renders it: every badge on its own
// line, "·" separators, a spaced score line and a rendered <table>.
const separated = `Bullish
general
active
Grid Software Consolidation
Utility software vendors will consolidate as grid modernisation budgets grow over the next 3 years.
Conviction:
6/10
By: Sam Ortega
Updated March 3, 2026
Equity Research
(1 entry)
Bullish
1-3 Year
Confidence: 6/10 | Conviction: 5/10
Acquirers have the balance sheets to buy and targets trade at undemanding multiples, so we expect a steady pace of takeovers in the segment.
Key Data Points
Indicator | Value | Source | Implication
Median target EV/sales | 3.2x | Fictional Data Co, February 2026 | Room for takeover premia
Deals announced in 2025 | 14 | - | Activity is picking up
`

func TestSeparateLineBadgesAndRenderedTable(t *testing.T) {
	th := run(t, &schema.Document{Kind: "html", Text: separated, Title: "Grid Software Consolidation | Fictional"})
	if th.Stance != schema.Bullish || num(th.Conviction) != 0.6 || str(th.Horizon) != "3 years" {
		t.Errorf("thesis stance %s conviction %v horizon %s", th.Stance, num(th.Conviction), str(th.Horizon))
	}
	if th.Title != "Grid Software Consolidation" {
		t.Errorf("title = %q; the general/active tags must not be taken for it", th.Title)
	}
	if got, want := viewKeys(th.Views), []string{"equity bullish 1-3 Year 0.6 0.5"}; !reflect.DeepEqual(got, want) {
		t.Errorf("views = %q, want %q", got, want)
	}
	if len(th.DataPoints) != 2 {
		t.Fatalf("data points = %+v, want 2", th.DataPoints)
	}
	d := th.DataPoints[1]
	if d.Indicator != "Deals announced in 2025" || d.Value != "14" || d.Source != nil ||
		str(d.Implication) != "Activity is picking up" || str(d.Perspective) != "equity" ||
		d.Quote != "Deals announced in 2025 | 14 | - | Activity is picking up" {
		t.Errorf("table row = %+v", d)
	}
}

func TestMarkdownNote(t *testing.T) {
	text := "# Nordic Housing Bottoms Out\n\n**Stance:** Bullish\nConfidence: 6/10\nConviction: 5/10\n\n" +
		"Lower mortgage rates will lift Nordic housing transactions through 2027.\n\n" +
		"## Credit View\n\nBearish · 0-1 Year\n\nHousebuilder leverage is still high and refinancing walls arrive before volumes recover.\n\n" +
		"| Indicator | Value | Source | Implication |\n|---|---|---|---|\n" +
		"| Housebuilder net debt/EBITDA | 4.1x | Fictional Ratings | Refinancing risk |\n" +
		"| **Transactions YoY** | +9% | n/a | Volumes are turning |\n\n" +
		"## Equity\n\nStance: Bullish\n\n" +
		"- **Average price-to-book**: 0.8x (Source: Fictional Broker) — Trading below book value\n" +
		"- **Why now**: rates are falling\n"
	th := run(t, &schema.Document{Kind: "markdown", Text: text, Title: "Nordic Housing Bottoms Out", Author: "A. Writer", Published: "2026-01-15"})
	if th.Title != "Nordic Housing Bottoms Out" || th.Stance != schema.Bullish || num(th.Confidence) != 0.6 || num(th.Conviction) != 0.5 {
		t.Errorf("thesis = %q %s %v %v", th.Title, th.Stance, num(th.Confidence), num(th.Conviction))
	}
	if th.Statement != "Lower mortgage rates will lift Nordic housing transactions through 2027." || str(th.Horizon) != "2027" {
		t.Errorf("statement %q horizon %q", th.Statement, str(th.Horizon))
	}
	if got, want := viewKeys(th.Views), []string{"credit bearish 0-1 Year null null", "equity bullish <nil> null null"}; !reflect.DeepEqual(got, want) {
		t.Errorf("views = %q, want %q", got, want)
	}
	for _, v := range th.Views {
		if str(v.AsOf) != "2026-01-15" {
			t.Errorf("view %s as_of %q, want the document's date", v.Perspective, str(v.AsOf))
		}
	}
	var got []string
	for _, d := range th.DataPoints {
		got = append(got, strings.Join([]string{d.Indicator, d.Value, str(d.Source), str(d.Implication), str(d.Perspective)}, " | "))
	}
	want := []string{
		"Housebuilder net debt/EBITDA | 4.1x | Fictional Ratings | Refinancing risk | credit",
		"Transactions YoY | +9% | <nil> | Volumes are turning | credit",
		"Average price-to-book | 0.8x | Fictional Broker | Trading below book value | equity",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("data points:\n got %q\nwant %q", got, want)
	}
}

func TestDocumentFieldsFallback(t *testing.T) {
	res, err := New().Extract(context.Background(), &schema.Document{
		Kind: "markdown", Text: "Prices are flat and nothing much is happening.",
		Title: "Front Matter Title", Author: "Front Author", Published: "2026-02-01T08:00:00Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	x := res.Extraction
	if str(x.Title) != "Front Matter Title" || str(x.Author) != "Front Author" || str(x.Published) != "2026-02-01" {
		t.Errorf("title/author/published = %q/%q/%q", str(x.Title), str(x.Author), str(x.Published))
	}
}

func TestProseDataPoints(t *testing.T) {
	type dp struct{ value, indicator, source string }
	for _, tc := range []struct {
		name, text string
		want       []dp
	}{
		{"according to", "High-yield spreads stand at 284 bps, according to the latest Fictional Bank report.",
			[]dp{{"284 bps", "High-yield spreads", "Fictional Bank"}}},
		{"noted", "Acme Research noted a Nasdaq 100 P/E ratio of 31.89X.",
			[]dp{{"31.89X", "Nasdaq 100 P/E ratio", "Acme Research"}}},
		{"source in parentheses", "Card delinquencies climbed to 7.2% of balances (Source: Fictional Monitor).",
			[]dp{{"7.2%", "share of balances", "Fictional Monitor"}}},
		{"per", "Card balances reached $1.21 trillion, per Corliss & Vane.",
			[]dp{{"$1.21 trillion", "Card balances", "Corliss & Vane"}}},
		{"measure after the figure", "A 200 basis point efficiency gain gives a 33% EPS boost for a small cap, versus just 11% for a large cap.",
			[]dp{{"200 basis point", "efficiency gain", ""}, {"33%", "EPS boost", ""}, {"11%", "EPS boost", ""}}},
		{"joined range", "Cash yields may fall from 5% to perhaps 3% or 4%.",
			[]dp{{"5% to perhaps 3% or 4%", "Cash yields", ""}}},
		{"vs", "Growth is 18.0% vs. 10.8% for the rest.",
			[]dp{{"18.0% vs. 10.8%", "Growth", ""}}},
		{"currency range and multiple", "Capex of $660-690 billion implies leverage of 4.5-5.5x.",
			[]dp{{"$660-690 billion", "Capex", ""}, {"4.5-5.5x", "leverage", ""}}},
		{"P/E without x", "The forward P/E ratio for the index is 21.5, above average.",
			[]dp{{"21.5", "forward P/E ratio for the index", ""}}},
		{"month range", "Small caps led in the 12 to 24 months following the first cut.",
			[]dp{{"12 to 24 months", "Small caps led", ""}}},
		{"names, years and list numbers", "1. The Russell 2000 and the S&P 500 rose in Q2 2024 while the Mag 7 fell in 2025.", nil},
		{"no numbers", "Valuations look stretched and sentiment is fragile.", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []dp
			pts, _ := proseDataPoints(splitLines(tc.text), nil, DefaultMaxDataPoints)
			for _, d := range pts {
				got = append(got, dp{d.Value, d.Indicator, str(d.Source)})
				if !strings.Contains(tc.text, d.Quote) {
					t.Errorf("quote %q is not in the text", d.Quote)
				}
			}
			for i := range tc.want {
				if tc.want[i].source == "" {
					tc.want[i].source = "<nil>"
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestSentences(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"Rates fell 0.5%. Stocks rose!  Why? Because.", []string{"Rates fell 0.5%.", "Stocks rose!", "Why?", "Because."}},
		{"Mr. Smith sees 18.0% vs. 10.8% growth in the U.S. economy. Next.", []string{"Mr. Smith sees 18.0% vs. 10.8% growth in the U.S. economy.", "Next."}},
		{`He said "buy." Then left.`, []string{`He said "buy."`, "Then left."}},
		{"J. P. Morgan expects more. fine", []string{"J. P. Morgan expects more. fine"}},
	} {
		if got := sentences(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("sentences(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLexiconStance(t *testing.T) {
	for _, tc := range []struct {
		text string
		want schema.Stance
	}{
		{"Cheap valuations, tailwinds from rate cuts and upside to earnings: small caps should outperform.", schema.Bullish},
		{"Stocks look overvalued, face headwinds and carry downside risk; expect a sell-off.", schema.Bearish},
		{"Upside from cheap valuations is real, but headwinds and downside risk from an expensive market are too.", schema.Mixed},
		{"The committee meets on Tuesday.", schema.Neutral},
		{"Shares are not cheap, there is no upside and we see no tailwind.", schema.Neutral},
		{"Buy-now-pay-later volumes grew.", schema.Neutral},
	} {
		if got := LexiconStance(tc.text); got != tc.want {
			b, r := cueCount(tc.text)
			t.Errorf("LexiconStance(%q) = %s (%d/%d cues), want %s", tc.text, got, b, r, tc.want)
		}
	}
}

func TestHorizonAndDates(t *testing.T) {
	for in, want := range map[string]string{
		"AI spending will drive a rotation over 2025-2030.":           "2025-2030",
		"Small caps beat large caps over the next 12 to 24 months.":   "12-24 months",
		"Storage will be the fastest-growing segment through 2030.":   "2030",
		"Banks re-rate within 18 months.":                             "18 months",
		"Nothing about time here, except the S&P 500 in 2024 levels.": "<nil>",
	} {
		if got := str(horizonIn(in)); got != want {
			t.Errorf("horizonIn(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"February 16, 2026": "2026-02-16", "Feb 6, 2026": "2026-02-06", "3 March 2026": "2026-03-03",
		"2026-01-31": "2026-01-31", "2026-03-03T09:30:00Z": "2026-03-03", "sometime soon": "<nil>", "2026": "<nil>",
	} {
		if got := str(normDate(in)); got != want {
			t.Errorf("normDate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNoNumbersIsNeutralAndValid(t *testing.T) {
	text := "Quiet Week\n\nThe committee met and discussed the agenda. Members will meet again next month to review the minutes."
	th := run(t, &schema.Document{Text: text, Title: "Quiet Week"})
	if th.Stance != schema.Neutral || len(th.DataPoints) != 0 || th.DataPoints == nil || th.Views == nil {
		t.Errorf("stance %s, data points %#v, views %#v; want neutral with empty (non-nil) slices", th.Stance, th.DataPoints, th.Views)
	}
	if th.Confidence != nil || th.Conviction != nil {
		t.Errorf("confidence/conviction = %v/%v, want null", num(th.Confidence), num(th.Conviction))
	}
	if th.Statement == "" || th.Title != "Quiet Week" {
		t.Errorf("statement %q title %q", th.Statement, th.Title)
	}
}

func TestOddInputs(t *testing.T) {
	for name, text := range map[string]string{
		"one word":       "close",
		"only badge":     "Bullish",
		"only a table":   "Indicator | Value\n| --- |",
		"pipes":          "| | | |\n|||",
		"dangling value": "value: 5%\nsource: nobody",
		"unicode":        "Ünïcödé — “quotes” ‘and’ … 5 % ≈ ¥3.1 trillion × 2 −4%.",
		"long line":      strings.Repeat("growth of 5% and ", 5000),
		"abbreviations":  strings.Repeat("up 5% vs. Q and ", 5000),
		"many lines":     strings.Repeat("Bullish\nindicator: x\nvalue: 1%\n| a | b |\n", 3000),
	} {
		t.Run(name, func(t *testing.T) {
			run(t, &schema.Document{Text: text})
		})
	}
}

func TestDeterministic(t *testing.T) {
	doc := &schema.Document{Text: glued + "\n" + separated}
	a, err := New().Extract(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New().Extract(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a.Extraction)
	jb, _ := json.Marshal(b.Extraction)
	if string(ja) != string(jb) {
		t.Errorf("two runs differ:\n%s\n%s", ja, jb)
	}
}

func TestCancelledContextAndNilDocument(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Extract(ctx, &schema.Document{Text: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, err := New().Extract(context.Background(), nil); err == nil {
		t.Error("nil document: want an error")
	}
	var _ extract.Extractor = New()
}
