package scrape

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// plainGetter is the simplest Getter: an http.Client, no politeness.
// It counts the requests each path received.
type plainGetter struct {
	mu    sync.Mutex
	paths map[string]int
}

func (g *plainGetter) Get(ctx context.Context, rawURL string) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	if g.paths == nil {
		g.paths = map[string]int{}
	}
	g.paths[req.URL.Path]++
	g.mu.Unlock()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 128<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	return &Page{URL: resp.Request.URL.String(), Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Header: resp.Header, Body: body}, nil
}

func (g *plainGetter) count(path string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paths[path]
}

// site serves fixed bodies by path; "{{.}}" in a body becomes the
// server's URL.
func site(t *testing.T, pages map[string]string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, ".gz"):
			w.Header().Set("Content-Type", "application/x-gzip")
		case strings.HasSuffix(r.URL.Path, ".json"):
			w.Header().Set("Content-Type", "application/feed+json")
		case strings.HasSuffix(r.URL.Path, ".xml"):
			w.Header().Set("Content-Type", "application/xml")
		case strings.HasSuffix(r.URL.Path, ".txt"):
			w.Header().Set("Content-Type", "text/plain")
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		io.WriteString(w, strings.ReplaceAll(body, "{{.}}", srv.URL))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func gz(t testing.TB, s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// urls lists the links' URLs with the server's address made "{{.}}", and
// their LastMod dates.
func urls(srv *httptest.Server, links []Link) []string {
	var out []string
	for _, l := range links {
		s := strings.Replace(l.URL, srv.URL, "", 1)
		if !l.LastMod.IsZero() {
			s += " " + l.LastMod.UTC().Format(time.DateOnly)
		}
		out = append(out, s)
	}
	return out
}

func discover(t *testing.T, src *Source, g Getter) []Link {
	t.Helper()
	if err := src.Check(); err != nil {
		t.Fatal(err)
	}
	links, err := Discover(context.Background(), src, g)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Source != src {
			t.Errorf("%s: link's source not set", l.URL)
		}
	}
	return links
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

const rss = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Harbor Street</title><link>{{.}}/</link>
<item><title>One</title><link>{{.}}/2026/01/one.html</link><pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate></item>
<item><title>Two</title><link>/2026/01/two.html#comments</link><pubDate>Tue, 06 Jan 2026 10:00:00 GMT</pubDate>
  <enclosure url="{{.}}/files/two-deck.pdf" type="application/pdf" length="1000"/>
  <enclosure url="{{.}}/files/two.mp3" type="audio/mpeg" length="1000"/></item>
<item><title>One again</title><link>{{.}}/2026/01/one.html</link></item>
<item><title>Elsewhere</title><link>https://other.example/post</link></item>
<item><title>Mail</title><link>mailto:desk@example.com</link></item>
</channel></rss>`

func TestDiscoverFeeds(t *testing.T) {
	srv := site(t, map[string]string{
		"/feed.xml": rss,
		"/atom.xml": `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><title>Atom one</title><link href="{{.}}/a/1"/><id>1</id><updated>2026-02-03T00:00:00Z</updated><published>2026-01-01T00:00:00Z</published></entry>
<entry><title>Atom two</title><link rel="alternate" href="{{.}}/a/2"/><link rel="enclosure" type="application/pdf" href="{{.}}/a/2.pdf"/><id>2</id><updated>2026-02-04T00:00:00Z</updated></entry></feed>`,
		"/feed.json": `{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
{"id":"1","url":"{{.}}/j/1","date_published":"2026-03-01T00:00:00Z","content_text":"x"},
{"id":"2","url":"{{.}}/j/2","date_modified":"2026-03-05T00:00:00Z","content_text":"y","attachments":[{"url":"{{.}}/j/2.pdf","mime_type":"application/pdf"}]}]}`,
		"/":            `<html><head><title>Blog</title><link rel="stylesheet" href="/s.css"><link rel="alternate" type="application/rss+xml" title="Posts" href="/feed.xml"><link rel="alternate" type="application/atom+xml" title="Comments" href="/atom.xml"></head><body><p>Home</p></body></html>`,
		"/nofeed.html": `<html><head><title>Nothing</title></head><body><p>No feed here</p></body></html>`,
		// A JSON API announced first, a feed that is gone, then the feed.
		"/wp.html":                `<html><head><link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/12"><link rel="alternate" type="application/atom+xml" href="/gone.xml"><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body><p>x</p></body></html>`,
		"/wp-json/wp/v2/pages/12": `{"id":12,"title":{"rendered":"About"}}`,
		"/apionly.html":           `<html><head><link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/12"></head><body><p>x</p></body></html>`,
	})
	g := &plainGetter{}
	rssWant := []string{"/2026/01/one.html 2026-01-05", "/2026/01/two.html 2026-01-06", "/files/two-deck.pdf 2026-01-06", "https://other.example/post"}
	same(t, "RSS", urls(srv, discover(t, &Source{Feed: srv.URL + "/feed.xml"}, g)), rssWant)
	same(t, "Atom", urls(srv, discover(t, &Source{Feed: srv.URL + "/atom.xml"}, g)), []string{"/a/1 2026-02-03", "/a/2 2026-02-04", "/a/2.pdf 2026-02-04"})
	same(t, "JSON Feed", urls(srv, discover(t, &Source{Feed: srv.URL + "/feed.json"}, g)), []string{"/j/1 2026-03-01", "/j/2 2026-03-05", "/j/2.pdf 2026-03-05"})
	// A site's home page: its first feed <link rel="alternate"> is read.
	same(t, "autodiscovered", urls(srv, discover(t, &Source{Feed: srv.URL + "/"}, g)), rssWant)
	// Feed types rank before plain JSON; a feed that fails gives way to
	// the next.
	g = &plainGetter{}
	same(t, "ranked candidates", urls(srv, discover(t, &Source{Feed: srv.URL + "/wp.html"}, g)), rssWant)
	if g.count("/wp-json/wp/v2/pages/12") != 0 || g.count("/gone.xml") != 1 {
		t.Errorf("requests: %v", g.paths)
	}
	// Allow rules filter feed links too.
	same(t, "allowed", urls(srv, discover(t, &Source{Feed: srv.URL + "/feed.xml", Allow: []string{srv.URL + "/2026/"}}, g)),
		[]string{"/2026/01/one.html 2026-01-05", "/2026/01/two.html 2026-01-06"})

	for _, tc := range []struct{ url, want string }{
		{srv.URL + "/nofeed.html", "neither a feed"},
		{srv.URL + "/missing.xml", "404"},
		{srv.URL + "/apionly.html", "feeds named by " + srv.URL + "/apionly.html: " + srv.URL + "/wp-json/wp/v2/pages/12: json"},
	} {
		src := &Source{Name: "blog", Feed: tc.url}
		_, err := Discover(context.Background(), src, g)
		if err == nil || !strings.HasPrefix(err.Error(), "discover blog: feed") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to name the source and %q", tc.url, err, tc.want)
		}
	}
}

