package scrape

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/store"
)

// Store is what scraping keeps between runs: the known URLs, the sources'
// schedules and the failures of fetches. *store.DB implements it.
type Store interface {
	KnownURL(ctx context.Context, url string) (*store.KnownURL, error)
	KnownCanonical(ctx context.Context, canonical, url string) (*store.KnownURL, error)
	SaveKnownURL(ctx context.Context, k store.KnownURL) error
	RecordFetchFailure(ctx context.Context, runID int64, url, errText string) error
	RecordLoadFailure(ctx context.Context, runID int64, source, sha, errText string) error
	SourceDue(ctx context.Context, name string) (time.Time, error)
	SourceScraped(ctx context.Context, name string, when, next time.Time) error
}

// Scraper runs sources: it discovers their article links, fetches those
// that may have changed (conditionally, through Fetcher) and hands what
// did change to Pipeline, recording every URL's outcome in Store once
// the pipeline has stored or refused it: a scrape stopped at any moment
// loses nothing, and the next one fetches again only what it had not
// finished.
type Scraper struct {
	Store    Store
	Pipeline *pipeline.Pipeline
	Fetcher  *Fetcher
	// Discover finds a source's article links (default: Discover).
	Discover func(ctx context.Context, src *Source, g Getter) ([]Link, error)
	// DryRun discovers and reports what would be fetched, fetching no
	// article and writing nothing.
	DryRun bool
	// Revisit is how long a fetched URL is not asked for again, unless
	// its feed or sitemap says it changed (0: conditionally at every run).
	Revisit time.Duration
	// MaxPages caps the articles fetched per source and run when the
	// source sets no cap (0: no cap).
	MaxPages int
	// OnEvent is called, one call at a time, with each URL's outcome.
	OnEvent func(Event)
	Logger  *slog.Logger
}

// Outcome is what became of a discovered URL in a run.
type Outcome string

// The outcomes of an Event.
const (
	Stored      Outcome = "stored"      // fetched, loaded, extracted, stored (Doc says how)
	Duplicate   Outcome = "duplicate"   // fetched; the same content is stored already
	Alias       Outcome = "alias"       // fetched; the page's canonical URL is stored already
	NotModified Outcome = "unchanged"   // 304, or the same bytes as last time: nothing loaded
	Fresh       Outcome = "fresh"       // not asked for: fetched recently and not changed since
	Disallowed  Outcome = "disallowed"  // robots.txt says no
	FetchFailed Outcome = "failed"      // no page (status, network, size) or the page failed to load or extract
	Stopped     Outcome = "interrupted" // the run stopped first; fetched again next run
	WouldFetch  Outcome = "would fetch" // --dry-run
)

// Event is the outcome of one URL, or of a source whose discovery failed
// (URL empty).
type Event struct {
	Source  *Source
	URL     string
	Outcome Outcome
	Status  int // HTTP status, when a request was made
	Err     error
	// Doc is the pipeline's event when the page went through it.
	Doc *pipeline.Event
}

// Summary totals a scrape.
type Summary struct {
	Sources, SourcesFailed, SourcesNotDue int
	Links                                 int // distinct article URLs discovered
	Requests                              int // article requests made (pages discovery fetched not counted again)
	Outcomes                              map[Outcome]int
	// Pipeline totals the pages loaded and extracted.
	Pipeline pipeline.Summary
	// NextDue is when the earliest scheduled source is due again (zero:
	// none is scheduled).
	NextDue time.Time
}

// Failed counts the sources and URLs that failed.
func (s Summary) Failed() int {
	return s.SourcesFailed + s.Outcomes[FetchFailed]
}

type job struct {
	src   *Source
	sf    *SourceFetcher
	link  Link
	url   string
	known *store.KnownURL
}

