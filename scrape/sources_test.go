package scrape

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract"
)

func TestLoadSample(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("..", "examples", "sources.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Settings != (Settings{Contact: "research-desk@example.com", Concurrency: 4, Delay: 2 * time.Second}) {
		t.Errorf("settings = %+v", cfg.Settings)
	}
	if len(cfg.Sources) != 3 {
		t.Fatalf("%d sources, want 3", len(cfg.Sources))
	}
	blog, research, metals := cfg.Sources[0], cfg.Sources[1], cfg.Sources[2]
	if blog.Name != "harbor-street" || blog.Feed == "" || blog.Every != time.Hour || blog.MaxPages != DefaultMaxPages ||
		!reflect.DeepEqual(blog.Tags, []string{"blogs", "banks"}) || !blog.Rules.IsZero() {
		t.Errorf("blog source = %+v", blog)
	}
	wantRules := extract.SiteRules{Content: "div.note-body", Title: "h1.note-title", Author: ".analyst-name", Date: "time.published", Remove: []string{".disclaimer", ".share-bar"}}
	if research.Start != "https://research.example.com/notes/" || research.Follow != "ul.note-list a.note-link" || research.Depth != 1 ||
		research.Every != 6*time.Hour || research.MaxPages != 40 || !reflect.DeepEqual(research.Rules, wantRules) ||
		!reflect.DeepEqual(research.Headers, map[string]string{"Authorization": "NORTHWIND_TOKEN"}) {
		t.Errorf("research source = %+v", research)
	}
	if metals.Sitemap == "" || metals.Every != 24*time.Hour || !Allowed(metals.Allow, "https://metalsweekly.example.com/2026-copper") {
		t.Errorf("sitemap source = %+v", metals)
	}
}

func TestSourcesFileErrors(t *testing.T) {
	const ok = "[[source]]\nfeed = \"https://a.example/feed\"\n"
	for _, tc := range []struct{ name, text, want string }{
		{"syntax", "[scrape]\ndelay = 2s\n", "line 2:"},
		{"no source", "[scrape]\ncontact = \"x@example.com\"\n", "no [[source]]"},
		{"two kinds", "[[source]]\nfeed = \"https://a.example/feed\"\nsitemap = \"https://a.example/sitemap.xml\"\n", "set only one of feed, sitemap and start, not feed and sitemap"},
		{"none", "[[source]]\nname = \"x\"\n", `line 1: source 1 ("x"): set one of feed, sitemap and start`},
		{"not a URL", "[[source]]\nstart = \"research.example.com\"\n", `start: "research.example.com" is not an http(s) URL`},
		{"bad every", ok + "every = \"hourly\"\n", `every: "hourly" is not a duration`},
		{"bad delay", "[scrape]\ndelay = \"soon\"\n" + ok, `scrape.delay: "soon" is not a duration`},
		{"bad follow", "[[source]]\nstart = \"https://a.example/\"\nfollow = \"a[href\"\n", `follow: bad CSS selector "a[href"`},
		{"follow without start", ok + "follow = \"a\"\n", "follow and depth apply to start pages only"},
		{"depth", "[[source]]\nstart = \"https://a.example/\"\ndepth = 9\n", "depth: 9 is outside 1..5"},
		{"bad site rule", ok + "[source.site]\ncontent = \"div..x\"\n", `site.content: bad CSS selector "div..x"`},
		{"bad remove", ok + "[source.site]\nremove = [\".a\", \"##\"]\n", `site.remove[1]: bad CSS selector "##"`},
		{"literal secret", ok + "[source.headers]\nAuthorization = \"Bearer sk-live-123\"\n", "Authorization's value must be the name of an environment variable"},
		{"unknown key", ok + "folow = \"a\"\n", `unknown key "folow" in source 1`},
		{"unknown site key", ok + "[source.site]\nbody = \"x\"\n", `unknown key "site.body" in source 1`},
		{"wrong type", ok + "depth = \"two\"\n", "line 3"},
		{"duplicate names", ok + ok, `line 3: source 2 : name "a.example" is also source 1's`},
		{"bad allow", ok + "allow = [\"/notes/\"]\n", `allow: "/notes/" is neither a URL prefix`},
		{"bad pattern", ok + "allow = [\"https://a.example/[*\"]\n", `allow: pattern "https://a.example/[*"`},
		{"missing cookies", ok + "cookies = \"nope.txt\"\n", "cookies:"},
	} {
		_, err := ParseConfig(tc.text, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(tc.want, "source 2 :", "source 2:")) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
		if tc.name == "literal secret" && err != nil && strings.Contains(err.Error(), "sk-live") {
			t.Errorf("the error repeats the secret: %v", err)
		}
	}
}

