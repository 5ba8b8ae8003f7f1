package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/compare"
	"github.com/thesisdb/thesisdb/store"
)

func TestPagesAnswerWithSecurityHeaders(t *testing.T) {
	f := newFixture(t, Config{})
	for _, path := range []string{"/", "/?q=spreads", "/?stance=bearish&sort=title&order=asc", fmt.Sprintf("/documents/%d", f.plain),
		fmt.Sprintf("/documents/%d?run=%d", f.plain, f.run), fmt.Sprintf("/documents/%d", f.failed), "/runs",
		fmt.Sprintf("/runs/%d", f.run), "/failures", "/failures?run=1", "/sql", "/sql?sql=SELECT+1"} {
		w := f.get(path)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: status %d: %s", path, w.Code, w.Body)
			continue
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		csp := w.Header().Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP allows inline code: %q", path, csp)
		}
		if w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
		}
		// No inline script or style anywhere: the CSP would block it.
		body := w.Body.String()
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]|<[a-z][^>]*\s(style|on[a-z]+)=`).MatchString(body) {
			t.Errorf("GET %s: inline script, style or handler in the page", path)
		}
	}
	for path, code := range map[string]int{"/documents/999": 404, "/documents/abc": 404, "/runs/999": 404, "/?stance=sideways": 400,
		"/?from=yesterday": 400, "/?sort=random": 400, "/?q=%22unbalanced": 400, "/nowhere": 404} {
		if w := f.get(path); w.Code != code {
			t.Errorf("GET %s: status %d, want %d", path, w.Code, code)
		}
	}
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type %q, want JSON; body %s", ct, w.Body)
	}
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
	return v
}

func docIDs(docs []store.DocumentRow) []int64 {
	ids := make([]int64, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids
}

func TestAPIDocumentsFilters(t *testing.T) {
	f := newFixture(t, Config{})
	all := []int64{f.plain, f.unicode, f.hostile, f.paged, f.failed}
	cases := []struct {
		query string
		want  []int64
	}{
		// newest published first, undated last
		{"", []int64{f.plain, f.unicode, f.hostile, f.paged, f.failed}},
		// NULLs first ascending, as SQLite (and the index) orders them
		{"order=asc", []int64{f.failed, f.paged, f.hostile, f.unicode, f.plain}},
		{"sort=id&order=asc", all},
		{"sort=title&order=asc", []int64{f.hostile, f.paged, f.failed, f.plain, f.unicode}},
		{"q=spreads", []int64{f.plain, f.hostile}},
		{"q=revenue+OR+ebitda", []int64{f.unicode, f.paged}},
		{"stance=bearish", []int64{f.hostile}},
		// plain's current extraction (run 2) is neutral, not bullish
		{"stance=bullish", []int64{}},
		{"stance=neutral", []int64{f.plain, f.paged}},
		{"perspective=CREDIT", []int64{f.plain}},
		{"tag=credit", []int64{f.plain}},
		{"tag=cred", []int64{}},
		{"source=FILINGS", []int64{f.paged}},
		{"from=2026-02-01", []int64{f.plain, f.unicode}},
		{"to=2026-01-15", []int64{f.hostile, f.paged}},
		{fmt.Sprintf("run=%d", f.run2), []int64{f.plain}},
		{fmt.Sprintf("run=%d&q=credit", f.run), []int64{f.plain}},
	}
	for _, c := range cases {
		w := f.get("/api/documents?" + c.query)
		if w.Code != 200 {
			t.Errorf("%s: status %d: %s", c.query, w.Code, w.Body)
			continue
		}
		got := decode[documentsJSON](t, w)
		if fmt.Sprint(docIDs(got.Documents)) != fmt.Sprint(c.want) {
			t.Errorf("%s: documents %v, want %v", c.query, docIDs(got.Documents), c.want)
		}
	}

	// Pagination: pages of two, followed by their next links.
	var seen []int64
	next := "/api/documents?limit=2&sort=id&order=asc"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		got := decode[documentsJSON](t, f.get(next))
		if len(got.Documents) > 2 {
			t.Fatalf("page of %d documents, limit 2", len(got.Documents))
		}
		seen = append(seen, docIDs(got.Documents)...)
		next = got.Next
	}
	if fmt.Sprint(seen) != fmt.Sprint(all) {
		t.Errorf("pages gave %v, want %v", seen, all)
	}

	// The row's fields.
	got := decode[documentsJSON](t, f.get("/api/documents?q=spreads&sort=id&order=asc"))
	d := got.Documents[0]
	if d.Title != "Credit Outlook" || d.Kind != "text" || d.RunID != f.run2 || d.DataPoints != 1 || d.Grounded != 1 ||
		fmt.Sprint(d.Stances) != "[neutral]" || d.Tags != "clients,credit" || !strings.Contains(d.Snippet, "\x01spreads\x02") {
		t.Errorf("row %+v", d)
	}
	for _, q := range []string{"stance=x", "limit=501", "offset=-1", "run=x", "from=2026-13-01", "q=%22open"} {
		w := f.get("/api/documents?" + q)
		if w.Code != 400 || !strings.Contains(decode[map[string]string](t, w)["error"], "") || decode[map[string]string](t, w)["error"] == "" {
			t.Errorf("%s: status %d %s, want 400 with an error", q, w.Code, w.Body)
		}
	}
}

func TestAPIDocument(t *testing.T) {
	f := newFixture(t, Config{})
	d := decode[documentJSON](t, f.get(fmt.Sprintf("/api/documents/%d", f.unicode)))
	if d.Title != "Umsatz €" || d.Kind != "markdown" || d.Text != unicodeText || d.Extraction == nil || !d.Extraction.Current {
		t.Fatalf("document %+v", d.DocumentDetail)
	}
	if len(d.Theses) != 1 || len(d.Theses[0].DataPoints) != 2 {
		t.Fatalf("theses %+v", d.Theses)
	}
	runes := []rune(d.Text)
	for _, p := range d.Theses[0].DataPoints {
		if p.CharStart == nil || string(runes[*p.CharStart:*p.CharEnd]) != p.Quote {
			t.Errorf("data point %d: char_start/char_end do not locate its quote %q in runes", p.ID, p.Quote)
		}
	}

	// The current extraction and an older run's.
	cur := decode[documentJSON](t, f.get(fmt.Sprintf("/api/documents/%d", f.plain)))
	old := decode[documentJSON](t, f.get(fmt.Sprintf("/api/documents/%d?run=%d", f.plain, f.run)))
	if cur.Extraction.RunID != f.run2 || len(cur.Theses[0].DataPoints) != 1 || cur.Theses[0].Stance != "neutral" {
		t.Errorf("current extraction: %+v %+v", cur.Extraction, cur.Theses)
	}
	if old.Extraction.RunID != f.run || old.Extraction.Current || len(old.Theses[0].DataPoints) != 3 || len(old.Theses[0].Views) != 2 {
		t.Errorf("run %d extraction: %+v %+v", f.run, old.Extraction, old.Theses)
	}
	if len(cur.Extractions) != 2 {
		t.Errorf("extractions %+v, want 2", cur.Extractions)
	}
	ung := old.Theses[0].DataPoints[2]
	if ung.Grounded || ung.CharStart != nil {
		t.Errorf("ungrounded data point %+v", ung)
	}
	p := decode[documentJSON](t, f.get(fmt.Sprintf("/api/documents/%d", f.paged)))
	if fmt.Sprint(p.PageStarts) != "[0 34]" || *p.Theses[0].DataPoints[0].Page != 1 || *p.Theses[0].DataPoints[1].Page != 2 {
		t.Errorf("pages %v, data points %+v", p.PageStarts, p.Theses[0].DataPoints)
	}
	failed := decode[documentJSON](t, f.get(fmt.Sprintf("/api/documents/%d", f.failed)))
	if failed.Extraction != nil || len(failed.Theses) != 0 || len(failed.Extractions) != 1 || failed.Extractions[0].Status != "failed" {
		t.Errorf("failed document %+v", failed.DocumentDetail)
	}
	for path, code := range map[string]int{"/api/documents/999": 404, "/api/documents/x": 404,
		fmt.Sprintf("/api/documents/%d?run=%d", f.unicode, f.run2): 404} {
		w := f.get(path)
		if w.Code != code || decode[map[string]string](t, w)["error"] == "" {
			t.Errorf("%s: %d %s, want %d with an error", path, w.Code, w.Body, code)
		}
	}
}

func TestAPIRunsAndFailures(t *testing.T) {
	f := newFixture(t, Config{})
	runs := decode[map[string][]runJSON](t, f.get("/api/runs"))["runs"]
	if len(runs) != 2 || runs[0].ID != f.run2 || runs[1].ID != f.run {
		t.Fatalf("runs %+v", runs)
	}
	r := runs[1]
	if r.Status != "done" || r.DocumentsOK != 4 || r.DocumentsFailed != 2 || r.DataPoints != 8 || r.Ungrounded != 1 || r.Kind != "ingest" {
		t.Errorf("run %+v", r)
	}
	one := decode[runJSON](t, f.get(fmt.Sprintf("/api/runs/%d", f.run2)))
	if one.ID != f.run2 || one.Status != "running" || one.PromptVersion != "v2" {
		t.Errorf("run %+v", one)
	}
	if w := f.get("/api/runs/77"); w.Code != 404 {
		t.Errorf("unknown run: %d", w.Code)
	}
	fails := decode[failuresJSON](t, f.get("/api/failures"))
	if len(fails.Failures) != 2 {
		t.Fatalf("failures %+v", fails)
	}
	stages := map[string]store.FailureRow{}
	for _, x := range fails.Failures {
		stages[x.Stage] = x
	}
	if stages["extract"].DocumentID != f.failed || !strings.Contains(stages["extract"].Error, "garbage") || stages["load"].Error != "not a PDF" {
		t.Errorf("failures %+v", fails.Failures)
	}
	if got := decode[failuresJSON](t, f.get(fmt.Sprintf("/api/failures?run=%d", f.run2))); len(got.Failures) != 0 {
		t.Errorf("failures of run 2: %+v", got)
	}
	if got := decode[failuresJSON](t, f.get("/api/failures?limit=1")); len(got.Failures) != 1 || got.Next == "" {
		t.Errorf("first page of one failure: %+v", got)
	}
}

func TestHostileDocumentIsEscaped(t *testing.T) {
	f := newFixture(t, Config{})
	for _, path := range []string{fmt.Sprintf("/documents/%d", f.hostile), "/", "/?q=hostile", "/failures",
		fmt.Sprintf("/documents/%d", f.failed), fmt.Sprintf("/runs/%d", f.run),
		"/sql?sql=" + url.QueryEscape(`SELECT '<script>alert(1)</script>' AS "<img src=x onerror=alert(2)>"`)} {
		w := f.get(path)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d", path, w.Code)
		}
		body := w.Body.String()
		for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript:`, "<b>tag</b>", "<i>now</i>", `<a href="javascript`} {
			if strings.Contains(body, bad) {
				t.Errorf("GET %s: the page holds %q unescaped", path, bad)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(") && !strings.Contains(body, "&lt;img src=x") {
			t.Errorf("GET %s: the hostile strings are not shown as text", path)
		}
	}
	// Every hostile field is on the document page, as text.
	body := f.get(fmt.Sprintf("/documents/%d", f.hostile)).Body.String()
	for _, s := range []string{`<script>alert("title")</script>`, `<img src=x onerror=alert("author")>`, "javascript:alert('source')",
		"javascript:alert('canonical')", "<script>alert('warning')</script>", `<img src=x onerror=alert("statement")>`,
		"<script>alert('persp')</script>", `<script>alert("indicator")</script>`, `<a href="javascript:alert('impl')">x</a>`,
		"<script>alert('text')</script>"} {
		if !strings.Contains(html.UnescapeString(body), s) {
			t.Errorf("document page does not show %q", s)
		}
	}
	// The API returns the strings as they are, in JSON.
	d := decode[documentJSON](t, f.get(fmt.Sprintf("/api/documents/%d", f.hostile)))
	if d.Title != `<script>alert("title")</script>` {
		t.Errorf("API title %q", d.Title)
	}
}

