package scrape

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/mmcdole/gofeed"
	sitemap "github.com/oxffaa/gopher-parse-sitemap"
	"github.com/temoto/robotstxt"

	"github.com/thesisdb/thesisdb/extract/htmldoc"
)

// Bounds on what one source's discovery reads, against hostile or
// runaway sites.
const (
	// MaxDepth is the largest depth a start-page source may set.
	MaxDepth = 5
	// MaxLinks is the most links one source's discovery returns.
	MaxLinks = 50000
	// maxSitemaps is the most sitemap files one source's discovery reads
	// (an index and its children).
	maxSitemaps = 200
	// maxSitemapNesting bounds how deep sitemap indexes may nest.
	maxSitemapNesting = 3
	// maxGunzipped caps a gzipped sitemap or feed decompressed (the
	// sitemap protocol's limit is 50 MB).
	maxGunzipped = 64 << 20
)

// feedTypes rank the <link rel="alternate"> types feed autodiscovery
// follows, best first. Plain JSON comes last: sites also announce JSON
// APIs that way (WordPress's wp-json), which are no feeds.
var feedTypes = map[string]int{
	"application/rss+xml":   1,
	"application/atom+xml":  1,
	"application/rdf+xml":   1,
	"application/feed+json": 1,
	"application/xml":       2,
	"text/xml":              2,
	"application/json":      3,
}

// maxFeedCandidates bounds the feeds a page names that autodiscovery
// tries.
const maxFeedCandidates = 3

// Discover finds the article URLs a source names: the items of a feed,
// the URLs of a sitemap (indexes followed, gzip undone, robots.txt
// Sitemap: lines read) or the links a start page's Follow selector picks.
// Every request goes through g. The links are de-duplicated (fragments
// dropped), filtered by the source's Allow rules and at most MaxLinks;
// a feed item's or sitemap entry's date is the link's LastMod. A source
// whose own URL fails is an error; a child sitemap or a linked page that
// fails is logged and skipped.
func Discover(ctx context.Context, src *Source, g Getter) (links []Link, err error) {
	defer func() {
		// A parser's panic on a hostile body is this source's failure,
		// not the run's.
		if r := recover(); r != nil {
			links, err = nil, fmt.Errorf("discover %s: internal error: %v", src.Name, r)
		}
	}()
	d := &discovery{src: src, g: g, seen: map[string]bool{}, hosts: map[string]bool{}}
	switch {
	case src.Feed != "":
		err = d.feed(ctx, src.Feed)
	case src.Sitemap != "":
		err = d.sitemaps(ctx, src.Sitemap)
	case src.Start != "":
		err = d.crawl(ctx, src.Start)
	default:
		err = errors.New("no feed, sitemap or start URL")
	}
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", src.Name, err)
	}
	return d.links, nil
}

// discovery is one source's discovery in progress.
type discovery struct {
	src   *Source
	g     Getter
	links []Link
	seen  map[string]bool
	hosts map[string]bool // a start page's hosts, before and after redirects
	full  bool            // MaxLinks reached
}

// errFull stops a parser's callbacks once MaxLinks links are found.
var errFull = errors.New("link limit reached")

// add records a link, resolved against base, unless it is not http(s),
// not allowed, already seen or over the limit.
func (d *discovery) add(base *url.URL, ref string, lastMod time.Time) bool {
	if d.full {
		return false
	}
	u, ok := resolve(base, ref)
	if !ok || !d.allowed(u) {
		return false
	}
	s := u.String()
	if d.seen[s] {
		return false
	}
	d.seen[s] = true
	if len(d.links) >= MaxLinks {
		d.full = true
		slog.Warn("scrape: discovery stopped at the link limit", "source", d.src.Name, "limit", MaxLinks)
		return false
	}
	d.links = append(d.links, Link{URL: s, LastMod: lastMod, Source: d.src})
	return true
}

// resolve makes ref absolute against base and drops its fragment; ok is
// false for what is not an http(s) URL.
func resolve(base *url.URL, ref string) (*url.URL, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, false
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	u.Fragment, u.RawFragment = "", ""
	return u, true
}

