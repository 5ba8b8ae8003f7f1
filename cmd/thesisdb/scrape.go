package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/scrape"
	"github.com/thesisdb/thesisdb/store"
)

// scrapeFlags are the settings of fetching sources, shared by scrape and
// watch --sources.
type scrapeFlags struct {
	sourcesFile string
	feeds       []string
	sitemaps    []string
	starts      []string
	follow      string
	allow       []string
	depth       int
	tags        []string
	every       time.Duration
	maxPages    int
	delay       time.Duration
	fetchConc   int
	userAgent   string
	contact     string
	revisit     time.Duration
	dryRun      bool
}

func (f *scrapeFlags) register(cmd *cobra.Command, oneOff bool) {
	fs := cmd.Flags()
	fs.StringVar(&f.sourcesFile, "sources", "", "sources file (TOML): the feeds, sitemaps and start pages to scrape, with their schedules and site rules")
	if oneOff {
		fs.StringArrayVar(&f.feeds, "feed", nil, "an RSS, Atom or JSON Feed URL, or a site whose <link rel=\"alternate\"> names one (repeatable)")
		fs.StringArrayVar(&f.sitemaps, "sitemap", nil, "a sitemap or sitemap index (XML, gzipped, plain text) or a robots.txt naming them (repeatable)")
		fs.StringArrayVar(&f.starts, "start", nil, "a start page whose --follow links lead to articles (repeatable)")
		fs.StringVar(&f.follow, "follow", "", "CSS selector of article links on --start pages (default \"a[href]\")")
		fs.StringArrayVar(&f.allow, "allow", nil, "URL prefix (or pattern with '*') a discovered link must match (repeatable; default the start page's host)")
		fs.IntVar(&f.depth, "depth", 0, "links away from --start pages to follow (default 1)")
		fs.StringArrayVar(&f.tags, "tag", nil, "tag recorded on every document stored from the flags' sources (repeatable)")
		fs.DurationVar(&f.every, "every", 0, "keep running, scraping each source this often (its own every= wins); 0: once")
		fs.BoolVar(&f.dryRun, "dry-run", false, "list the article URLs that would be fetched; fetch no article, store nothing")
	}
	fs.IntVar(&f.maxPages, "max-pages", 0, "articles fetched per source and run (default: the source's max_pages, else 100)")
	fs.DurationVar(&f.delay, "delay", 0, "least time between two requests to one host (default 1s; a longer robots.txt Crawl-delay wins)")
	fs.IntVar(&f.fetchConc, "fetch-concurrency", 0, "requests in flight over all hosts (default 4)")
	fs.StringVar(&f.userAgent, "user-agent", "", "product name in the User-Agent and robots.txt's User-agent lines (default thesisdb)")
	fs.StringVar(&f.contact, "contact", "", "e-mail address or URL put in the User-Agent so sites can reach you")
	fs.DurationVar(&f.revisit, "revisit", 0, "do not ask again within this time for a page fetched before, unless its feed or sitemap says it changed (0: ask conditionally every run)")
}