var markRE = regexp.MustCompile(`<span class="anchor" id="q-(\d+)"></span><mark class="q[^"]*" data-dp="([\d ]+)">([^<]*)</mark>`)

func TestDocumentPageHighlightsQuotes(t *testing.T) {
	f := newFixture(t, Config{})
	for _, id := range []int64{f.unicode, f.paged, f.hostile} {
		d := decode[documentJSON](t, f.get(fmt.Sprintf("/api/documents/%d", id)))
		body := f.get(fmt.Sprintf("/documents/%d", id)).Body.String()
		marks := map[string]string{}
		for _, m := range markRE.FindAllStringSubmatch(body, -1) {
			marks[m[1]] = html.UnescapeString(m[3])
		}
		for _, p := range d.Theses[0].DataPoints {
			pid := fmt.Sprint(p.ID)
			if marks[pid] != p.Quote {
				t.Errorf("document %d data point %d: highlighted %q, want its quote %q", id, p.ID, marks[pid], p.Quote)
			}
			if !strings.Contains(body, fmt.Sprintf(`<tr class="dp" id="dp-%d" data-dp="%d">`, p.ID, p.ID)) {
				t.Errorf("document %d: no row with id dp-%d", id, p.ID)
			}
			if !strings.Contains(body, fmt.Sprintf(`href="#q-%d"`, p.ID)) {
				t.Errorf("document %d: row %d does not link to its passage", id, p.ID)
			}
		}
	}
	// Page markers stand where the pages start, and rows name their page.
	body := f.get(fmt.Sprintf("/documents/%d", f.paged)).Body.String()
	if !strings.Contains(body, `<span class="page" id="page-2">p. 2</span>Page two starts`) || !strings.Contains(body, `href="#page-2">p. 2</a>`) {
		t.Errorf("page 2 is not marked in the text or the table")
	}
	// The ungrounded figure is flagged and has no passage.
	body = f.get(fmt.Sprintf("/documents/%d?run=%d", f.plain, f.run)).Body.String()
	if !strings.Contains(body, `class="dp ungrounded"`) || !strings.Contains(body, ">ungrounded</span>") {
		t.Errorf("the ungrounded data point is not flagged")
	}
}

