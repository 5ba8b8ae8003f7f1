package scrape

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/temoto/robotstxt"
)

// Agent is the product token thesisdb answers to in robots.txt
// (User-agent: thesisdb).
const Agent = "thesisdb"

// UserAgent returns the User-Agent header scraping sends: the product
// token (Agent when empty), the project's address and, when set, how to
// reach the operator (an e-mail address or URL).
func UserAgent(product, contact string) string {
	if product = strings.TrimSpace(product); product == "" {
		product = Agent
	}
	ua := clean(product) + "/1 (+https://github.com/thesisdb/thesisdb; research ingestion"
	if contact = strings.TrimSpace(contact); contact != "" {
		ua += "; contact: " + clean(contact)
	}
	return ua + ")"
}

// clean drops control characters and parentheses from a header part.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '(' || r == ')' {
			return -1
		}
		return r
	}, s)
}

// ErrDisallowed is the error of a URL that the site's robots.txt does not
// let thesisdb fetch.
var ErrDisallowed = errors.New("disallowed by robots.txt")

// StatusError is the error of a response that was neither 2xx nor 304.
type StatusError struct {
	Status     int
	StatusText string // as the server sent it ("404 Not Found")
	// RetryAfter is what a 429 or 503 asked for (0: nothing).
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	s := "server answered " + e.StatusText
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (Retry-After %s)", e.RetryAfter)
	}
	return s
}

// host is what the fetcher keeps per site (scheme and host): whose turn
// it is, when the next request may start, and its robots.txt.
type host struct {
	turn  chan struct{} // holds one token: the request in progress
	last  time.Time     // when the last request ended (under turn)
	until time.Time     // backed off until then, after a 429 or 503 (under turn)

	robotsOnce   sync.Mutex // held while robots.txt is being fetched
	robots       *robotstxt.RobotsData
	robotsErr    error
	robotsExpire time.Time    // read robots.txt again after this
	delay        atomic.Int64 // nanoseconds: max(Fetcher.Delay, Crawl-delay)
}

func (f *Fetcher) host(u *url.URL) *host {
	key := strings.ToLower(u.Scheme + "://" + u.Host)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hosts == nil {
		f.hosts = map[string]*host{}
	}
	h := f.hosts[key]
	if h == nil {
		h = &host{turn: make(chan struct{}, 1)}
		h.delay.Store(int64(f.delay()))
		f.hosts[key] = h
	}
	return h
}

// acquire waits for the host's turn and its delay since the last request,
// then for a slot of the global concurrency; release gives both back and
// sets when the next request may start (after backoff, when longer than
// the delay).
func (f *Fetcher) acquire(ctx context.Context, h *host) (release func(backoff time.Duration), err error) {
	select {
	case h.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	next := h.last.Add(time.Duration(h.delay.Load()))
	if h.until.After(next) {
		next = h.until
	}
	if wait := time.Until(next); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			<-h.turn
			return nil, ctx.Err()
		}
	}
	sem := f.semaphore()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		<-h.turn
		return nil, ctx.Err()
	}
	return func(backoff time.Duration) {
		<-sem
		h.last = time.Now()
		if backoff > 0 {
			h.until = h.last.Add(backoff)
		}
		<-h.turn
	}, nil
}

func (f *Fetcher) semaphore() chan struct{} {
	f.semOnce.Do(func() {
		n := f.Concurrency
		if n <= 0 {
			n = 4
		}
		f.sem = make(chan struct{}, n)
	})
	return f.sem
}

func (f *Fetcher) delay() time.Duration {
	if f.Delay < 0 {
		return 0
	}
	if f.Delay == 0 {
		return DefaultDelay
	}
	return f.Delay
}

// How long a robots.txt is trusted, and how soon one that did not answer
// (or answered 5xx) is asked for again.
const (
	robotsTTL   = 24 * time.Hour
	robotsRetry = 10 * time.Minute
)

// DefaultDelay is the pause between two requests to one host when neither
// the fetcher nor the site's Crawl-delay says otherwise.
const DefaultDelay = time.Second

// Allowed reports whether robots.txt lets thesisdb fetch rawURL (nil) or
// not (ErrDisallowed), reading the site's robots.txt when not yet cached.
func (f *Fetcher) Allowed(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: not an http(s) URL", rawURL)
	}
	return f.allowed(ctx, f.host(u), u)
}

// allowed reports whether robots.txt lets thesisdb fetch u, fetching and
// caching the site's robots.txt for a day. A robots.txt that answers 4xx
// allows everything; 5xx or no answer disallows everything for the next
// ten minutes (as the major crawlers do).
func (f *Fetcher) allowed(ctx context.Context, h *host, u *url.URL) error {
	if f.IgnoreRobots {
		return nil
	}
	h.robotsOnce.Lock()
	if time.Now().After(h.robotsExpire) {
		h.robots, h.robotsErr = nil, nil
		robotsURL := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}).String()
		page, err := f.exchange(ctx, h, request{url: robotsURL, follow: true})
		var status int
		var body []byte
		var se *StatusError
		switch {
		case err == nil:
			status, body = page.Status, page.Body
		case errors.As(err, &se):
			status = se.Status
		case ctx.Err() != nil:
			h.robotsOnce.Unlock()
			return ctx.Err()
		default:
			// No answer at all: disallow for now.
			h.robotsErr = fmt.Errorf("robots.txt: %w", err)
		}
		h.robotsExpire = time.Now().Add(robotsTTL)
		if h.robotsErr != nil || status >= 500 {
			h.robotsExpire = time.Now().Add(robotsRetry)
		}
		if h.robotsErr == nil {
			r, perr := robotstxt.FromStatusAndBytes(status, body)
			if perr != nil || r == nil {
				// A robots.txt that does not parse restricts nothing.
				r, _ = robotstxt.FromStatusAndBytes(http.StatusNotFound, nil)
				f.logger().Warn("robots.txt does not parse; treating it as absent", "url", robotsURL, "err", perr)
			}
			h.robots = r
			if d := r.FindGroup(f.agent()).CrawlDelay; d > time.Duration(h.delay.Load()) {
				h.delay.Store(int64(d))
			}
		}
	}
	r, rerr := h.robots, h.robotsErr
	h.robotsOnce.Unlock()
	if rerr != nil {
		return rerr
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	if !r.TestAgent(path, f.agent()) {
		return ErrDisallowed
	}
	return nil
}

// agent is the product token matched against robots.txt's User-agent
// lines.
func (f *Fetcher) agent() string {
	if f.Agent != "" {
		return f.Agent
	}
	return Agent
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