func (s *Scraper) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// Run scrapes the sources that are due into run runID and returns when
// every URL has its outcome or ctx is cancelled. A source that fails
// (discovery, credentials) is reported and the others go on.
func (s *Scraper) Run(ctx context.Context, runID int64, sources []*Source) Summary {
	sum := Summary{Outcomes: map[Outcome]int{}}
	start := time.Now()
	var mu sync.Mutex
	emit := func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		sum.Outcomes[e.Outcome]++
		if e.Doc != nil {
			sum.Pipeline.Add(*e.Doc)
		}
		if s.OnEvent != nil {
			s.OnEvent(e)
		}
	}
	seen := map[string]bool{}
	var jobs []job
	var ran []*Source
	for _, src := range sources {
		if ctx.Err() != nil {
			break
		}
		if src.Every > 0 {
			next, err := s.Store.SourceDue(ctx, src.Name)
			if err != nil {
				s.sourceFailed(ctx, runID, src, err, &sum, emit)
				continue
			}
			if now := time.Now(); now.Before(next) {
				sum.SourcesNotDue++
				s.logger().Info("source not due yet", "source", src.Name, "due", next.Format(time.RFC3339))
				sum.noteDue(next)
				continue
			}
		}
		sum.Sources++
		js, err := s.plan(ctx, src, seen)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			s.sourceFailed(ctx, runID, src, err, &sum, emit)
			if len(js) == 0 {
				if src.Every > 0 && !s.DryRun {
					// Tried again on its schedule, not at every pass.
					now := time.Now()
					sum.noteDue(now.Add(src.Every))
					if err := s.Store.SourceScraped(ctx, src.Name, now, now.Add(src.Every)); err != nil {
						s.logger().Warn("record the source's scrape", "source", src.Name, "err", err)
					}
				}
				continue
			}
		}
		ran = append(ran, src)
		for _, j := range js {
			if j.known != nil && s.fresh(j) {
				emit(Event{Source: src, URL: j.url, Outcome: Fresh})
				continue
			}
			jobs = append(jobs, j)
		}
	}
	sum.Links = len(seen)
	jobs = s.capPages(jobs)
	if s.DryRun {
		for _, j := range jobs {
			switch err := s.Fetcher.Allowed(ctx, j.url); {
			case err == nil:
				emit(Event{Source: j.src, URL: j.url, Outcome: WouldFetch})
			case errors.Is(err, ErrDisallowed):
				emit(Event{Source: j.src, URL: j.url, Outcome: Disallowed, Err: err})
			default:
				emit(Event{Source: j.src, URL: j.url, Outcome: FetchFailed, Err: err})
			}
		}
		sum.Pipeline.Elapsed = time.Since(start)
		return sum
	}
	for _, j := range jobs {
		if j.link.Page == nil && j.link.Err == nil {
			sum.Requests++
		}
	}
	s.fetchAll(ctx, runID, jobs, emit, &sum)
	if ctx.Err() == nil && sum.Pipeline.Aborted == nil {
		now := time.Now()
		for _, src := range ran {
			var next time.Time
			if src.Every > 0 {
				next = now.Add(src.Every)
				sum.noteDue(next)
			}
			if err := s.Store.SourceScraped(ctx, src.Name, now, next); err != nil {
				s.logger().Warn("record the source's scrape", "source", src.Name, "err", err)
			}
		}
	}
	sum.Pipeline.Elapsed = time.Since(start)
	return sum
}

func (sum *Summary) noteDue(t time.Time) {
	if sum.NextDue.IsZero() || t.Before(sum.NextDue) {
		sum.NextDue = t
	}
}

// sourceFailed records a source that could not be discovered.
func (s *Scraper) sourceFailed(ctx context.Context, runID int64, src *Source, err error, sum *Summary, emit func(Event)) {
	sum.SourcesFailed++
	s.logger().Error("source failed", "source", src.Name, "err", err)
	if !s.DryRun {
		where := src.Feed + src.Sitemap + src.Start
		if rerr := s.Store.RecordFetchFailure(ctx, runID, where, fmt.Sprintf("source %s: %v", src.Name, err)); rerr != nil {
			s.logger().Warn("record source failure", "source", src.Name, "err", rerr)
		}
	}
	if s.OnEvent != nil {
		s.OnEvent(Event{Source: src, Outcome: FetchFailed, Err: err})
	}
}

// plan discovers src's links and looks each up among the known URLs.
// Links already planned in this run (seen, by normalised URL) are left
// out: an article listed twice, or under a utm_ variant, is fetched once.
func (s *Scraper) plan(ctx context.Context, src *Source, seen map[string]bool) ([]job, error) {
	sf, err := s.Fetcher.For(src)
	if err != nil {
		return nil, err
	}
	discover := s.Discover
	if discover == nil {
		discover = Discover
	}
	links, derr := discover(ctx, src, sf)
	var jobs []job
	for _, l := range links {
		u, err := NormalizeURL(l.URL)
		if err != nil {
			s.logger().Info("skipping link", "source", src.Name, "err", err)
			continue
		}
		if seen[u] {
			continue
		}
		seen[u] = true
		j := job{src: src, sf: sf, link: l, url: u}
		k, err := s.Store.KnownURL(ctx, u)
		switch {
		case err == nil:
			j.known = k
		case !errors.Is(err, store.ErrNotFound):
			return jobs, err
		}
		jobs = append(jobs, j)
	}
	if derr != nil {
		return jobs, fmt.Errorf("discover: %w", derr)
	}
	return jobs, nil
}