func TestSegmentsOverlapAndClamp(t *testing.T) {
	text := "αβγ δεζ ηθι"
	dp := func(id int64, s, e int, g bool) store.DataPointRow {
		return store.DataPointRow{ID: id, CharStart: ptr(s), CharEnd: ptr(e), Grounded: g}
	}
	theses := []store.ThesisDetail{{DataPoints: []store.DataPointRow{dp(1, 0, 7, true), dp(2, 4, 11, false), dp(3, 9, 99, true),
		{ID: 4}, dp(5, 5, 5, true)}}}
	segs := segments(text, theses, []int{0, 6})
	var all strings.Builder
	by := map[string]string{}
	for _, s := range segs {
		all.WriteString(s.Text)
		for _, id := range strings.Fields(s.DPs) {
			by[id] += s.Text
		}
	}
	if all.String() != text {
		t.Fatalf("segments join to %q", all.String())
	}
	runes := []rune(text)
	want := map[string]string{"1": string(runes[0:7]), "2": string(runes[4:11]), "3": string(runes[9:])}
	for id, w := range want {
		if by[id] != w {
			t.Errorf("data point %s covers %q, want %q", id, by[id], w)
		}
	}
	if _, ok := by["4"]; ok {
		t.Error("a data point without a position is highlighted")
	}
	if segs[0].Page != 1 {
		t.Errorf("first segment page %d", segs[0].Page)
	}
	pages := 0
	for _, s := range segs {
		if s.Page == 2 && strings.HasPrefix(string([]rune(text)[6:]), s.Text[:len(s.Text)]) {
			pages++
		}
	}
	if pages != 1 {
		t.Errorf("page 2 does not start at rune 6: %+v", segs)
	}
}

