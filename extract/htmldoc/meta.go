package htmldoc

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/araddon/dateparse"

	"github.com/thesisdb/thesisdb/internal/lazyre"
)

// Meta is what a page says about itself.
type Meta struct {
	Title     string // og:title, JSON-LD headline, <title> or the first <h1>
	Author    string // meta author, article:author, JSON-LD author or byline
	Published string // publication date, YYYY-MM-DD when parseable
	SiteName  string // og:site_name or the JSON-LD publisher
	Canonical string // <link rel=canonical> or og:url, absolute when base is known
	Language  string // <html lang>
}

// metaContent returns the content of the first <meta> whose name,
// property or itemprop is one of keys (case-insensitive), in keys' order.
func metaContent(doc *goquery.Document, keys ...string) string {
	vals := map[string]string{}
	doc.Find("meta").Each(func(_ int, s *goquery.Selection) {
		c, ok := s.Attr("content")
		if !ok {
			c, ok = s.Attr("datetime")
		}
		c = strings.TrimSpace(c)
		if !ok || c == "" {
			return
		}
		for _, k := range []string{"property", "name", "itemprop"} {
			if v, ok := s.Attr(k); ok {
				v = strings.ToLower(strings.TrimSpace(v))
				if _, seen := vals[v]; !seen {
					vals[v] = c
				}
			}
		}
	})
	for _, k := range keys {
		if v := vals[k]; v != "" {
			return v
		}
	}
	return ""
}

// ldInfo is the part of a schema.org JSON-LD object thesisdb uses.
type ldInfo struct {
	headline, author, published, publisher string
}

// jsonLD reads the page's JSON-LD blocks, preferring article-like objects.
func jsonLD(doc *goquery.Document) ldInfo {
	var best, other ldInfo
	doc.Find(`script[type="application/ld+json"]`).Each(func(_ int, s *goquery.Selection) {
		var v any
		if json.Unmarshal([]byte(strings.TrimSpace(s.Text())), &v) != nil {
			return
		}
		walkLD(v, 0, func(o map[string]any) {
			info := ldInfo{
				headline:  ldString(o["headline"]),
				author:    ldName(o["author"]),
				published: ldString(o["datePublished"]),
				publisher: ldName(o["publisher"]),
			}
			t := strings.ToLower(ldString(o["@type"]))
			if strings.Contains(t, "article") || strings.Contains(t, "posting") || strings.Contains(t, "report") {
				merge(&best, info)
			} else {
				merge(&other, info)
			}
		})
	})
	merge(&best, other)
	return best
}

func merge(dst *ldInfo, src ldInfo) {
	for _, p := range [][2]*string{{&dst.headline, &src.headline}, {&dst.author, &src.author},
		{&dst.published, &src.published}, {&dst.publisher, &src.publisher}} {
		if *p[0] == "" {
			*p[0] = *p[1]
		}
	}
}

// walkLD calls fn for every object in a JSON-LD value (@graph included).
func walkLD(v any, depth int, fn func(map[string]any)) {
	if depth > 8 {
		return
	}
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			walkLD(e, depth+1, fn)
		}
	case map[string]any:
		fn(v)
		if g, ok := v["@graph"]; ok {
			walkLD(g, depth+1, fn)
		}
		if m, ok := v["mainEntity"]; ok {
			walkLD(m, depth+1, fn)
		}
	}
}

func ldString(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case []any:
		if len(v) > 0 {
			return ldString(v[0])
		}
	}
	return ""
}

// ldName returns the name of a person or organisation, or names joined.
func ldName(v any) string {
	switch v := v.(type) {
	case string:
		if isURL(v) {
			return ""
		}
		return strings.TrimSpace(v)
	case map[string]any:
		return ldString(v["name"])
	case []any:
		var names []string
		for _, e := range v {
			if n := ldName(e); n != "" {
				names = append(names, n)
			}
		}
		return strings.Join(names, ", ")
	}
	return ""
}

func isURL(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "/")
}

var (
	byPrefixRe = lazyre.New(`(?i)^\s*(by|from|author)\s*:?\s+`)
	spaceRe    = lazyre.New(`\s+`)
	weekdayRe  = lazyre.New(`(?i)^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+`)
)

func squash(s string) string { return strings.TrimSpace(spaceRe().ReplaceAllString(s, " ")) }

// byline returns the author named in a page's byline element.
func byline(doc *goquery.Document) string {
	var out string
	doc.Find(`[rel="author"], [itemprop="author"], .byline, .author-name, .author, .post-author`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		t := s.AttrOr("content", "")
		if t == "" {
			if n := s.Find(`[itemprop="name"]`); n.Length() > 0 {
				t = n.First().Text()
			} else {
				t = s.Text()
			}
		}
		t = squash(byPrefixRe().ReplaceAllString(squash(t), ""))
		if t != "" && len(t) <= 100 && !isURL(t) {
			out = t
			return false
		}
		return true
	})
	return out
}

// NormalizeDate returns s as YYYY-MM-DD when it parses as a date, and s
// itself otherwise.
func NormalizeDate(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Format(time.DateOnly)
	}
	if len(s) >= 10 {
		if t, err := time.Parse(time.DateOnly, s[:10]); err == nil {
			return t.Format(time.DateOnly)
		}
	}
	s = weekdayRe().ReplaceAllString(s, "")
	if t, err := dateparse.ParseAny(s); err == nil && t.Year() > 1900 && t.Year() < 2200 {
		return t.Format(time.DateOnly)
	}
	return s
}

// metadata reads a page's title, author, date, site name and canonical URL.
func metadata(doc *goquery.Document, base *url.URL) Meta {
	ld := jsonLD(doc)
	var m Meta
	m.Title = first(metaContent(doc, "og:title", "twitter:title"), ld.headline,
		doc.Find("title").First().Text(), doc.Find("h1").First().Text())
	m.Author = first(metaContent(doc, "author", "article:author", "dc.creator", "parsely-author", "sailthru.author"), ld.author, byline(doc))
	if isURL(m.Author) {
		m.Author = first(ld.author, byline(doc))
	}
	m.Published = NormalizeDate(first(
		metaContent(doc, "article:published_time", "datepublished", "og:published_time",
			"publish-date", "pubdate", "date", "dc.date.issued", "dc.date", "parsely-pub-date", "sailthru.date"),
		ld.published,
		doc.Find("time[datetime]").First().AttrOr("datetime", ""),
		doc.Find("abbr.published[title]").First().AttrOr("title", ""),
		doc.Find(".date-header, .published, .post-date, .entry-date").First().Text()))
	m.SiteName = first(metaContent(doc, "og:site_name", "application-name"), ld.publisher)
	canon := first(doc.Find(`link[rel="canonical"]`).First().AttrOr("href", ""), metaContent(doc, "og:url"))
	if canon != "" {
		if u, err := url.Parse(canon); err == nil {
			if base != nil {
				u = base.ResolveReference(u)
			}
			canon = u.String()
		}
	}
	m.Canonical = canon
	m.Language = strings.TrimSpace(doc.Find("html").First().AttrOr("lang", ""))
	return m
}

// first returns the first of vals that is not blank, whitespace squashed.
func first(vals ...string) string {
	for _, v := range vals {
		if v = squash(v); v != "" {
			return v
		}
	}
	return ""
}