// fresh reports whether a known URL need not be asked for: its last fetch
// answered, the feed or sitemap says it has not changed since (or says
// nothing and Revisit has not passed).
func (s *Scraper) fresh(j job) bool {
	k := j.known
	if gone(k.LastStatus) {
		// A page that was not there is asked for again after a day.
		return time.Now().Before(k.NextFetchAt)
	}
	if k.LastFetchedAt.IsZero() || k.LastError != "" || (k.LastStatus != 200 && k.LastStatus != 304) {
		return false
	}
	if !j.link.LastMod.IsZero() {
		return !j.link.LastMod.After(k.LastFetchedAt)
	}
	return !k.NextFetchAt.IsZero() && time.Now().Before(k.NextFetchAt)
}

// gone reports whether a status says the page is not there (4xx other
// than 429), as opposed to a failure worth retrying at the next run.
func gone(status int) bool {
	return status >= 400 && status < 500 && status != 429
}

// goneFor is how long a page that was not there is left alone.
const goneFor = 24 * time.Hour

// capPages keeps at most MaxPages jobs per source (the source's own cap
// first), in discovery order.
func (s *Scraper) capPages(jobs []job) []job {
	count := map[*Source]int{}
	out := jobs[:0]
	for _, j := range jobs {
		limit := j.src.MaxPages
		if limit <= 0 {
			limit = s.MaxPages
		}
		if limit > 0 && count[j.src] >= limit {
			continue
		}
		count[j.src]++
		out = append(out, j)
	}
	if dropped := len(jobs) - len(out); dropped > 0 {
		s.logger().Info("page limit reached; the rest wait for the next run", "left", dropped)
	}
	return out
}

// fetchAll fetches the jobs, at most the fetcher's concurrency at once
// (and one at a time per host, which the fetcher enforces), and hands
// each changed page to the pipeline, at most its concurrency at once.
func (s *Scraper) fetchAll(ctx context.Context, runID int64, jobs []job, emit func(Event), sum *Summary) {
	ctx, abort := context.WithCancel(ctx)
	defer abort()
	fetchers := s.Fetcher.Concurrency
	if fetchers <= 0 {
		fetchers = 4
	}
	extractors := s.Pipeline.Concurrency
	if extractors <= 0 {
		extractors = 4
	}
	slots := make(chan struct{}, extractors)
	work := make(chan job)
	var wg sync.WaitGroup
	var abortOnce sync.Once
	for range min(fetchers+extractors, max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				e := s.fetchOne(ctx, runID, j, slots)
				if e.Doc != nil && errors.Is(e.Doc.Err, extract.ErrAbortRun) {
					abortOnce.Do(func() {
						sum.Pipeline.Aborted = e.Doc.Err
						s.logger().Error("stopping the run: every remaining document would fail the same way", "err", e.Doc.Err)
						abort()
					})
				}
				emit(e)
			}
		}()
	}
