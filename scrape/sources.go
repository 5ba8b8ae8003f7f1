package scrape

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/htmldoc"
	"github.com/thesisdb/thesisdb/internal/lazyre"
)

// DefaultMaxPages is a source's max_pages when the file or flags set none.
const DefaultMaxPages = 100

// Settings are a sources file's [scrape] table: what applies to every
// source of a run.
type Settings struct {
	// Contact (an e-mail address or URL) is put in the User-Agent.
	Contact string
	// UserAgent replaces the product part of the User-Agent ("thesisdb").
	UserAgent string
	// Concurrency is how many requests may be in flight over all hosts
	// (0: the fetcher's default).
	Concurrency int
	// Delay is the least time between two requests to one host (0: the
	// fetcher's default; a robots.txt Crawl-delay that is longer wins).
	Delay time.Duration
}

// Config is a parsed sources file.
type Config struct {
	Settings Settings
	Sources  []*Source
}

// fileFormat is the TOML layout of a sources file.
type fileFormat struct {
	Scrape struct {
		Contact     string `toml:"contact"`
		UserAgent   string `toml:"user_agent"`
		Concurrency int    `toml:"concurrency"`
		Delay       string `toml:"delay"`
	} `toml:"scrape"`
	Source []fileSource `toml:"source"`
}

type fileSource struct {
	Name     string            `toml:"name"`
	Feed     string            `toml:"feed"`
	Sitemap  string            `toml:"sitemap"`
	Start    string            `toml:"start"`
	Follow   string            `toml:"follow"`
	Allow    []string          `toml:"allow"`
	Depth    int               `toml:"depth"`
	Tags     []string          `toml:"tags"`
	Every    string            `toml:"every"`
	MaxPages int               `toml:"max_pages"`
	Cookies  string            `toml:"cookies"`
	Headers  map[string]string `toml:"headers"`
	Site     extract.SiteRules `toml:"site"`
}

// LoadSources reads a sources file and returns its sources, checked.
func LoadSources(path string) ([]*Source, error) {
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	return cfg.Sources, nil
}

// LoadConfig reads a sources file: its [scrape] settings and its sources,
// checked. A sources file is TOML: an optional [scrape] table of settings for the
// whole run, then one [[source]] table per place articles come from.
//
//	[scrape]
//	contact = "research-desk@example.com" # put in the User-Agent, so sites can reach you
//	concurrency = 4                       # requests in flight over all hosts (default 4)
//	delay = "2s"                          # least time between two requests to one host (default 1s)
//
//	# A blog's feed: RSS, Atom or JSON Feed, or the blog's home page,
//	# whose <link rel="alternate"> names its feed.
//	[[source]]
//	name = "harbor-street"
//	feed = "https://harborstreetnotes.example.com/feeds/posts/default"
//	tags = ["blogs", "banks"]
//	every = "1h"
//
//	# A research site: a start page whose note links are followed, with
//	# selectors for a layout the generic extractor misreads.
//	[[source]]
//	name = "northwind"
//	start = "https://research.example.com/notes/"
//	follow = "a.note-link"                        # links to articles (default "a[href]")
//	allow = ["https://research.example.com/notes/"] # prefixes, or patterns with '*'
//	depth = 1
//	every = "6h"
//	max_pages = 40
//	cookies = "northwind-cookies.txt"   # Netscape format, relative to this file
//	[source.headers]
//	Authorization = "NORTHWIND_TOKEN"   # the NAME of an environment variable, never the secret
//	[source.site]
//	content = "div.note-body"
//	title = "h1.note-title"
//	author = ".analyst-name"
//	date = "time.published"
//	remove = [".disclaimer", ".share-bar"]
//
// Keys of a [[source]]:
//
//   - name: how logs, tags and the known-URLs table call the source
//     (default: the URL's host); unique in the file.
//   - feed, sitemap or start: exactly one. sitemap may be an XML sitemap,
//     a sitemap index, either gzipped, a plain-text list of URLs, or a
//     robots.txt whose Sitemap: lines name them (or a site's root URL,
//     which stands for its robots.txt).
//   - follow, allow, depth: how start pages are crawled (follow and depth
//     only with start; allow also filters feed and sitemap links).
//   - tags: recorded on every document stored from the source.
//   - every: how often the source is scraped on a schedule, a Go duration
//     or a number of days ("90m", "1h", "1d"); default: every run.
//   - max_pages: articles fetched from the source in one run (default 100).
//   - cookies: a Netscape-format cookies file (as browsers' export
//     extensions write it), for subscriptions; a relative path is read
//     from the sources file's folder.
//   - headers: header name to the name of the environment variable that
//     holds its value, read at request time; a value that is not a
//     variable name is refused, so no secret is ever in the file.
//   - [source.site]: content, title, author, date and remove selectors
//     (see extract.SiteRules).
//
// Unknown keys are errors (a misspelt key would otherwise be ignored).
func LoadConfig(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("sources file: %w", err)
	}
	cfg, err := ParseConfig(string(data), filepath.Dir(file))
	if err != nil {
		return nil, fmt.Errorf("sources file %s: %w", file, err)
	}
	return cfg, nil
}