func TestHeaderFromEnvironment(t *testing.T) {
	s := &Source{Feed: "https://a.example/feed", Headers: map[string]string{"Authorization": "THESISDB_TEST_TOKEN"}}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Header(); err == nil || !strings.Contains(err.Error(), "THESISDB_TEST_TOKEN is not set") {
		t.Errorf("unset variable: err = %v", err)
	}
	t.Setenv("THESISDB_TEST_TOKEN", "Bearer abc")
	h, err := s.Header()
	if err != nil || h.Get("Authorization") != "Bearer abc" {
		t.Errorf("header = %v, %v", h, err)
	}
}

func TestReadCookies(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cookies.txt")
	text := "# Netscape HTTP Cookie File\n\n" +
		".research.example.com\tTRUE\t/\tTRUE\t4102444800\tsession\tabc123\n" +
		"#HttpOnly_research.example.com\tFALSE\t/notes\tFALSE\t0\tpref\tdark\n" +
		"old.example.com\tFALSE\t/\tFALSE\t946684800\tgone\tx\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cs, err := ReadCookies(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("%d cookies, want 2 (the expired one left out): %v", len(cs), cs)
	}
	if c := cs[0]; c.Domain != "research.example.com" || c.Name != "session" || c.Value != "abc123" || !c.Secure || c.Expires.Year() != 2100 {
		t.Errorf("cookie 1 = %+v", c)
	}
	if c := cs[1]; c.Name != "pref" || !c.HttpOnly || c.Path != "/notes" || !c.Expires.IsZero() {
		t.Errorf("cookie 2 = %+v", c)
	}
	if err := os.WriteFile(file, []byte("a.example\tTRUE\t/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCookies(file); err == nil || !strings.Contains(err.Error(), "line 1: 3 tab-separated fields") {
		t.Errorf("bad line: err = %v", err)
	}
	// A sources file names the cookies file relative to itself.
	cfg := "[[source]]\nfeed = \"https://a.example/feed\"\ncookies = \"cookies.txt\"\n"
	c, err := ParseConfig(cfg, dir)
	if err != nil || c.Sources[0].Cookies != file {
		t.Errorf("cookies path = %v, %v; want %s", c, err, file)
	}
}

func TestSourcesFromFlags(t *testing.T) {
	ss, err := SourcesFromFlags(Flags{
		Feeds:  []string{"https://a.example/feed", "https://a.example/other.xml"},
		Starts: []string{"https://b.example/notes/"}, Follow: "a.note", Depth: 2, Tags: []string{"x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 || ss[0].Name != "a.example" || ss[1].Name != "a.example#2" || ss[2].Name != "b.example" {
		t.Fatalf("sources = %+v", ss)
	}
	if st := ss[2]; st.Follow != "a.note" || st.Depth != 2 || st.MaxPages != DefaultMaxPages || st.Tags[0] != "x" {
		t.Errorf("start source = %+v", st)
	}
	for _, tc := range []struct {
		f    Flags
		want string
	}{
		{Flags{}, "no source"},
		{Flags{Feeds: []string{"https://a.example/"}, Follow: "a"}, "--follow and --depth need --start"},
		{Flags{Starts: []string{"https://a.example/"}, Follow: "a[", Depth: 1}, `--start https://a.example/: follow: bad CSS selector`},
		{Flags{Sitemaps: []string{"ftp://a.example/s.xml"}}, "not an http(s) URL"},
	} {
		if _, err := SourcesFromFlags(tc.f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.f, err, tc.want)
		}
	}
}
