package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/thesisdb/thesisdb/internal/rowfmt"
	"github.com/thesisdb/thesisdb/store"
)

// pageNames are the templates in templates/ that are pages; each is
// parsed with layout.html and every partial in templates/partials/.
var pageNames = []string{"documents.html", "document.html", "runs.html", "run.html", "diff.html", "failures.html", "sql.html", "error.html"}

var funcs = template.FuncMap{
	"score": func(f *float64) string {
		if f == nil {
			return "—"
		}
		return strconv.FormatFloat(*f, 'f', 2, 64)
	},
	"num": func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'g', -1, 64)
	},
	"str": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	"intp": func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	},
	"cost": func(f *float64) string {
		if f == nil {
			return "unknown"
		}
		return fmt.Sprintf("$%.4f", *f)
	},
	"snippet": snippetParts,
	"cell":    rowfmt.CellText,
	"join":    strings.Join,
	"pct": func(n, d int) string {
		if d == 0 {
			return "—"
		}
		return fmt.Sprintf("%d%%", n*100/d)
	},
	"dpctx": func(page any, dp store.DataPointRow) dpContext { return dpContext{Page: page, DP: dp} },
}

// dpContext is what a data point row's "dp-review" block receives: the
// whole page's data and the row's data point.
type dpContext struct {
	Page any
	DP   store.DataPointRow
}

func parsePages() (map[string]*template.Template, error) {
	partials, err := fs.Glob(assets, "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		// The page after the layout, the partials last: a partial
		// defining a block the page declares (such as "reviews") fills it.
		files := append([]string{"templates/layout.html", "templates/" + name}, partials...)
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, files...)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// base is what every page's layout reads.
type base struct {
	Title  string
	Nav    string
	CSRF   string
	Review bool
	// Refresh, when > 0, reloads the page after that many seconds when
	// scripts are off (a running run's progress).
	Refresh int
}

func (s *Server) base(w http.ResponseWriter, r *http.Request, title, nav string) base {
	return base{Title: title, Nav: nav, CSRF: s.CSRFToken(w, r), Review: s.cfg.Review}
}

// render executes page with data, buffered so that a template error
// becomes a 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("render", "page", page, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// pageError renders an error page with err's status.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := s.status(r, err)
	data := struct {
		base
		Code    int
		Message string
	}{s.base(w, r, http.StatusText(code), ""), code, msg}
	var buf bytes.Buffer
	if err := s.pages["error.html"].ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, msg, code)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// pathID is the {id} of the request's path, a positive integer.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("no such id: %q", r.PathValue("id"))
	}
	return id, nil
}

// intParam reads a non-negative integer parameter (0 when absent).
func intParam(q url.Values, name string) (int64, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest("%s=%q: want a whole number", name, v)
	}
	return n, nil
}

var stances = []string{"bullish", "bearish", "neutral", "mixed"}

