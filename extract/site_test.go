package extract

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestSiteRulesInHTMLLoader(t *testing.T) {
	page := []byte(`<html><head><title>Portal</title><meta name="author" content="Portal Staff"></head><body><div class="wide">` +
		strings.Repeat("<p>Market wrap: equities drifted as traders weighed central bank speeches, oil inventories and the earnings outlook, on thin volumes.</p>", 12) +
		`</div><div class="narrow"><h2 class="nt">Utilities: Rate Relief Is Priced In</h2><span class="who">by Priya Raman</span><span class="when">April 2, 2026</span>` +
		`<div class="nb"><p>We downgrade utilities to neutral at 17 times forward earnings.</p><p class="legal">Not advice.</p></div></div></body></html>`)
	o := &Options{Site: SiteRules{Content: ".nb", Title: ".nt", Author: ".who", Date: ".when", Remove: []string{".legal"}}}
	doc, err := Decode(context.Background(), "html", "https://research.example.com/n/1", page, o)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Text != "We downgrade utilities to neutral at 17 times forward earnings." {
		t.Errorf("text:\n%s", doc.Text)
	}
	if doc.Title != "Utilities: Rate Relief Is Priced In" || doc.Author != "Priya Raman" || doc.Published != "2026-04-02" {
		t.Errorf("meta = %q / %q / %q", doc.Title, doc.Author, doc.Published)
	}
	// Rules are for HTML: a text file ignores them.
	if _, err := Decode(context.Background(), "text", "n.txt", []byte("plain note"), o); err != nil {
		t.Errorf("text with site rules: %v", err)
	}
}

func TestSiteRulesValidate(t *testing.T) {
	if err := (SiteRules{Content: "article .body, main", Remove: []string{"div.ad", "#x > p:nth-child(2)"}}).Validate(); err != nil {
		t.Errorf("valid rules: %v", err)
	}
	for _, tc := range []struct {
		r    SiteRules
		want string
	}{
		{SiteRules{Date: "time["}, `date: bad CSS selector "time["`},
		{SiteRules{Remove: []string{"p", "::"}}, `remove[1]: bad CSS selector "::"`},
	} {
		err := tc.r.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.r, err, tc.want)
		}
	}
	_, err := Decode(context.Background(), "html", "x.html", []byte("<p>some text here</p>"), &Options{Site: SiteRules{Content: "p["}})
	if err == nil || errors.Is(err, ErrEmpty) || !strings.Contains(err.Error(), "site rule content") {
		t.Errorf("bad selector at load: err = %v", err)
	}
}