// load reads the sources file and the one-off flags, and builds the
// fetcher they configure.
func (f *scrapeFlags) load(ef *extractFlags, log *slog.Logger) ([]*scrape.Source, *scrape.Fetcher, error) {
	var sources []*scrape.Source
	var settings scrape.Settings
	if f.sourcesFile != "" {
		cfg, err := scrape.LoadConfig(f.sourcesFile)
		if err != nil {
			return nil, nil, err
		}
		sources, settings = cfg.Sources, cfg.Settings
	}
	if len(f.feeds)+len(f.sitemaps)+len(f.starts) > 0 {
		more, err := scrape.SourcesFromFlags(scrape.Flags{Feeds: f.feeds, Sitemaps: f.sitemaps, Starts: f.starts,
			Follow: f.follow, Allow: f.allow, Depth: f.depth, MaxPages: f.maxPages, Tags: f.tags})
		if err != nil {
			return nil, nil, err
		}
		sources = append(sources, more...)
	} else if f.follow != "" || f.depth != 0 || len(f.allow) > 0 || len(f.tags) > 0 {
		return nil, nil, errors.New("--follow, --depth, --allow and --tag apply to --feed, --sitemap and --start sources")
	}
	if len(sources) == 0 {
		return nil, nil, errors.New("nothing to scrape: give --sources FILE, or --feed, --sitemap or --start URLs")
	}
	if f.maxPages < 0 || f.fetchConc < 0 || f.delay < 0 || f.every < 0 || f.revisit < 0 {
		return nil, nil, errors.New("--max-pages, --fetch-concurrency, --delay, --every and --revisit must not be negative")
	}
	for _, s := range sources {
		if f.maxPages > 0 {
			s.MaxPages = f.maxPages
		}
		if s.Every == 0 {
			s.Every = f.every
		}
	}
	ua := settings.UserAgent
	if f.userAgent != "" {
		ua = f.userAgent
	}
	contact := settings.Contact
	if f.contact != "" {
		contact = f.contact
	}
	fe := &scrape.Fetcher{
		UserAgent:   scrape.UserAgent(ua, contact),
		Agent:       ua,
		Delay:       settings.Delay,
		Concurrency: settings.Concurrency,
		MaxBytes:    ef.maxFetchBytes,
		Logger:      log,
	}
	if f.delay > 0 {
		fe.Delay = f.delay
	}
	if f.fetchConc > 0 {
		fe.Concurrency = f.fetchConc
	}
	if contact == "" {
		log.Info("no --contact (or contact in the sources file): sites cannot tell whom to ask about this scraper")
	}
	return sources, fe, nil
}