func TestDiscoverSitemaps(t *testing.T) {
	child1 := `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{{.}}/notes/1</loc><lastmod>2026-01-10</lastmod></url>
<url><loc> {{.}}/notes/2 </loc><lastmod>2026-01-11T08:00:00+00:00</lastmod></url>
<url><loc>{{.}}/notes/1</loc></url>
<url><loc>{{.}}/about</loc></url>
</urlset>`
	srv := site(t, map[string]string{
		"/sitemap_index.xml": `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{{.}}/sitemap-1.xml.gz</loc><lastmod>2026-01-11</lastmod></sitemap>
<sitemap><loc>{{.}}/list.txt</loc></sitemap>
<sitemap><loc>{{.}}/broken.xml</loc></sitemap>
</sitemapindex>`,
		"/list.txt":            "\ufeff{{.}}/notes/3\n\n# a comment\n{{.}}/notes/2\nnot a url\n{{.}}/notes/4\n",
		"/robots.txt":          "User-agent: *\nDisallow: /private/\nSitemap: {{.}}/sitemap_index.xml\nSitemap: {{.}}/extra.xml\n",
		"/extra.xml":           `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>{{.}}/notes/9</loc></url></urlset>`,
		"/norobots/robots.txt": "User-agent: *\nDisallow:\n",
	})
	// The gzipped child is served as a .gz file, not with Content-Encoding.
	body := gz(t, strings.ReplaceAll(child1, "{{.}}", srv.URL))
	srv.Config.Handler = chain(srv.Config.Handler, "/sitemap-1.xml.gz", body)

	g := &plainGetter{}
	want := []string{"/notes/1 2026-01-10", "/notes/2 2026-01-11", "/about", "/notes/3", "/notes/4"}
	same(t, "index", urls(srv, discover(t, &Source{Sitemap: srv.URL + "/sitemap_index.xml"}, g)), want)
	same(t, "robots.txt", urls(srv, discover(t, &Source{Sitemap: srv.URL + "/robots.txt"}, g)), append([]string{"/notes/9"}, want...))
	same(t, "site root", urls(srv, discover(t, &Source{Sitemap: srv.URL + "/"}, g)), append([]string{"/notes/9"}, want...))
	same(t, "allowed", urls(srv, discover(t, &Source{Sitemap: srv.URL + "/sitemap_index.xml", Allow: []string{srv.URL + "/notes/*"}}, g)),
		[]string{"/notes/1 2026-01-10", "/notes/2 2026-01-11", "/notes/3", "/notes/4"})

	if _, err := Discover(context.Background(), &Source{Name: "s", Sitemap: srv.URL + "/robots.txt/x"}, g); err == nil {
		t.Error("a missing sitemap: no error")
	}
	_, err := Discover(context.Background(), &Source{Name: "s", Sitemap: srv.URL + "/norobots/robots.txt"}, g)
	if err == nil || !strings.Contains(err.Error(), "neither XML nor a list of URLs") {
		t.Errorf("robots.txt at a sub-path: err = %v, want it read as a sitemap, and refused", err)
	}
	srv2 := site(t, map[string]string{"/page.html": "<html><body><p>Not found, but 200</p></body></html>"})
	_, err = Discover(context.Background(), &Source{Name: "s", Sitemap: srv2.URL + "/page.html"}, g)
	if err == nil || !strings.Contains(err.Error(), "not a sitemap") {
		t.Errorf("an HTML page as sitemap: err = %v", err)
	}
}

