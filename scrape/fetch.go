package scrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/publicsuffix"

	"github.com/thesisdb/thesisdb/extract"
)

// Fetcher makes every request of a scrape politely: robots.txt obeyed
// (cached per host), one request at a time per host with a pause between
// them (Crawl-delay when longer), a bound on requests in flight overall,
// 429 and 503 answers backing the host off for their Retry-After, and
// bodies capped. The zero value is usable. It implements Getter.
type Fetcher struct {
	// Client makes the requests (default: extract.DefaultHTTPClient).
	Client *http.Client
	// UserAgent is sent with every request (default UserAgent(Agent, "")).
	UserAgent string
	// Agent is the product token robots.txt rules are matched against
	// (default Agent).
	Agent string
	// Delay is the pause between two requests to one host (0: DefaultDelay;
	// negative: none); a longer robots.txt Crawl-delay wins.
	Delay time.Duration
	// Concurrency bounds the requests in flight over all hosts (default 4).
	Concurrency int
	// MaxBytes caps a body (default 25 MB, as extract's MaxFetchBytes).
	MaxBytes int64
	// Retries is how often a 429 or 503 is retried after its Retry-After
	// (default 2; negative: never).
	Retries int
	// MaxRetryAfter is the longest Retry-After waited for; a longer one
	// fails the URL for this run, the host still backed off (default 2m).
	MaxRetryAfter time.Duration
	// IgnoreRobots skips robots.txt (tests of other things only).
	IgnoreRobots bool
	Logger       *slog.Logger

	semOnce sync.Once
	sem     chan struct{}
	mu      sync.Mutex
	hosts   map[string]*host
}

// request is one GET with what makes it conditional and the source's
// credentials.
type request struct {
	url          string
	etag         string
	lastModified string
	header       http.Header
	jar          http.CookieJar
	// follow lets the client follow redirects (robots.txt, which is
	// fetched in the host's turn already).
	follow bool
}

func (f *Fetcher) logger() *slog.Logger {
	if f.Logger == nil {
		return slog.Default()
	}
	return f.Logger
}

func (f *Fetcher) maxBytes() int64 {
	if f.MaxBytes <= 0 {
		return 25_000_000
	}
	return f.MaxBytes
}

// Get fetches rawURL politely (a feed, a sitemap, a start page); a status
// other than 2xx is a *StatusError.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (*Page, error) {
	return f.fetch(ctx, request{url: rawURL})
}

// maxRedirects is how many redirects one fetch follows (as extract's
// client).
const maxRedirects = 5

// ErrRedirectDisallowed is the error of a URL that redirects to one its
// site's robots.txt disallows: the target is not requested.
var ErrRedirectDisallowed = errors.New("redirected to a URL that robots.txt disallows")

// fetch makes the request and follows its redirects itself, each hop a
// request of its own: robots.txt of the host it lands on obeyed, that
// host's turn and delay kept. The source's headers go on only to the
// first URL's host and its subdomains (cookies follow the jar's domains).
func (f *Fetcher) fetch(ctx context.Context, rq request) (*Page, error) {
	first := rq.url
	for hop := 0; ; hop++ {
		page, err := f.fetchHop(ctx, rq)
		if err != nil {
			switch {
			case hop > 0 && errors.Is(err, ErrDisallowed):
				err = fmt.Errorf("%w: %s", ErrRedirectDisallowed, extract.RedactURL(rq.url))
			case hop > 0:
				err = fmt.Errorf("redirected to %s: %w", extract.RedactURL(rq.url), err)
			}
			return nil, fmt.Errorf("fetch %s: %w", extract.RedactURL(first), err)
		}
		if !isRedirect(page.Status) {
			return page, nil
		}
		if hop == maxRedirects {
			return nil, fmt.Errorf("fetch %s: stopped after %d redirects", extract.RedactURL(first), maxRedirects)
		}
		cur, _ := url.Parse(rq.url) // parsed by fetchHop already
		next, err := cur.Parse(page.Header.Get("Location"))
		if err != nil {
			return nil, fmt.Errorf("fetch %s: redirect to a bad Location: %w", extract.RedactURL(first), err)
		}
		f.logger().Debug("following a redirect", "from", extract.RedactURL(rq.url), "to", extract.RedactURL(next.String()), "status", page.Status)
		if !sameSite(next, first) {
			rq.header = nil
		}
		rq.url = next.String()
	}
}