func (a *app) scrapeCommand() *cobra.Command {
	var ef extractFlags
	var sf scrapeFlags
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "scrape [--sources FILE] [--feed URL] [--sitemap URL] [--start URL --follow SELECTOR]",
		Short: "Pull articles in from feeds, sitemaps and start pages, politely and incrementally",
		Long: `Scrape finds the articles that feeds (RSS, Atom, JSON Feed), sitemaps (XML,
indexes, gzipped, plain text, robots.txt Sitemap: lines) and start pages
with link rules name, fetches those that may have changed, and loads,
extracts and stores them exactly as ingest does (same duplicate rules; PDFs
too). Sources come from a sources file (see the README's Scraping section)
or from --feed, --sitemap and --start for one-off use.

Incremental: every URL fetched is remembered in the known_urls table with
its ETag, Last-Modified and content hash. The next run sends a conditional
GET; a 304, or the same bytes, loads and extracts nothing and costs no
token. A URL whose feed or sitemap date is not newer than its last fetch is
not asked for at all. Tracking parameters (utm_*, fbclid, ...) and
fragments are dropped, and a page whose <link rel="canonical"> is stored
already is not stored again; an article that changed is stored as a new
document of the same URL.

Polite: robots.txt is obeyed (User-agent thesisdb, or --user-agent); one
request at a time per host, --delay apart (a longer Crawl-delay wins);
--fetch-concurrency requests in flight overall; a 429 or 503 backs its host
off for its Retry-After; at most --max-pages articles per source and run.
The User-Agent carries --contact.

A URL that fails (404, timeout, too large) is recorded in the failures view
at stage fetch and the others go on; a source that fails too. With --every
the command keeps running, scraping each source on its schedule, until
Ctrl-C or SIGTERM; a scrape stopped at any moment loses nothing, and
fetches again only what it had not stored. One status line per article on
stderr; the summary on stdout. Exit status 1 when a URL or source failed
(not with --every).`,
		Example: `  thesisdb scrape --feed https://blog.example.com/feed.xml --contact me@example.com
  thesisdb scrape --sitemap https://research.example.com/sitemap.xml --max-pages 20 --dry-run
  thesisdb scrape --start https://research.example.com/notes/ --follow 'a.note-link'
  thesisdb scrape --sources sources.toml --every 1h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			sources, fe, err := sf.load(&ef, a.log)
			if err != nil {
				return err
			}
			if sf.dryRun && sf.every > 0 {
				return errors.New("--dry-run lists one pass: leave out --every")
			}
			db, err := store.Open(ctx, a.dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			sc := &scrape.Scraper{Store: db, Fetcher: fe, Revisit: sf.revisit, Logger: a.log, DryRun: sf.dryRun}
			if sf.dryRun {
				sc.OnEvent = func(e scrape.Event) {
					if e.Outcome == scrape.WouldFetch {
						fmt.Fprintf(a.stdout, "%s\t%s\n", e.Source.Name, e.URL)
					} else {
						a.printScrapeEvent(e)
					}
				}
				sum := sc.Run(ctx, 0, sources)
				fmt.Fprintf(a.stderr, "dry run: %s would be fetched; %d left alone (fetched recently, unchanged since), %d disallowed by robots.txt; %s\n",
					plural(sum.Outcomes[scrape.WouldFetch], "URL"), sum.Outcomes[scrape.Fresh], sum.Outcomes[scrape.Disallowed], plural(sum.Sources, "source"))
				if sum.Failed() > 0 {
					return exitError{1}
				}
				return nil
			}
			names := make([]string, len(sources))
			for i, s := range sources {
				names[i] = s.Name
			}
			p, runID, err := a.startRun(ctx, db, &ef, "scrape", map[string]any{
				"sources_file": sf.sourcesFile, "sources": names, "every": sf.every.String(), "revisit": sf.revisit.String(),
			})
			if err != nil {
				return err
			}
			sc.Pipeline = p
			enc := json.NewEncoder(a.stdout)
			sc.OnEvent = func(e scrape.Event) {
				a.printScrapeEvent(e)
				if jsonOut {
					enc.Encode(scrapeEventJSON(e))
				}
			}
			sum := a.scrapeLoop(ctx, sc, runID, sources, sf.every > 0)
			status := store.RunDone
			switch {
			case sum.Pipeline.Aborted != nil:
				status = store.RunFailed
			case ctx.Err() != nil && sf.every == 0:
				status = store.RunInterrupted
			}
			if err := db.SetRunStatus(context.WithoutCancel(ctx), runID, status); err != nil {
				return err
			}
			a.printScrapeSummary(runID, sum, status)
			switch {
			case sum.Pipeline.Aborted != nil:
				return fmt.Errorf("run %d stopped: %w (pages not yet stored are fetched again by the next run)", runID, sum.Pipeline.Aborted)
			case status == store.RunInterrupted:
				return exitError{130}
			case sf.every == 0 && (sum.Failed() > 0 || sum.Pipeline.Failed > 0):
				return exitError{1}
			}
			return nil
		},
	}
	ef.register(cmd)
	sf.register(cmd, true)
	cmd.Flags().BoolVar(&jsonOut, "json", false, "also print one JSON object per URL on stdout")
	return cmd
}

// scrapeLoop runs sc over sources once, or, when loop is set, again each
// time a source is due until ctx is cancelled, and returns the totals.
func (a *app) scrapeLoop(ctx context.Context, sc *scrape.Scraper, runID int64, sources []*scrape.Source, loop bool) scrape.Summary {
	total := scrape.Summary{Outcomes: map[scrape.Outcome]int{}}
	for {
		sum := sc.Run(ctx, runID, sources)
		total.Sources += sum.Sources
		total.SourcesFailed += sum.SourcesFailed
		total.SourcesNotDue += sum.SourcesNotDue
		total.Links += sum.Links
		total.Requests += sum.Requests
		for k, v := range sum.Outcomes {
			total.Outcomes[k] += v
		}
		total.Pipeline.Merge(sum.Pipeline)
		total.NextDue = sum.NextDue
		if !loop || ctx.Err() != nil || sum.Pipeline.Aborted != nil {
			return total
		}
		wait := time.Until(sum.NextDue)
		if sum.NextDue.IsZero() {
			wait = time.Minute // no schedule: sources run every pass
		}
		wait = max(wait, time.Second)
		a.log.Info("scrape pass done; waiting for the next source", "run", runID, "next", time.Now().Add(wait).Format(time.RFC3339),
			"stored", sum.Pipeline.OK, "unchanged", sum.Outcomes[scrape.NotModified], "fresh", sum.Outcomes[scrape.Fresh], "failed", sum.Failed())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return total
		case <-t.C:
		}
	}
}

// printScrapeEvent writes a URL's status line on stderr: the pipeline's
// line for pages that went through it, else what the fetch found.
func (a *app) printScrapeEvent(e scrape.Event) {
	if e.Doc != nil && e.Outcome != scrape.Stopped {
		a.printEvent(*e.Doc)
		return
	}
	name := ""
	if e.Source != nil {
		name = e.Source.Name
	}
	switch {
	case e.URL == "":
		fmt.Fprintf(a.stderr, "failed     source %s  %s\n", displayName(name), displayText(fmt.Sprint(e.Err)))
	case e.Outcome == scrape.FetchFailed:
		fmt.Fprintf(a.stderr, "failed     %s  %s\n", displayName(e.URL), displayText(fmt.Sprint(e.Err)))
	case e.Outcome == scrape.Disallowed:
		fmt.Fprintf(a.stderr, "disallowed %s  robots.txt says no\n", displayName(e.URL))
	case e.Outcome == scrape.NotModified:
		a.log.Debug("unchanged", "url", e.URL, "status", e.Status)
	case e.Outcome == scrape.Fresh:
		a.log.Debug("fresh", "url", e.URL)
	case e.Outcome == scrape.Alias:
		fmt.Fprintf(a.stderr, "duplicate  %s  its canonical URL is stored already\n", displayName(e.URL))
	case e.Outcome == scrape.Stopped:
		fmt.Fprintf(a.stderr, "stopped    %s  interrupted before it was stored; fetched again next run\n", displayName(e.URL))
	}
}

// printScrapeSummary writes the totals of a scrape on stdout.
func (a *app) printScrapeSummary(runID int64, s scrape.Summary, status string) {
	p := s.Pipeline
	fmt.Fprintf(a.stdout, "run %d %s: %s, %s discovered, %s made; %d stored, %d unchanged, %d not asked for (fresh), %d duplicate, %d disallowed, %d failed",
		runID, status, plural(s.Sources, "source"), plural(s.Links, "URL"), plural(s.Requests, "request"),
		p.OK, s.Outcomes[scrape.NotModified], s.Outcomes[scrape.Fresh], s.Outcomes[scrape.Duplicate]+s.Outcomes[scrape.Alias],
		s.Outcomes[scrape.Disallowed], s.Outcomes[scrape.FetchFailed])
	if s.SourcesNotDue > 0 {
		fmt.Fprintf(a.stdout, ", %s not due", plural(s.SourcesNotDue, "source"))
	}
	if s.SourcesFailed > 0 {
		fmt.Fprintf(a.stdout, ", %s failed", plural(s.SourcesFailed, "source"))
	}
	fmt.Fprintf(a.stdout, "; %s stored", plural(p.DataPoints, "data point"))
	if u := p.Usage; u.Requests > 0 || u.PromptTokens > 0 {
		fmt.Fprintf(a.stdout, "; tokens: %d prompt, %d completion", u.PromptTokens, u.CompletionTokens)
	}
	fmt.Fprintln(a.stdout)
	if s.Failed() > 0 || p.Failed > 0 {
		fmt.Fprintf(a.stderr, "see the errors with: thesisdb query \"SELECT stage, source, error FROM failures WHERE run_id = %d\"\n", runID)
	}
}

// scrapeEventJSON is the --json form of a scrape event.
func scrapeEventJSON(e scrape.Event) map[string]any {
	m := map[string]any{"url": e.URL, "outcome": e.Outcome, "status": e.Status}
	if e.Source != nil {
		m["source"] = e.Source.Name
	}
	if e.Doc != nil {
		m["document"] = eventJSON(*e.Doc)
	}
	if e.Err != nil {
		m["error"] = e.Err.Error()
	}
	return m
}