// allowed applies the source's Allow rules: a URL prefix, or a path.Match
// pattern (with '*') over the whole URL. Without rules a start page's
// links must stay on its host; feed and sitemap links are all allowed.
func (d *discovery) allowed(u *url.URL) bool {
	if len(d.src.Allow) == 0 {
		return d.src.Start == "" || d.hosts[strings.ToLower(u.Hostname())]
	}
	return Allowed(d.src.Allow, u.String())
}

// Allowed reports whether rawURL matches one of the allow rules: a URL
// prefix, or, when the rule holds a '*', a path.Match pattern over the
// whole URL ('*' does not cross a '/').
func Allowed(rules []string, rawURL string) bool {
	for _, a := range rules {
		if strings.Contains(a, "*") {
			if ok, _ := path.Match(a, rawURL); ok {
				return true
			}
			continue
		}
		if strings.HasPrefix(rawURL, a) {
			return true
		}
	}
	return false
}

// get fetches a URL through the Getter and undoes gzip found by its magic
// bytes (a .gz file served as such, not Content-Encoding, which the
// client handles).
func (d *discovery) get(ctx context.Context, rawURL string) (*Page, error) {
	p, err := d.g.Get(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	if p.URL == "" {
		p.URL = rawURL
	}
	if body, err := gunzip(p.Body); err != nil {
		return nil, fmt.Errorf("%s: %w", rawURL, err)
	} else {
		p.Body = body
	}
	return p, nil
}

// gunzip returns data decompressed when it starts with gzip's magic
// bytes, and data itself otherwise; more than maxGunzipped bytes out is
// an error (a decompression bomb).
func gunzip(data []byte) ([]byte, error) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxGunzipped+1))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if len(out) > maxGunzipped {
		return nil, fmt.Errorf("gzip: more than %d bytes decompressed", maxGunzipped)
	}
	return out, nil
}

// feed reads a feed, or the feed a web page names in its
// <link rel="alternate">.
func (d *discovery) feed(ctx context.Context, feedURL string) error {
	p, err := d.get(ctx, feedURL)
	if err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(p.Body))
	if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		page := p.URL
		alts := feedLinks(p)
		if len(alts) == 0 {
			return fmt.Errorf("feed %s: neither a feed (RSS, Atom, JSON Feed) nor a page whose <link rel=\"alternate\"> names one", page)
		}
		var errs []error
		for i, alt := range alts {
			if i == maxFeedCandidates {
				break
			}
			slog.Debug("scrape: feed named by page", "source", d.src.Name, "page", page, "feed", alt)
			if p, err = d.get(ctx, alt); err == nil {
				if f, err = gofeed.NewParser().Parse(bytes.NewReader(p.Body)); err == nil {
					break
				}
				err = fmt.Errorf("%s: %w", alt, err)
			}
			errs = append(errs, err)
		}
		if f == nil {
			return fmt.Errorf("feeds named by %s: %w", page, errors.Join(errs...))
		}
	}
	if err != nil {
		return fmt.Errorf("feed %s: %w", p.URL, err)
	}
	base, _ := url.Parse(p.URL)
	for _, it := range f.Items {
		if d.full {
			break
		}
		var mod time.Time
		switch {
		case it.UpdatedParsed != nil:
			mod = *it.UpdatedParsed
		case it.PublishedParsed != nil:
			mod = *it.PublishedParsed
		}
		link := it.Link
		if link == "" && len(it.Links) > 0 {
			link = it.Links[0]
		}
		d.add(base, link, mod)
		for _, e := range it.Enclosures {
			if e != nil && isPDF(e.Type, e.URL) {
				d.add(base, e.URL, mod)
			}
		}
	}
	return nil
}

// isPDF tells whether an enclosure is a PDF, by its type or its name.
func isPDF(mediaType, rawURL string) bool {
	if strings.EqualFold(strings.TrimSpace(mediaType), "application/pdf") {
		return true
	}
	u, err := url.Parse(rawURL)
	return err == nil && strings.EqualFold(path.Ext(u.Path), ".pdf")
}