// isRedirect tells the statuses whose Location fetch follows.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// sameSite reports whether u's host is first's host or a subdomain of it
// (the rule net/http keeps Authorization and Cookie headers across a
// redirect by).
func sameSite(u *url.URL, first string) bool {
	f, err := url.Parse(first)
	if err != nil {
		return false
	}
	sub, parent := strings.ToLower(u.Hostname()), strings.ToLower(f.Hostname())
	if sub == parent {
		return true
	}
	return !strings.ContainsAny(sub, ":%") && strings.HasSuffix(sub, "."+parent)
}

// fetchHop checks robots.txt, then makes one request, retrying 429 and
// 503 answers after their Retry-After; a redirect is returned as a Page.
func (f *Fetcher) fetchHop(ctx context.Context, rq request) (*Page, error) {
	u, err := url.Parse(rq.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("not an http(s) URL")
	}
	h := f.host(u)
	if err := f.allowed(ctx, h, u); err != nil {
		return nil, err
	}
	retries := f.Retries
	if retries == 0 {
		retries = 2
	}
	limit := f.MaxRetryAfter
	if limit <= 0 {
		limit = 2 * time.Minute
	}
	for attempt := 0; ; attempt++ {
		page, err := f.exchange(ctx, h, rq)
		var se *StatusError
		if errors.As(err, &se) && (se.Status == http.StatusTooManyRequests || se.Status == http.StatusServiceUnavailable) &&
			attempt < retries && se.RetryAfter <= limit && ctx.Err() == nil {
			f.logger().Info("host asks to wait; backing off", "url", extract.RedactURL(rq.url), "status", se.Status, "retry_after", se.RetryAfter)
			continue // exchange has pushed the host's next turn past Retry-After
		}
		if err != nil {
			return nil, err
		}
		return page, nil
	}
}

