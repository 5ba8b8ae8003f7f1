package extract

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHTMLSamples(t *testing.T) {
	for _, tc := range []struct {
		file                     string
		title, author, published string
		canonical                string
		keep, drop               []string
	}{
		{
			file: "research-platform.html", canonical: "https://research.example.com/theses/grid-storage-buildout",
			title: "Grid-Scale Battery Storage Buildout", author: "Mara Lindqvist", published: "2026-03-03",
			keep: []string{
				"Bullish\ngeneral\nactive\n",
				"\nGrid-Scale Battery Storage Buildout\n",
				"Conviction: 6/10\nBy: Mara Lindqvist\nUpdated March 3, 2026\n",
				"\nRates Research\n", "\nCredit Research\n", "\nEquity Research\n",
				"Bullish\n0-5 Year\nConfidence: 7/10 | Conviction: 5/10\n",
				"Neutral\n1-3 Year\nConfidence: 6/10 | Conviction: 4/10\n",
				"Indicator | Value | Source | Implication\n10-Year Treasury Yield | 4.1% | Federal Reserve H.15, February 2026 | Stable long rates keep project financing costs predictable\n",
				"LFP cell price | <$60/kWh | Battery price survey, December 2025 | Cheaper cells lift margins for integrators with fixed-price contracts",
				"the weighted cost of capital for contracted storage projects has eased by roughly 60 basis points",
			},
			drop: []string{"cookies", "Accept all", "My Watchlist", "Related Theses", "Copper Supply Deficit", "Share on LinkedIn", "Terms of Service", "window.analytics"},
		},
		{
			file: "blog-post.html", canonical: "https://harborstreetnotes.example.com/2026/02/regional-banks-recovery.html",
			title: "Why Regional Banks Are the Cheapest Recovery Trade", author: "Dana Whitfield", published: "2026-02-09",
			keep: []string{
				"Regional banks have spent two years in the penalty box.",
				"\nThe curve is finally helping\n",
				"- The KBW Regional Bank Index trades at 9.8 times forward earnings, against a 20-year average of 13.5 times.\n- Office loans",
				"the group has 20% to 25% upside",
			},
			drop: []string{"No comments", "Post a Comment", "Newer Post", "Older Post", "Post Comments (Atom)", "Share to X", "Email This", "Blog Archive", "Popular Posts", "Search this blog", "Powered by Blogger", "Small-cap ideas from"},
		},
		{
			file:  "market-article.html",
			title: "Copper's Supply Squeeze Has Years to Run", author: "Oliver Brandt", published: "2026-01-27",
			keep: []string{
				"Copper has outperformed every other industrial metal",
				"\nMines are not keeping up\n",
				"Cash costs at the 90th percentile of the cost curve now sit near $7,800 per tonne",
				"with a price target of $12,000 per tonne by 2028.",
				"which still accounts for about a fifth of global use.",
			},
			drop: []string{"Description automatically generated", "Metals Weekly", "Sign up", "Related Articles", "Is Silver the New Copper", "Log in", "Newsletters", "\nclose\n", "All rights reserved", "Tweet"},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := Load(context.Background(), filepath.Join("..", "samples", tc.file), nil)
			if err != nil {
				t.Fatal(err)
			}
			if doc.CanonicalURL != tc.canonical {
				t.Errorf("canonical URL %q, want %q", doc.CanonicalURL, tc.canonical)
			}
			if doc.Kind != "html" || doc.Title != tc.title || doc.Author != tc.author || doc.Published != tc.published {
				t.Errorf("kind %q title %q author %q published %q", doc.Kind, doc.Title, doc.Author, doc.Published)
			}
			text := doc.Text + "\n"
			for _, k := range tc.keep {
				if !strings.Contains(text, k) {
					t.Errorf("lost %q", k)
				}
			}
			for _, d := range tc.drop {
				if strings.Contains(text, d) {
					t.Errorf("kept %q", d)
				}
			}
			if t.Failed() {
				t.Logf("text:\n%s", doc.Text)
			}
		})
	}
}

func TestHTMLErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i * 7)
	}
	if _, err := Load(context.Background(), write("bin.html", garbage), nil); !errors.Is(err, ErrBinary) {
		t.Errorf("binary: err %v, want ErrBinary", err)
	}
	if _, err := Load(context.Background(), write("empty.htm", []byte("<html><body><script>1</script></body></html>")), nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("no text: err %v, want ErrEmpty", err)
	}
	doc, err := Load(context.Background(), write("page.xhtml", []byte(`<html xmlns="http://www.w3.org/1999/xhtml"><body><p>XHTML body</p></body></html>`)), nil)
	if err != nil || doc.Text != "XHTML body" {
		t.Errorf("xhtml: %v %+v", err, doc)
	}
}