// feedLinks returns the absolute URLs of the feeds an HTML page names in
// <link rel="alternate">, best type first, in page order within a type.
func feedLinks(p *Page) []string {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(p.Body))
	if err != nil {
		return nil
	}
	base := pageBase(doc, p.URL)
	var found []string
	rank := map[string]int{}
	doc.Find(`link[rel][href]`).Each(func(_ int, s *goquery.Selection) {
		rel := strings.Fields(strings.ToLower(s.AttrOr("rel", "")))
		typ := strings.ToLower(strings.TrimSpace(s.AttrOr("type", "")))
		if !contains(rel, "alternate") || feedTypes[typ] == 0 {
			return
		}
		if u, ok := resolve(base, s.AttrOr("href", "")); ok && rank[u.String()] == 0 {
			found = append(found, u.String())
			rank[u.String()] = feedTypes[typ]
		}
	})
	sort.SliceStable(found, func(i, j int) bool { return rank[found[i]] < rank[found[j]] })
	return found
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// pageBase is the URL a page's relative links resolve against: its
// <base href>, else where it was fetched from.
func pageBase(doc *goquery.Document, pageURL string) *url.URL {
	base, _ := url.Parse(pageURL)
	if href, ok := doc.Find("base[href]").First().Attr("href"); ok {
		if b, ok := resolve(base, href); ok {
			return b
		}
	}
	return base
}

// sitemaps reads a sitemap, sitemap index or robots.txt (a site's root
// URL stands for its robots.txt) and the sitemaps they name, breadth
// first, at most maxSitemaps files and maxSitemapNesting levels of
// indexes.
func (d *discovery) sitemaps(ctx context.Context, root string) error {
	type item struct {
		url   string
		level int
	}
	var queue []item
	u, err := url.Parse(root)
	if err == nil && (u.Path == "" || u.Path == "/") && u.RawQuery == "" {
		// A site's root: its robots.txt names its sitemaps.
		root = u.ResolveReference(&url.URL{Path: "/robots.txt"}).String()
		u, err = url.Parse(root)
	}
	if err == nil && strings.EqualFold(u.Path, "/robots.txt") {
		p, err := d.get(ctx, root)
		if err != nil {
			return fmt.Errorf("robots.txt: %w", err)
		}
		r, err := robotstxt.FromStatusAndBytes(p.Status, p.Body)
		if err != nil {
			return fmt.Errorf("robots.txt %s: %w", root, err)
		}
		if len(r.Sitemaps) == 0 {
			return fmt.Errorf("robots.txt %s names no sitemap", root)
		}
		for _, s := range r.Sitemaps {
			queue = append(queue, item{s, 1})
		}
	} else {
		queue = append(queue, item{root, 0})
	}
	done := map[string]bool{}
	var failed []error
	read := 0
	for len(queue) > 0 && !d.full {
		it := queue[0]
		queue = queue[1:]
		if done[it.url] {
			continue
		}
		done[it.url] = true
		if read++; read > maxSitemaps {
			slog.Warn("scrape: sitemap limit reached", "source", d.src.Name, "limit", maxSitemaps)
			break
		}
		children, err := d.sitemap(ctx, it.url)
		if err != nil {
			if it.url == root {
				return err
			}
			slog.Warn("scrape: sitemap skipped", "source", d.src.Name, "sitemap", it.url, "err", err)
			failed = append(failed, err)
			continue
		}
		for _, c := range children {
			if it.level >= maxSitemapNesting {
				slog.Warn("scrape: sitemap indexes nest too deep", "source", d.src.Name, "sitemap", c)
				break
			}
			queue = append(queue, item{c, it.level + 1})
		}
	}
	if len(d.links) == 0 && len(failed) > 0 {
		return fmt.Errorf("every sitemap failed: %w", errors.Join(failed...))
	}
	return nil
}