func TestSQL(t *testing.T) {
	f := newFixture(t, Config{MaxRows: 3, QueryTimeout: 200 * time.Millisecond})
	res := decode[queryResult](t, f.get("/api/query?sql="+url.QueryEscape("SELECT id, title FROM documents ORDER BY id")))
	if fmt.Sprint(res.Columns) != "[id title]" || len(res.Rows) != 3 || !res.Truncated || !res.CutRows {
		t.Errorf("result %+v, want 3 rows cut at the cap", res)
	}
	if res.Rows[0][1] != "Credit Outlook" {
		t.Errorf("first row %v", res.Rows[0])
	}
	for sql, want := range map[string]string{
		"DELETE FROM documents":           "read-only",
		"SELECT 1; SELECT 2":              "statement",
		"ATTACH DATABASE ':memory:' AS x": "read-only",
		"SELECT nope FROM documents":      "no such column",
		"":                                "no SQL",
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c": "timeout",
	} {
		w := f.get("/api/query?sql=" + url.QueryEscape(sql))
		if msg := decode[map[string]string](t, w)["error"]; w.Code != 400 || !strings.Contains(msg, want) {
			t.Errorf("%q: %d %q, want 400 mentioning %q", sql, w.Code, msg, want)
		}
	}
	if n := decode[queryResult](t, f.get("/api/query?sql=SELECT+count(*)+FROM+documents")).Rows[0][0]; n != float64(5) {
		t.Errorf("the refused DELETE changed the database: %v documents", n)
	}
	// The page shows refusals as messages, not failures.
	if w := f.get("/sql?sql=DROP+TABLE+runs"); w.Code != 200 || !strings.Contains(w.Body.String(), "read-only") {
		t.Errorf("refused statement on the page: %d", w.Code)
	}

	w := f.get("/sql/download?format=csv&sql=" + url.QueryEscape("SELECT id, title, x'00ff' AS b FROM documents ORDER BY id"))
	if w.Code != 200 || w.Header().Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(w.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSV download: %d %v", w.Code, w.Header())
	}
	recs, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil || len(recs) != 4 || fmt.Sprint(recs[0]) != "[id title b]" || recs[1][1] != "Credit Outlook" || recs[1][2] != "AP8=" {
		t.Errorf("CSV %q (%v)", w.Body, err)
	}
	w = f.get("/sql/download?format=json&sql=" + url.QueryEscape("SELECT id, title FROM documents WHERE id < 3 ORDER BY id"))
	var objs []map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &objs); err != nil || len(objs) != 2 || objs[1]["title"] != "Umsatz €" ||
		w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("JSON download %s (%v)", w.Body, err)
	}
	w = f.get("/sql/download?format=json&sql=" + url.QueryEscape("SELECT 1 WHERE 0"))
	if strings.TrimSpace(w.Body.String()) != "[]" {
		t.Errorf("empty JSON download %q", w.Body)
	}
	if w := f.get("/sql/download?format=xml&sql=SELECT+1"); w.Code != 400 {
		t.Errorf("format=xml: %d", w.Code)
	}
	if w := f.get("/sql/download?sql=DELETE+FROM+runs"); w.Code != 400 {
		t.Errorf("download of a write: %d", w.Code)
	}
}

