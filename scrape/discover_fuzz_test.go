package scrape

import (
	"context"
	"net/url"
	"strings"
	"testing"
)

// memGetter answers every URL with the same body, so that a hostile body
// names itself as its own feed, child sitemap or linked page.
type memGetter struct{ body []byte }

func (g memGetter) Get(_ context.Context, rawURL string) (*Page, error) {
	return &Page{URL: rawURL, Status: 200, Body: g.body}, nil
}

func FuzzDiscover(f *testing.F) {
	for _, s := range []string{
		rss,
		`<sitemapindex><sitemap><loc>http://a.example/s.xml</loc></sitemap></sitemapindex><urlset><url><loc>http://a.example/1</loc><lastmod>2026-01-01</lastmod></url></urlset>`,
		`<html><head><link rel="alternate" type="application/rss+xml" href="/feed"></head><body><a class="x" href="/p#f">p</a></body></html>`,
		`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","url":"/j/1"}]}`,
		"http://a.example/1\nhttp://a.example/2\n",
		"User-agent: *\nSitemap: http://a.example/robots.txt\n",
		"\x1f\x8b\x08\x00\x00\x00\x00\x00",
	} {
		for kind := uint8(0); kind < 4; kind++ {
			f.Add(kind, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		src := &Source{Name: "fuzz"}
		switch kind % 4 {
		case 0:
			src.Feed = "http://a.example/feed"
		case 1:
			src.Sitemap = "http://a.example/sitemap.xml"
		case 2:
			src.Sitemap = "http://a.example/robots.txt"
		case 3:
			src.Start, src.Follow, src.Depth = "http://a.example/", "a[href], .x", 3
		}
		if err := src.Check(); err != nil {
			t.Fatal(err)
		}
		links, err := Discover(context.Background(), src, memGetter{body})
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("panic: %v", err)
		}
		if len(links) > MaxLinks {
			t.Fatalf("%d links", len(links))
		}
		seen := map[string]bool{}
		for _, l := range links {
			u, perr := url.Parse(l.URL)
			if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || seen[l.URL] {
				t.Fatalf("bad or repeated link %q", l.URL)
			}
			seen[l.URL] = true
		}
	})
}