// exchange makes one request in the host's turn and reads the body. A
// 304, and a redirect unless rq.follow, are returned as a Page; another
// status that is not 2xx is a *StatusError, and a 429 or 503 backs the
// host off.
func (f *Fetcher) exchange(ctx context.Context, h *host, rq request) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rq.url, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range rq.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	ua := f.UserAgent
	if ua == "" {
		ua = UserAgent(f.Agent, "")
	}
	req.Header.Set("User-Agent", ua)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/pdf,application/rss+xml,application/atom+xml,application/feed+json,application/xml;q=0.9,text/plain;q=0.8,*/*;q=0.5")
	}
	if rq.etag != "" {
		req.Header.Set("If-None-Match", rq.etag)
	}
	if rq.lastModified != "" {
		req.Header.Set("If-Modified-Since", rq.lastModified)
	}
	client := f.Client
	if client == nil {
		client = defaultClient()
	}
	if rq.jar != nil || !rq.follow {
		c := *client
		if rq.jar != nil {
			c.Jar = rq.jar
		}
		if !rq.follow {
			// fetch follows redirects itself, each in its host's turn.
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		}
		client = &c
	}

	release, err := f.acquire(ctx, h)
	if err != nil {
		return nil, err
	}
	var backoff time.Duration
	defer func() { release(backoff) }()
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = extract.RedactURL(ue.URL)
		}
		return nil, err
	}
	defer resp.Body.Close()
	page := &Page{URL: extract.StripUserinfo(resp.Request.URL.String()), Status: resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"), Header: resp.Header}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return page, nil
	case isRedirect(resp.StatusCode) && resp.Header.Get("Location") != "":
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keep the connection
		return page, nil
	case resp.StatusCode/100 != 2:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keep the connection
		se := &StatusError{Status: resp.StatusCode, StatusText: resp.Status}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			se.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
			backoff = se.RetryAfter
			if backoff == 0 {
				backoff = 4 * max(time.Duration(h.delay.Load()), time.Second)
			}
		}
		return nil, se
	}
	limit := f.maxBytes()
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: the server announces %d bytes, the limit is %d (--max-fetch-bytes)", extract.ErrTooLarge, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes (--max-fetch-bytes)", extract.ErrTooLarge, limit)
	}
	page.Body = body
	return page, nil
}

var defaultClient = sync.OnceValue(extract.DefaultHTTPClient)

// SourceFetcher fetches for one source: the Fetcher's politeness with the
// source's headers and cookies. It implements Getter.
type SourceFetcher struct {
	f      *Fetcher
	header http.Header
	jar    http.CookieJar
}

// For returns the fetcher of src's requests: its Headers read from the
// environment variables they name (a variable not set is an error) and
// its Cookies file loaded into a jar.
func (f *Fetcher) For(src *Source) (*SourceFetcher, error) {
	sf := &SourceFetcher{f: f}
	if len(src.Headers) > 0 {
		h, err := src.Header()
		if err != nil {
			return nil, err
		}
		sf.header = h
	}
	if src.Cookies != "" {
		cookies, err := ReadCookies(src.Cookies)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		jar, err := cookieJar(cookies)
		if err != nil {
			return nil, fmt.Errorf("source %s: cookies file %s: %w", src.Name, src.Cookies, err)
		}
		sf.jar = jar
	}
	return sf, nil
}

// cookieJar puts cookies read from a cookies file into a jar, each for
// its domain.
func cookieJar(cookies []*http.Cookie) (http.CookieJar, error) {
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		return nil, err
	}
	for _, c := range cookies {
		scheme := "http"
		if c.Secure {
			scheme = "https"
		}
		u := &url.URL{Scheme: scheme, Host: c.Domain, Path: "/"}
		jar.SetCookies(u, []*http.Cookie{c})
	}
	return jar, nil
}

// Get fetches rawURL with the source's headers and cookies.
func (sf *SourceFetcher) Get(ctx context.Context, rawURL string) (*Page, error) {
	return sf.f.fetch(ctx, request{url: rawURL, header: sf.header, jar: sf.jar})
}

// Fetch fetches an article, conditionally when etag or lastModified (from
// the last fetch) are set: a Page with Status 304 means unchanged.
func (sf *SourceFetcher) Fetch(ctx context.Context, rawURL, etag, lastModified string) (*Page, error) {
	return sf.f.fetch(ctx, request{url: rawURL, etag: etag, lastModified: lastModified, header: sf.header, jar: sf.jar})
}

// trackingParams are query parameters that say where a click came from,
// not which page: dropped so an article reached through a newsletter link
// is the article.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "gclsrc": true, "dclid": true, "msclkid": true, "yclid": true, "twclid": true,
	"mc_cid": true, "mc_eid": true, "_hsenc": true, "_hsmi": true, "hsctatracking": true, "igshid": true,
	"mkt_tok": true, "_ga": true, "_gl": true, "oly_anon_id": true, "oly_enc_id": true, "vero_id": true,
	"wickedid": true, "rb_clickid": true, "s_cid": true, "cmpid": true, "ncid": true, "sr_share": true,
	"ref_src": true, "ref_url": true, "spm": true,
}

// NormalizeURL returns the form of rawURL that identifies an article:
// scheme and host in lower case, no default port, no fragment, no
// tracking parameters (utm_*, fbclid, gclid, mc_cid, ...), the remaining
// parameters sorted, an empty path as "/".
func NormalizeURL(rawURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return "", fmt.Errorf("URL %q: %w", extract.RedactURL(rawURL), err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("URL %q: not an http(s) URL", extract.RedactURL(rawURL))
	}
	u.Host = strings.ToLower(u.Host)
	if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		u.Host = u.Hostname()
		if strings.Contains(u.Host, ":") {
			u.Host = "[" + u.Host + "]"
		}
	}
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err == nil {
			for k := range q {
				if lk := strings.ToLower(k); strings.HasPrefix(lk, "utm_") || trackingParams[lk] {
					delete(q, k)
				}
			}
			u.RawQuery = q.Encode() // sorted by key
		}
	}
	u.ForceQuery = false
	return u.String(), nil
}

// CanonicalURL returns the normalised URL an HTML page declares as its own
// (<link rel="canonical"> in its head), resolved against pageURL, or "".
// It reads no further than the end of the head.
func CanonicalURL(pageURL, contentType string, body []byte) string {
	if mt, _, _ := mime.ParseMediaType(contentType); mt != "" && mt != "text/html" && mt != "application/xhtml+xml" {
		return ""
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		return ""
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.EndTagToken:
			if name, _ := z.TagName(); atom.Lookup(name) == atom.Head {
				return ""
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch atom.Lookup(name) {
			case atom.Body:
				return ""
			case atom.Link:
				var rel, href string
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					switch string(k) {
					case "rel":
						rel = strings.ToLower(string(v))
					case "href":
						href = strings.TrimSpace(string(v))
					}
				}
				if href == "" || !containsField(rel, "canonical") {
					continue
				}
				ref, err := base.Parse(href)
				if err != nil {
					return ""
				}
				n, err := NormalizeURL(ref.String())
				if err != nil {
					return ""
				}
				return n
			}
		}
	}
}

func containsField(s, word string) bool {
	for _, f := range strings.Fields(s) {
		if f == word {
			return true
		}
	}
	return false
}