// ParseConfig parses a sources file's text; relative cookies paths are
// resolved against dir.
func ParseConfig(text, dir string) (*Config, error) {
	var f fileFormat
	md, err := toml.Decode(text, &f)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, fmt.Errorf("line %d: %s", perr.Position.Line, perr.Message)
		}
		return nil, err
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, fmt.Errorf("unknown key %s", describeKey(un[0], text, f.Source))
	}
	cfg := &Config{Settings: Settings{
		Contact:     strings.TrimSpace(f.Scrape.Contact),
		UserAgent:   strings.TrimSpace(f.Scrape.UserAgent),
		Concurrency: f.Scrape.Concurrency,
	}}
	if cfg.Settings.Concurrency < 0 {
		return nil, fmt.Errorf("scrape.concurrency: %d is negative", cfg.Settings.Concurrency)
	}
	if f.Scrape.Delay != "" {
		d, err := parseEvery(f.Scrape.Delay)
		if err != nil {
			return nil, fmt.Errorf("scrape.delay: %w", err)
		}
		cfg.Settings.Delay = d
	}
	if len(f.Source) == 0 {
		return nil, errors.New("no [[source]] table")
	}
	names := map[string]int{}
	lines := sourceLines(text)
	for i, fs := range f.Source {
		where := fmt.Sprintf("source %d", i+1)
		if i < len(lines) {
			where = fmt.Sprintf("line %d: source %d", lines[i], i+1)
		}
		if fs.Name != "" {
			where += fmt.Sprintf(" (%q)", fs.Name)
		}
		s, err := fs.source(dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if j, dup := names[s.Name]; dup {
			return nil, fmt.Errorf("%s: name %q is also source %d's; give one a name", where, s.Name, j)
		}
		names[s.Name] = i + 1
		cfg.Sources = append(cfg.Sources, s)
	}
	return cfg, nil
}

// sourceHeaderRe matches a [[source]] table header.
var sourceHeaderRe = lazyre.New(`^\s*\[\[\s*source\s*\]\]`)

// sourceLines returns the line numbers of the [[source]] headers, in
// order, so that messages about a source point at it.
func sourceLines(text string) []int {
	var out []int
	for i, l := range strings.Split(text, "\n") {
		if sourceHeaderRe().MatchString(l) {
			out = append(out, i+1)
		}
	}
	return out
}

// describeKey names an undecoded key for a message, with the source it is
// in: "\"folow\" in source 2 (\"name\")" rather than "source.folow" (array
// tables' keys carry no index).
func describeKey(k toml.Key, text string, sources []fileSource) string {
	if len(k) < 2 || k[0] != "source" {
		return fmt.Sprintf("%q", k.String())
	}
	var generic struct {
		Source []map[string]any `toml:"source"`
	}
	if _, err := toml.Decode(text, &generic); err == nil {
		for i, m := range generic.Source {
			if !hasPath(m, k[1:]) {
				continue
			}
			where := fmt.Sprintf("source %d", i+1)
			if i < len(sources) && sources[i].Name != "" {
				where += fmt.Sprintf(" (%q)", sources[i].Name)
			}
			return fmt.Sprintf("%q in %s", strings.Join(k[1:], "."), where)
		}
	}
	return fmt.Sprintf("%q", k.String())
}