// The SQL page's presets are the README's example queries and run.
func TestPresetsAreTheREADMEQueries(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### Example queries")
	if !ok {
		t.Fatal("README has no Example queries section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sql\n(.*?)\n```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	f := newFixture(t, Config{})
	for i, p := range presets {
		if i >= len(blocks) || blocks[i] != p.SQL {
			t.Errorf("preset %d %q is not the README's example query %d", i, p.Name, i)
		}
		if w := f.get("/api/query?sql=" + url.QueryEscape(p.SQL)); w.Code != 200 {
			t.Errorf("preset %q: %d %s", p.Name, w.Code, w.Body)
		}
	}
	if len(blocks) != len(presets) {
		t.Errorf("README has %d example queries, the SQL page %d presets", len(blocks), len(presets))
	}
}

func TestStaticAssets(t *testing.T) {
	f := newFixture(t, Config{})
	for path, ct := range map[string]string{"/static/app.js": "text/javascript; charset=utf-8", "/static/app.css": "text/css; charset=utf-8"} {
		w := f.get(path)
		if w.Code != 200 || w.Header().Get("Content-Type") != ct || w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d %q", path, w.Code, w.Header().Get("Content-Type"))
		}
	}
	for _, path := range []string{"/static/", "/static/nope.js", "/static/../server.go"} {
		if w := f.get(path); w.Code != 404 && w.Code != 301 && w.Code != 307 {
			t.Errorf("%s: %d", path, w.Code)
		}
	}
}

func TestDiff(t *testing.T) {
	f := newFixture(t, Config{})
	rep := decode[compare.DiffReport](t, f.get(fmt.Sprintf("/api/diff?a=%d&b=%d", f.run, f.run2)))
	if rep.RunA != f.run || rep.RunB != f.run2 || rep.Summary.Compared != 1 || rep.Summary.Changed != 1 || rep.Summary.OnlyA != 3 {
		t.Fatalf("report summary %+v", rep.Summary)
	}
	var plain *compare.DiffDocument
	for i := range rep.Documents {
		if rep.Documents[i].DocumentID == f.plain {
			plain = &rep.Documents[i]
		}
	}
	if plain == nil || plain.Status != compare.DocChanged || plain.Diff == nil {
		t.Fatalf("plain note in the diff: %+v", plain)
	}
	_, removed, _ := plain.Diff.Count()
	if removed != 2 || len(plain.Diff.Theses) != 1 || plain.Diff.Theses[0].Changes[0].Field != "stance" {
		t.Errorf("plain note's diff %+v", plain.Diff)
	}
	w := f.get(fmt.Sprintf("/diff?a=%d&b=%d", f.run, f.run2))
	body := html.UnescapeString(w.Body.String())
	if w.Code != 200 || !strings.Contains(body, "data point Small cap P/E") || !strings.Contains(body, "bullish") ||
		!strings.Contains(body, "1 changed") || strings.Contains(body, "Umsatz €") {
		t.Errorf("diff page %d lacks the change or lists unchanged documents:\n%s", w.Code, body)
	}
	if body := html.UnescapeString(f.get(fmt.Sprintf("/diff?a=%d&b=%d&all=1", f.run, f.run2)).Body.String()); !strings.Contains(body, "Umsatz €") {
		t.Errorf("diff page with all=1 does not list documents of one run")
	}
	// Without runs named, the form proposes the latest two.
	if w := f.get("/diff"); w.Code != 200 || !strings.Contains(w.Body.String(), fmt.Sprintf(`<option value="%d" selected>`, f.run2)) {
		t.Errorf("diff form: %d", w.Code)
	}
	for path, code := range map[string]int{"/api/diff": 400, "/api/diff?a=1": 400, "/api/diff?a=1&b=x": 400, "/api/diff?a=1&b=99": 404, "/diff?a=99&b=1": 404} {
		if w := f.get(path); w.Code != code {
			t.Errorf("%s: %d, want %d", path, w.Code, code)
		}
	}
}

// A running run's counts are marked for the script to refresh, and the
// page reloads itself when scripts are off; a finished run's page does
// neither.
func TestRunningRunRefreshes(t *testing.T) {
	f := newFixture(t, Config{})
	for _, path := range []string{"/runs", fmt.Sprintf("/runs/%d", f.run2)} {
		body := f.get(path).Body.String()
		if !strings.Contains(body, fmt.Sprintf(`data-running="%d"`, f.run2)) || !strings.Contains(body, `<noscript><meta http-equiv="refresh" content="5"></noscript>`) ||
			!strings.Contains(body, `data-field="documents_ok"`) {
			t.Errorf("%s: the running run is not marked for refreshing", path)
		}
	}
	body := f.get(fmt.Sprintf("/runs/%d", f.run)).Body.String()
	if strings.Contains(body, "data-running") || strings.Contains(body, "refresh") {
		t.Errorf("a finished run's page refreshes")
	}
}

func TestDiffCachedOnlyForFinishedRuns(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	r1, err := f.srv.diff(ctx, f.run, f.run2)
	if err != nil {
		t.Fatal(err)
	}
	if r2, _ := f.srv.diff(ctx, f.run, f.run2); r2 == r1 {
		t.Error("the diff of a running run was cached")
	}
	if err := f.db.SetRunStatus(ctx, f.run2, store.RunDone); err != nil {
		t.Fatal(err)
	}
	r3, _ := f.srv.diff(ctx, f.run, f.run2)
	if r4, _ := f.srv.diff(ctx, f.run, f.run2); r4 != r3 {
		t.Error("the diff of two finished runs was computed again")
	}
	if r5, _ := f.srv.diff(ctx, f.run2, f.run); r5 == r3 || r5.RunA != f.run2 {
		t.Error("the reverse diff came from the cache")
	}
}
