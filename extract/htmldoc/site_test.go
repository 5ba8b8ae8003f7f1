package htmldoc

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// researchPage is laid out the way some research sites are: the note sits
// in a small panel beside a much longer block of market commentary that
// repeats on every page, so the generic extractor takes the commentary
// for the article.
func researchPage() string {
	var filler strings.Builder
	for i := 0; i < 14; i++ {
		fmt.Fprintf(&filler, "<p>Daily market wrap paragraph %d: equities drifted as traders weighed the latest central bank speeches, oil inventories and the outlook for quarterly earnings across the main indices, with volumes below their monthly average.</p>\n", i)
	}
	return `<!DOCTYPE html><html lang="en"><head><title>Portal | Research</title>
<meta name="author" content="Portal Staff"></head><body>
<div class="layout">
 <div class="col-wide">` + filler.String() + `</div>
 <div class="col-narrow">
  <div class="note-head"><h2 class="note-title">Utilities: Rate Relief Is Priced In</h2>
   <span class="analyst">By Priya Raman</span> <span class="stamp" data-x="1"><time datetime="2026-04-02T08:00:00Z">2 April</time></span></div>
  <div class="note-body">
   <p>We downgrade the regulated utilities basket to neutral: the sector now trades at 17 times forward earnings.</p>
   <div class="disclaimer-box">This is not investment advice. Past performance is no guide.</div>
   <table><tr><th>Indicator</th><th>Value</th></tr><tr><td>Forward P/E</td><td>17.1x</td></tr></table>
   <script>track("note")</script>
  </div>
 </div>
</div></body></html>`
}

func TestSiteRules(t *testing.T) {
	page := researchPage()
	generic := parse(t, page, nil)
	if strings.Contains(generic.Text, "We downgrade the regulated utilities basket") && !strings.Contains(generic.Text, "Daily market wrap") {
		t.Fatalf("the generic extractor already finds the note; the page does not test the rules:\n%s", generic.Text)
	}
	rules := &Rules{
		Content: ".note-body",
		Title:   ".note-title",
		Author:  ".analyst",
		Date:    ".stamp time",
		Remove:  []string{".disclaimer-box"},
	}
	res := parse(t, page, &Options{Rules: rules})
	want := "We downgrade the regulated utilities basket to neutral: the sector now trades at 17 times forward earnings.\n\nIndicator | Value\nForward P/E | 17.1x"
	if res.Text != want {
		t.Errorf("text with rules:\n%q\nwant\n%q", res.Text, want)
	}
	if res.Method != "site rule" {
		t.Errorf("method %q, want site rule", res.Method)
	}
	if res.Title != "Utilities: Rate Relief Is Priced In" || res.Author != "Priya Raman" || res.Published != "2026-04-02" {
		t.Errorf("meta = %q / %q / %q", res.Title, res.Author, res.Published)
	}
}

func TestSiteRulesNoMatch(t *testing.T) {
	page := researchPage()
	res := parse(t, page, &Options{Rules: &Rules{Content: ".no-such-thing", Remove: []string{".col-wide"}}})
	if res.Method == "site rule" {
		t.Fatal("a content rule that selects nothing was used")
	}
	if !strings.Contains(res.Text, "We downgrade") || strings.Contains(res.Text, "Daily market wrap") {
		t.Errorf("remove rule not applied before the generic detection:\n%s", res.Text)
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], ".no-such-thing") {
		t.Errorf("warnings %q, want one naming the selector", res.Warnings)
	}
}

func TestSiteRulesBadSelector(t *testing.T) {
	_, err := Parse(context.Background(), []byte(researchPage()), &Options{Rules: &Rules{Title: "h1[", Content: "main"}})
	if err == nil || !strings.Contains(err.Error(), "site rule title") || !strings.Contains(err.Error(), `"h1["`) {
		t.Fatalf("err = %v, want one naming the rule and the selector", err)
	}
}