// hasPath reports whether nested tables m hold the key path.
func hasPath(m map[string]any, path []string) bool {
	v, ok := m[path[0]]
	if !ok || len(path) == 1 {
		return ok
	}
	sub, ok := v.(map[string]any)
	return ok && hasPath(sub, path[1:])
}

func (fs *fileSource) source(dir string) (*Source, error) {
	s := &Source{
		Name:     strings.TrimSpace(fs.Name),
		Feed:     strings.TrimSpace(fs.Feed),
		Sitemap:  strings.TrimSpace(fs.Sitemap),
		Start:    strings.TrimSpace(fs.Start),
		Follow:   strings.TrimSpace(fs.Follow),
		Allow:    fs.Allow,
		Depth:    fs.Depth,
		Rules:    fs.Site,
		Tags:     fs.Tags,
		MaxPages: fs.MaxPages,
		Cookies:  strings.TrimSpace(fs.Cookies),
		Headers:  fs.Headers,
	}
	if fs.Every != "" {
		d, err := parseEvery(fs.Every)
		if err != nil {
			return nil, fmt.Errorf("every: %w", err)
		}
		s.Every = d
	}
	if s.Cookies != "" {
		s.Cookies = expandPath(s.Cookies, dir)
		if _, err := os.Stat(s.Cookies); err != nil {
			return nil, fmt.Errorf("cookies: %w", err)
		}
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	return s, nil
}

// expandPath resolves a leading "~/" to the home folder and a relative
// path against dir.
func expandPath(p, dir string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	if !filepath.IsAbs(p) && dir != "" {
		return filepath.Join(dir, p)
	}
	return p
}

// parseEvery parses a schedule or delay: a Go duration ("90m", "1h30m")
// or a whole number of days ("1d").
func parseEvery(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		days, err = strconv.Atoi(n)
		d = time.Duration(days) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration like \"30m\", \"1h\" or \"1d\"", s)
	}
	return d, nil
}

// envNameRe is what a header's value must be: an environment variable's
// name.
var envNameRe = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Check validates a source and fills its defaults (name, follow, depth,
// max_pages): exactly one of feed, sitemap and start, absolute http(s)
// URLs, selectors that compile, header values that name environment
// variables.
func (s *Source) Check() error {
	var set []string
	for _, f := range []struct{ name, v string }{{"feed", s.Feed}, {"sitemap", s.Sitemap}, {"start", s.Start}} {
		if f.v == "" {
			continue
		}
		set = append(set, f.name)
		u, err := url.Parse(f.v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", f.name, f.v)
		}
		if s.Name == "" {
			s.Name = u.Host
		}
	}
	switch len(set) {
	case 0:
		return errors.New("set one of feed, sitemap and start")
	case 1:
	default:
		return fmt.Errorf("set only one of feed, sitemap and start, not %s", strings.Join(set, " and "))
	}
	if s.Start == "" && (s.Follow != "" || s.Depth != 0) {
		return errors.New("follow and depth apply to start pages only")
	}
	if s.Start != "" {
		if s.Follow == "" {
			s.Follow = "a[href]"
		}
		if _, err := htmldoc.CompileSelector(s.Follow); err != nil {
			return fmt.Errorf("follow: %w", err)
		}
		if s.Depth == 0 {
			s.Depth = 1
		}
		if s.Depth < 0 || s.Depth > MaxDepth {
			return fmt.Errorf("depth: %d is outside 1..%d", s.Depth, MaxDepth)
		}
	}
	for _, a := range s.Allow {
		if strings.Contains(a, "*") {
			if _, err := path.Match(a, ""); err != nil {
				return fmt.Errorf("allow: pattern %q: %w", a, err)
			}
			continue
		}
		if u, err := url.Parse(a); err != nil || u.Host == "" {
			return fmt.Errorf("allow: %q is neither a URL prefix (with scheme and host) nor a pattern with '*'", a)
		}
	}
	if s.MaxPages < 0 {
		return fmt.Errorf("max_pages: %d is negative", s.MaxPages)
	}
	if s.MaxPages == 0 {
		s.MaxPages = DefaultMaxPages
	}
	if s.Every < 0 {
		return fmt.Errorf("every: %v is negative", s.Every)
	}
	if err := s.Rules.Validate(); err != nil {
		return fmt.Errorf("site.%w", err)
	}
	for name, env := range s.Headers {
		if strings.TrimSpace(name) == "" {
			return errors.New("headers: an empty header name")
		}
		if !envNameRe().MatchString(env) {
			// Do not repeat the value: it may be the secret itself.
			return fmt.Errorf("headers: %s's value must be the name of an environment variable that holds it (like SITE_TOKEN), not the value itself", name)
		}
	}
	for i, t := range s.Tags {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("tags: tag %d is empty", i+1)
		}
	}
	return nil
}