feed:
	for _, j := range jobs {
		select {
		case work <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
}

// fetchOne fetches one article and carries it as far as it must go,
// recording the URL's state last.
func (s *Scraper) fetchOne(ctx context.Context, runID int64, j job, slots chan struct{}) Event {
	ev := Event{Source: j.src, URL: j.url}
	k := store.KnownURL{URL: j.url, Source: j.src.Name}
	var etag, lastModified string
	if j.known != nil {
		k = *j.known
		k.Source = j.src.Name
		etag, lastModified = j.known.ETag, j.known.LastModified
	}
	k.LastMod = j.link.LastMod
	save := func() {
		k.LastFetchedAt = time.Now()
		k.NextFetchAt = time.Time{}
		if s.Revisit > 0 {
			k.NextFetchAt = k.LastFetchedAt.Add(s.Revisit)
		}
		if gone(k.LastStatus) {
			k.NextFetchAt = k.LastFetchedAt.Add(max(s.Revisit, goneFor))
		}
		if err := s.Store.SaveKnownURL(ctx, k); err != nil {
			s.logger().Warn("record the URL's state", "url", j.url, "err", err)
		}
	}

	var page *Page
	var err error
	if j.link.Page != nil || j.link.Err != nil {
		// Discovery fetched this page to read its links: not asked again.
		page, err = j.link.Page, j.link.Err
	} else {
		page, err = j.sf.Fetch(ctx, j.url, etag, lastModified)
	}
	if err != nil {
		if ctx.Err() != nil {
			ev.Outcome, ev.Err = Stopped, ctx.Err()
			return ev
		}
		ev.Err = err
		k.LastError = err.Error()
		var se *StatusError
		switch {
		case errors.Is(err, ErrDisallowed):
			ev.Outcome, k.LastStatus = Disallowed, 0
		case errors.As(err, &se):
			ev.Outcome, ev.Status, k.LastStatus = FetchFailed, se.Status, se.Status
		default:
			ev.Outcome, k.LastStatus = FetchFailed, 0
		}
		if ev.Outcome == FetchFailed {
			if rerr := s.Store.RecordFetchFailure(ctx, runID, j.url, err.Error()); rerr != nil {
				ev.Err = errors.Join(err, rerr)
			}
		}
		save()
		return ev
	}
	ev.Status, k.LastStatus, k.LastError = page.Status, page.Status, ""
	if page.Status == 304 {
		// Unchanged: nothing loaded, nothing extracted. A 304 may carry
		// newer validators.
		if v := page.Header.Get("ETag"); v != "" {
			k.ETag = v
		}
		if v := page.Header.Get("Last-Modified"); v != "" {
			k.LastModified = v
		}
		ev.Outcome = NotModified
		save()
		return ev
	}
	k.ETag, k.LastModified = page.Header.Get("ETag"), page.Header.Get("Last-Modified")
	sum := sha256.Sum256(page.Body)
	sha := hex.EncodeToString(sum[:])
	k.CanonicalURL = CanonicalURL(page.URL, page.ContentType, page.Body)
	if k.CanonicalURL == "" {
		if final, err := NormalizeURL(page.URL); err == nil && final != j.url {
			k.CanonicalURL = final // redirected
		}
	}
	if j.known != nil && j.known.ContentSHA256 == sha && j.known.DocumentID != 0 {
		// The server ignored the validators but sent the same bytes.
		ev.Outcome, k.ContentSHA256 = NotModified, sha
		save()
		return ev
	}
	if k.CanonicalURL != "" && k.CanonicalURL != j.url {
		alias, err := s.Store.KnownCanonical(ctx, k.CanonicalURL, j.url)
		switch {
		case err == nil:
			ev.Outcome, k.ContentSHA256, k.DocumentID = Alias, sha, alias.DocumentID
			save()
			return ev
		case !errors.Is(err, store.ErrNotFound):
			s.logger().Warn("look up the canonical URL", "url", j.url, "err", err)
		}
	}

	opts := extract.Options{}
	if s.Pipeline.Load != nil {
		opts = *s.Pipeline.Load
	}
	opts.Site = j.src.Rules
	raw, err := extract.NewRaw(page.URL, page.ContentType, page.Body, &opts)
	if err != nil {
		ev.Outcome, ev.Err, k.LastError, k.ContentSHA256 = FetchFailed, err, err.Error(), sha
		if rerr := s.Store.RecordLoadFailure(ctx, runID, j.url, sha, err.Error()); rerr != nil {
			ev.Err = errors.Join(err, rerr)
		}
		save()
		return ev
	}
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		ev.Outcome, ev.Err = Stopped, ctx.Err()
		return ev
	}
	pe := s.Pipeline.Process(ctx, runID, pipeline.Item{Source: page.URL, Raw: raw, Tags: j.src.Tags})
	<-slots
	ev.Doc = &pe
	switch pe.Status {
	case pipeline.Interrupted:
		// Not stored: the URL is fetched again next run.
		ev.Outcome, ev.Err = Stopped, pe.Err
		return ev
	case pipeline.OK:
		ev.Outcome = Stored
	case pipeline.Duplicate, pipeline.Cached:
		ev.Outcome = Duplicate
	default:
		ev.Outcome, ev.Err = FetchFailed, pe.Err
		if pe.Err != nil {
			k.LastError = pe.Err.Error()
		}
	}
	k.ContentSHA256 = sha
	if pe.DocumentID != 0 {
		k.DocumentID = pe.DocumentID
	}
	save()
	return ev
}