// documentFilter reads the document list's parameters.
func documentFilter(q url.Values) (store.DocumentFilter, error) {
	f := store.DocumentFilter{
		Search:      strings.TrimSpace(q.Get("q")),
		Stance:      q.Get("stance"),
		Perspective: strings.TrimSpace(q.Get("perspective")),
		Tag:         strings.TrimSpace(q.Get("tag")),
		Source:      strings.TrimSpace(q.Get("source")),
		From:        strings.TrimSpace(q.Get("from")),
		To:          strings.TrimSpace(q.Get("to")),
		Sort:        q.Get("sort"),
		Asc:         q.Get("order") == "asc",
	}
	if f.Stance != "" && !contains(stances, f.Stance) {
		return f, badRequest("stance=%q: want bullish, bearish, neutral or mixed", f.Stance)
	}
	if _, ok := store.DocumentSorts[f.Sort]; f.Sort != "" && !ok {
		return f, badRequest("sort=%q: want published, title, ingested, data_points or id", f.Sort)
	}
	for _, d := range []struct{ name, v string }{{"from", f.From}, {"to", f.To}} {
		if d.v != "" {
			if _, err := time.Parse("2006-01-02", d.v); err != nil {
				return f, badRequest("%s=%q: want a date YYYY-MM-DD", d.name, d.v)
			}
		}
	}
	run, err := intParam(q, "run")
	if err != nil {
		return f, err
	}
	f.Run = run
	limit, err := intParam(q, "limit")
	if err != nil {
		return f, err
	}
	if limit > 500 {
		return f, badRequest("limit=%d: at most 500", limit)
	}
	offset, err := intParam(q, "offset")
	if err != nil {
		return f, err
	}
	f.Limit, f.Offset = int(limit), int(offset)
	if f.Limit == 0 {
		f.Limit = 50
	}
	return f, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// withParam returns the request's path and query with name set to value
// (removed when value is "").
func withParam(r *http.Request, name, value string) string {
	q := r.URL.Query()
	q.Del("token")
	if value == "" {
		q.Del(name)
	} else {
		q.Set(name, value)
	}
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}

type documentsView struct {
	base
	Filter   store.DocumentFilter
	Docs     []store.DocumentRow
	Facets   *store.Facets
	Stances  []string
	Sorts    []string
	Prev     string
	Next     string
	APILink  string
	First    int
	Searched bool
}

func (s *Server) documentsPage(w http.ResponseWriter, r *http.Request) {
	f, err := documentFilter(r.URL.Query())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	docs, more, err := s.r.BrowseDocuments(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	facets, err := s.r.BrowseFacets(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v := documentsView{
		base: s.base(w, r, "Documents", "documents"), Filter: f, Docs: docs, Facets: facets,
		Stances: stances, Sorts: []string{"published", "title", "ingested", "data_points", "id"},
		First: f.Offset + 1, Searched: f.Search != "",
	}
	if f.Offset > 0 {
		v.Prev = withParam(r, "offset", strconv.Itoa(max(f.Offset-f.Limit, 0)))
	}
	if more {
		v.Next = withParam(r, "offset", strconv.Itoa(f.Offset+f.Limit))
	}
	api := url.URL{Path: "/api/documents", RawQuery: r.URL.RawQuery}
	v.APILink = api.String()
	s.render(w, r, "documents.html", v)
}

// documentView is the document page's data; review templates read it.
type documentView struct {
	base
	Doc      *store.DocumentDetail
	Segments []segment
	// Run is the run whose extraction is shown (0: the current one).
	Run        int64
	DataPoints int
	Ungrounded int
	// Reviews is what reviewData returned for the document.
	Reviews any
}

func (s *Server) documentPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	run, err := intParam(r.URL.Query(), "run")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d, err := s.r.DocumentDetail(r.Context(), id, run)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	title := d.Title
	if title == "" {
		title = path.Base(d.Source)
	}
	v := documentView{base: s.base(w, r, title, "documents"), Doc: d, Run: run,
		Segments: segments(d.Text, d.Theses, d.PageStarts)}
	for _, t := range d.Theses {
		for _, p := range t.DataPoints {
			v.DataPoints++
			if !p.Grounded {
				v.Ungrounded++
			}
		}
	}
	if v.Reviews, err = s.reviewData(r.Context(), d); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, "document.html", v)
}

type runsView struct {
	base
	Runs    []store.Run
	Running bool
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	runs, err := s.r.BrowseRuns(r.Context(), 500)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v := runsView{base: s.base(w, r, "Runs", "runs"), Runs: runs}
	for _, run := range runs {
		if run.Status == store.RunRunning {
			v.Running = true
			v.Refresh = 5
		}
	}
	s.render(w, r, "runs.html", v)
}

type runView struct {
	base
	Run      *store.Run
	Failures []store.FailureRow
	More     bool
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	run, err := s.r.RunByID(r.Context(), id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	fails, more, err := s.r.BrowseFailures(r.Context(), id, 100, 0)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v := runView{base: s.base(w, r, fmt.Sprintf("Run %d", id), "runs"), Run: run, Failures: fails, More: more}
	if run.Status == store.RunRunning {
		v.Refresh = 5
	}
	s.render(w, r, "run.html", v)
}

type failuresView struct {
	base
	Failures []store.FailureRow
	Run      int64
	Prev     string
	Next     string
}

func (s *Server) failuresPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	run, err := intParam(q, "run")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	offset, err := intParam(q, "offset")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	const limit = 100
	fails, more, err := s.r.BrowseFailures(r.Context(), run, limit, int(offset))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v := failuresView{base: s.base(w, r, "Failures", "failures"), Failures: fails, Run: run}
	if offset > 0 {
		v.Prev = withParam(r, "offset", strconv.FormatInt(max(offset-limit, 0), 10))
	}
	if more {
		v.Next = withParam(r, "offset", strconv.FormatInt(offset+limit, 10))
	}
	s.render(w, r, "failures.html", v)
}

// snippetPart is a piece of a search snippet: a match or the text around.
type snippetPart struct {
	Text string
	Hit  bool
}

// snippetParts splits a snippet whose matches stand between \x01 and
// \x02 into parts, so the template escapes each.
func snippetParts(s string) []snippetPart {
	var out []snippetPart
	for s != "" {
		i := strings.IndexByte(s, 1)
		if i < 0 {
			out = append(out, snippetPart{Text: s})
			break
		}
		if i > 0 {
			out = append(out, snippetPart{Text: s[:i]})
		}
		s = s[i+1:]
		j := strings.IndexByte(s, 2)
		if j < 0 {
			j = len(s)
		}
		out = append(out, snippetPart{Text: s[:j], Hit: true})
		s = strings.TrimPrefix(s[j:], "\x02")
	}
	return out
}

// staticHandler serves the embedded assets with a short cache lifetime.
func staticHandler(fsys fs.FS) http.Handler {
	fsrv := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "max-age=300")
		fsrv.ServeHTTP(w, r)
	})
}