// chain serves body at path and everything else through h.
func chain(h http.Handler, path, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path {
			w.Header().Set("Content-Type", "application/x-gzip")
			io.WriteString(w, body)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestDiscoverRobotsWithoutSitemap(t *testing.T) {
	srv := site(t, map[string]string{"/robots.txt": "User-agent: *\nDisallow: /x\n"})
	_, err := Discover(context.Background(), &Source{Name: "r", Sitemap: srv.URL + "/robots.txt"}, &plainGetter{})
	if err == nil || !strings.Contains(err.Error(), "names no sitemap") {
		t.Errorf("err = %v", err)
	}
}

func TestDiscoverHostileSitemaps(t *testing.T) {
	// A sitemap index that names itself and a chain of indexes deeper
	// than the bound; a gzip bomb; more URLs than MaxLinks.
	pages := map[string]string{
		"/loop.xml": `<sitemapindex><sitemap><loc>{{.}}/loop.xml</loc></sitemap><sitemap><loc>{{.}}/deep0.xml</loc></sitemap></sitemapindex>`,
	}
	for i := 0; i < 10; i++ {
		pages[fmt.Sprintf("/deep%d.xml", i)] = fmt.Sprintf(`<sitemapindex><sitemap><loc>{{.}}/deep%d.xml</loc></sitemap></sitemapindex><urlset><url><loc>{{.}}/page%d</loc></url></urlset>`, i+1, i)
	}
	var big strings.Builder
	big.WriteString("<urlset>")
	for i := 0; i < MaxLinks+10; i++ {
		fmt.Fprintf(&big, "<url><loc>{{.}}/n/%d</loc></url>", i)
	}
	big.WriteString("</urlset>")
	pages["/big.xml"] = big.String()
	srv := site(t, pages)
	bomb := gz(t, "<urlset>"+strings.Repeat(" ", maxGunzipped+1)+"</urlset>")
	srv.Config.Handler = chain(srv.Config.Handler, "/bomb.xml.gz", bomb)
	g := &plainGetter{}

	links := discover(t, &Source{Sitemap: srv.URL + "/loop.xml"}, g)
	if g.count("/loop.xml") != 1 {
		t.Errorf("the self-naming index was read %d times", g.count("/loop.xml"))
	}
	// loop.xml (level 0) -> deep0 (1) -> deep1 (2) -> deep2 (3), whose
	// child is not read.
	same(t, "nesting", urls(srv, links), []string{"/page0", "/page1", "/page2"})
	if g.count("/deep3.xml") != 0 {
		t.Error("indexes nested past the bound were read")
	}

	_, err := Discover(context.Background(), &Source{Name: "b", Sitemap: srv.URL + "/bomb.xml.gz"}, g)
	if err == nil || !strings.Contains(err.Error(), "bytes decompressed") {
		t.Errorf("gzip bomb: err = %v", err)
	}

	links = discover(t, &Source{Sitemap: srv.URL + "/big.xml"}, g)
	if len(links) != MaxLinks {
		t.Errorf("%d links from a sitemap of %d, want the bound %d", len(links), MaxLinks+10, MaxLinks)
	}
}

func TestDiscoverStartPages(t *testing.T) {
	srv := site(t, map[string]string{
		"/notes/": `<html><body><nav><a href="/">Home</a><a href="/login">Log in</a></nav>
<ul class="notes"><li><a class="note" href="/notes/1">One</a></li><li><a class="note" href="2#top">Two</a></li>
<li><a class="note" href="{{.}}/notes/1">One again</a></li><li><a class="note" href="https://other.example/notes/x">Away</a></li>
<li><a class="note" href="javascript:void(0)">JS</a></li><li><span class="note">no link</span></li></ul>
<div class="pager"><a class="note" href="/notes/page/2">Older</a></div></body></html>`,
		"/notes/1":      `<html><body><p>Note one</p><a class="note" href="/notes/1-appendix">Appendix</a></body></html>`,
		"/notes/2":      `<html><head><base href="{{.}}/archive/"></head><body><a class="note" href="old-1">Old</a></body></html>`,
		"/notes/page/2": `<html><body><div class="card note"><a href="/notes/5">Five</a></div></body></html>`,
	})
	g := &plainGetter{}
	// Depth 1: the start page's links, on its host.
	same(t, "depth 1", urls(srv, discover(t, &Source{Start: srv.URL + "/notes/", Follow: "a.note, .note"}, g)),
		[]string{"/notes/1", "/notes/2", "/notes/page/2"})
	if n := len(g.paths); n != 1 {
		t.Errorf("depth 1 fetched %d pages, want the start page only", n)
	}
	// Depth 2: the linked pages are read for links too (relative to their
	// <base>; an element around the link is followed to it); a linked
	// page that fails (/notes/page/3 is absent) does not stop the rest.
	g = &plainGetter{}
	links := discover(t, &Source{Start: srv.URL + "/notes/", Follow: "a.note, .note", Depth: 2}, g)
	same(t, "depth 2", urls(srv, links), []string{"/notes/1", "/notes/2", "/notes/page/2", "/notes/1-appendix", "/archive/old-1", "/notes/5"})
	var fetched []string
	for p := range g.paths {
		fetched = append(fetched, p)
	}
	sort.Strings(fetched)
	same(t, "fetched at depth 2", fetched, []string{"/notes/", "/notes/1", "/notes/2", "/notes/page/2"})
	// MaxPages bounds the pages fetched.
	g = &plainGetter{}
	discover(t, &Source{Start: srv.URL + "/notes/", Follow: ".note", Depth: 3, MaxPages: 2}, g)
	if n := len(g.paths); n != 2 {
		t.Errorf("max_pages 2 fetched %d pages", n)
	}
	// Allow rules replace the same-host default.
	same(t, "allow", urls(srv, discover(t, &Source{Start: srv.URL + "/notes/", Follow: "a.note", Allow: []string{"https://other.example/"}}, &plainGetter{})),
		[]string{"https://other.example/notes/x"})

	_, err := Discover(context.Background(), &Source{Name: "gone", Start: srv.URL + "/nothing/", Follow: "a", Depth: 1}, g)
	if err == nil || !strings.Contains(err.Error(), "discover gone: start page") {
		t.Errorf("missing start page: err = %v", err)
	}
}

func TestDiscoverStartPageRedirect(t *testing.T) {
	// The start page moved to another host (as http to https, or to
	// www., does): its links stay allowed on the host it landed on.
	target := site(t, map[string]string{
		"/notes/": `<html><body><a href="/notes/1">One</a><a href="https://elsewhere.example/x">Away</a></body></html>`,
	})
	old := httptest.NewServer(http.RedirectHandler(target.URL+"/notes/", http.StatusMovedPermanently))
	t.Cleanup(old.Close)
	// Both listen on the loopback address: the old one is named localhost.
	start := strings.Replace(old.URL, "127.0.0.1", "localhost", 1) + "/notes/"
	same(t, "after a redirect", urls(target, discover(t, &Source{Start: start}, &plainGetter{})), []string{"/notes/1"})
}

type panickyGetter struct{}

func (panickyGetter) Get(context.Context, string) (*Page, error) { panic("boom") }

func TestDiscoverPanicIsTheSourcesError(t *testing.T) {
	_, err := Discover(context.Background(), &Source{Name: "p", Feed: "http://127.0.0.1:1/feed"}, panickyGetter{})
	if err == nil || !strings.Contains(err.Error(), "discover p: internal error: boom") {
		t.Errorf("err = %v", err)
	}
}