// sitemap reads one sitemap file: its URLs become links, and its child
// sitemaps (when it is an index) are returned. A body that is not XML is
// read as a plain-text list of URLs, one a line.
func (d *discovery) sitemap(ctx context.Context, rawURL string) (children []string, err error) {
	p, err := d.get(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("sitemap: %w", err)
	}
	base, _ := url.Parse(p.URL)
	body := bytes.TrimLeft(bytes.TrimPrefix(p.Body, []byte("\xef\xbb\xbf")), " \t\r\n")
	if !bytes.HasPrefix(body, []byte("<")) {
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
		lines, found := 0, 0
		for sc.Scan() && !d.full {
			if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
				lines++
				if u, ok := resolve(nil, line); ok {
					found++
					d.add(nil, u.String(), time.Time{})
				}
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("sitemap %s: text list: %w", p.URL, err)
		}
		if lines > 0 && found == 0 {
			return nil, fmt.Errorf("sitemap %s: neither XML nor a list of URLs", p.URL)
		}
		return nil, nil
	}
	entries := 0
	err = sitemap.Parse(bytes.NewReader(body), func(e sitemap.Entry) error {
		var mod time.Time
		if t := e.GetLastModified(); t != nil {
			mod = *t
		}
		entries++
		d.add(base, e.GetLocation(), mod)
		if d.full {
			return errFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, fmt.Errorf("sitemap %s: %w", p.URL, err)
	}
	err = sitemap.ParseIndex(bytes.NewReader(body), func(e sitemap.IndexEntry) error {
		if u, ok := resolve(base, e.GetLocation()); ok {
			children = append(children, u.String())
		}
		if len(children) >= maxSitemaps {
			return errFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, fmt.Errorf("sitemap index %s: %w", p.URL, err)
	}
	if entries == 0 && len(children) == 0 && !bytes.Contains(body, []byte("urlset")) && !bytes.Contains(body, []byte("sitemapindex")) {
		return nil, fmt.Errorf("sitemap %s: not a sitemap (no <urlset> or <sitemapindex>)", p.URL)
	}
	return children, nil
}

// crawl walks a start page's links breadth first: the Follow selector's
// links (resolved, allowed, new) are discovered; pages less than Depth
// links away from Start are fetched to read theirs, and their responses
// ride on their Links (Page, Err) so the scraper does not ask again. At
// most MaxPages pages are fetched.
func (d *discovery) crawl(ctx context.Context, start string) error {
	follow, err := htmldoc.CompileSelector(d.src.Follow)
	if err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	depth := d.src.Depth
	if depth <= 0 {
		depth = 1
	}
	maxFetch := d.src.MaxPages
	if maxFetch <= 0 {
		maxFetch = DefaultMaxPages
	}
	type item struct {
		url   string
		depth int
		link  int // index in d.links (-1: the start page)
	}
	queue := []item{{start, 0, -1}}
	if u, ok := resolve(nil, start); ok {
		d.seen[u.String()] = true
		d.hosts[strings.ToLower(u.Hostname())] = true
	}
	fetched := 0
	for len(queue) > 0 && fetched < maxFetch && !d.full {
		it := queue[0]
		queue = queue[1:]
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := d.g.Get(ctx, it.url)
		fetched++
		if it.link >= 0 && ctx.Err() == nil {
			// The scraper takes this response (or error) as the article's,
			// instead of asking for the page a second time.
			d.links[it.link].Page, d.links[it.link].Err = p, err
		}
		if err != nil {
			if it.depth == 0 {
				return fmt.Errorf("start page: %w", err)
			}
			slog.Warn("scrape: linked page skipped", "source", d.src.Name, "url", it.url, "err", err)
			continue
		}
		if p.URL == "" {
			p.URL = it.url
		}
		if u, err := url.Parse(p.URL); err == nil && it.depth == 0 {
			// A start page that redirects (to https, to www.) keeps its
			// links on the host it landed on.
			d.hosts[strings.ToLower(u.Hostname())] = true
		}
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(p.Body))
		if err != nil {
			if it.depth == 0 {
				return fmt.Errorf("start page %s: %w", p.URL, err)
			}
			continue
		}
		base := pageBase(doc, p.URL)
		doc.FindMatcher(follow).Each(func(_ int, s *goquery.Selection) {
			href, ok := s.Attr("href")
			if !ok {
				// The selector picked an element around the link.
				href, ok = s.Find("a[href]").First().Attr("href")
			}
			if !ok || !d.add(base, href, time.Time{}) {
				return
			}
			if it.depth+1 < depth {
				queue = append(queue, item{d.links[len(d.links)-1].URL, it.depth + 1, len(d.links) - 1})
			}
		})
	}
	return nil
}