// Header returns the headers to send to the source's hosts, each value
// read now from the environment variable its entry names; an unset
// variable is an error naming it.
func (s *Source) Header() (http.Header, error) {
	h := http.Header{}
	for name, env := range s.Headers {
		v, ok := os.LookupEnv(env)
		if !ok {
			return nil, fmt.Errorf("source %s: header %s: environment variable %s is not set", s.Name, name, env)
		}
		h.Set(name, v)
	}
	return h, nil
}

// ReadCookies reads a Netscape-format cookies file (the format browsers'
// export extensions and curl write: tab-separated domain, subdomain flag,
// path, secure flag, expiry, name, value; '#' lines are comments, except
// "#HttpOnly_" prefixed ones). Expired cookies are left out.
func ReadCookies(file string) ([]*http.Cookie, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("cookies file: %w", err)
	}
	defer f.Close()
	var out []*http.Cookie
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		httpOnly := false
		if rest, ok := strings.CutPrefix(line, "#HttpOnly_"); ok {
			line, httpOnly = rest, true
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Split(line, "\t")
		if len(fs) != 7 {
			return nil, fmt.Errorf("cookies file %s: line %d: %d tab-separated fields, want 7", file, n, len(fs))
		}
		exp, err := strconv.ParseInt(fs[4], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("cookies file %s: line %d: expiry %q is not a number", file, n, fs[4])
		}
		c := &http.Cookie{
			Domain:   strings.TrimPrefix(fs[0], "."),
			Path:     fs[2],
			Secure:   strings.EqualFold(fs[3], "TRUE"),
			Name:     fs[5],
			Value:    fs[6],
			HttpOnly: httpOnly,
		}
		if exp > 0 {
			c.Expires = time.Unix(exp, 0)
			if c.Expires.Before(time.Now()) {
				continue
			}
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cookies file %s: %w", file, err)
	}
	return out, nil
}

// Flags are one-off sources given on the command line: thesisdb scrape
// --feed URL, --sitemap URL, --start URL --follow SELECTOR.
type Flags struct {
	Feeds, Sitemaps, Starts []string
	Follow                  string   // for every start page
	Allow                   []string // for every source
	Depth                   int      // for every start page
	MaxPages                int
	Tags                    []string
	Rules                   extract.SiteRules
}

// SourcesFromFlags turns command-line sources into checked Sources, one per
// URL, named by host (and a number when a host repeats).
func SourcesFromFlags(f Flags) ([]*Source, error) {
	if (f.Follow != "" || f.Depth != 0) && len(f.Starts) == 0 {
		return nil, errors.New("--follow and --depth need --start")
	}
	var out []*Source
	names := map[string]int{}
	add := func(flag string, urls []string, set func(*Source, string)) error {
		for _, u := range urls {
			s := &Source{Allow: f.Allow, MaxPages: f.MaxPages, Tags: f.Tags, Rules: f.Rules}
			set(s, strings.TrimSpace(u))
			if err := s.Check(); err != nil {
				return fmt.Errorf("--%s %s: %w", flag, u, err)
			}
			if names[s.Name]++; names[s.Name] > 1 {
				s.Name = fmt.Sprintf("%s#%d", s.Name, names[s.Name])
			}
			out = append(out, s)
		}
		return nil
	}
	if err := add("feed", f.Feeds, func(s *Source, u string) { s.Feed = u }); err != nil {
		return nil, err
	}
	if err := add("sitemap", f.Sitemaps, func(s *Source, u string) { s.Sitemap = u }); err != nil {
		return nil, err
	}
	if err := add("start", f.Starts, func(s *Source, u string) { s.Start, s.Follow, s.Depth = u, f.Follow, f.Depth }); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no source: give --feed, --sitemap or --start, or a sources file")
	}
	return out, nil
}
