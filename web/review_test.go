package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// reviewDocText is the text of the document the review tests store; the
// quotes of its data points are lines of it.
const reviewDocText = "Credit outlook.\nHigh-yield spreads stand at 284 bps.\nSmall caps trade at 18x earnings.\nDefaults run at 3.1%."

// reviewFixture is a database holding one document with one thesis and
// three data points.
type reviewFixture struct {
	path                 string
	db                   *store.DB
	doc, thesis          int64
	hy, pe, def          int64 // data point ids
	extractionSignature  string
	extractionSignatureQ string
}

func newReviewFixture(t *testing.T) *reviewFixture {
	t.Helper()
	ctx := context.Background()
	f := &reviewFixture{path: filepath.Join(t.TempDir(), "t.sqlite")}
	db, err := store.Open(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db = db
	run, err := db.StartRun(ctx, store.RunSpec{Kind: "ingest", Extractor: "rules", PromptVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	quote := func(s string) (string, *schema.Grounding) {
		i := strings.Index(reviewDocText, s)
		start := len([]rune(reviewDocText[:i]))
		return s, &schema.Grounding{Start: start, End: start + len([]rune(s)), Method: "exact", Grounded: true}
	}
	q1, g1 := quote("High-yield spreads stand at 284 bps.")
	q2, g2 := quote("Small caps trade at 18x earnings.")
	q3, g3 := quote("Defaults run at 3.1%.")
	x := &schema.Extraction{Theses: []schema.Thesis{{Title: "Credit holds", Statement: "Spreads stay tight.", Stance: schema.Bullish,
		DataPoints: []schema.DataPoint{
			{Indicator: "HY OAS", Value: "284 bps", Source: ptr("ICE"), Quote: q1, Ground: g1},
			{Indicator: "Small-cap P/E", Value: "18x", Quote: q2, Ground: g2},
			{Indicator: "Default rate", Value: "3.1%", Quote: q3, Ground: g3},
		}}}}
	doc := &schema.Document{Kind: "text", Source: "credit.txt", Title: "Credit outlook", Text: reviewDocText,
		SHA256: strings.Repeat("ab", 32), Bytes: int64(len(reviewDocText))}
	if f.doc, err = db.SaveDocument(ctx, run, doc, store.Outcome{Extraction: x}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetRunStatus(ctx, run, store.RunDone); err != nil {
		t.Fatal(err)
	}
	r, err := db.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Query(ctx, `SELECT thesis_id, data_point_id FROM current_data_points ORDER BY data_point_id`, 0)
	if err != nil || len(res.Rows) != 3 {
		t.Fatalf("fixture data points: %v %v", res, err)
	}
	f.thesis = res.Rows[0][0].(int64)
	f.hy, f.pe, f.def = res.Rows[0][1].(int64), res.Rows[1][1].(int64), res.Rows[2][1].(int64)
	f.extractionSignatureQ = `SELECT group_concat(x, '|') FROM (SELECT json_array(id, indicator, value, source, implication, quote) AS x
		FROM data_points UNION ALL SELECT json_array(id, stance) FROM theses UNION ALL SELECT result FROM extractions)`
	f.extractionSignature = f.query(t, f.extractionSignatureQ)
	return f
}

// query returns the first column of the first row of q.
func (f *reviewFixture) query(t *testing.T, q string) string {
	t.Helper()
	r, err := store.OpenReader(f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Query(context.Background(), q, 1)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return fmt.Sprint(res.Rows[0][0])
}

// serve starts a server on the fixture's database.
func (f *reviewFixture) serve(t *testing.T, review bool) *httptest.Server {
	t.Helper()
	r, err := store.OpenReader(f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cfg := Config{Reader: r, Review: review, Reviewer: "ann"}
	if review {
		cfg.DB = f.db
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// rvBrowser is an HTTP client with cookies that does not follow redirects.
func rvBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func rvGet(t *testing.T, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func rvPost(t *testing.T, c *http.Client, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfFrom opens the document page and returns the CSRF token of its
// review forms (the client now holds the cookie it signs).
func csrfFrom(t *testing.T, c *http.Client, ts *httptest.Server, doc int64) string {
	t.Helper()
	code, body, _ := rvGet(t, c, fmt.Sprintf("%s/documents/%d", ts.URL, doc))
	if code != http.StatusOK {
		t.Fatalf("document page: %d\n%s", code, body)
	}
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the document page has no review form with a CSRF token:\n%s", body)
	}
	return m[1]
}

func (f *reviewFixture) reviewRows(t *testing.T) string {
	return f.query(t, `SELECT (SELECT count(*) FROM data_point_reviews) || '/' || (SELECT count(*) FROM data_point_corrections) || '/' || (SELECT count(*) FROM added_data_points)`)
}

func TestReviewRefusedWithoutCSRF(t *testing.T) {
	f := newReviewFixture(t)
	ts := f.serve(t, true)
	c := rvBrowser(t)
	token := csrfFrom(t, c, ts, f.doc)
	u := fmt.Sprintf("%s/data-points/%d/review", ts.URL, f.hy)
	for name, form := range map[string]url.Values{
		"no token":    {"verdict": {"right"}},
		"wrong token": {"verdict": {"right"}, "csrf": {token + "x"}},
	} {
		code, body, _ := rvPost(t, c, u, form)
		if code != http.StatusForbidden || !strings.Contains(body, "CSRF") {
			t.Errorf("%s: %d %q, want 403 naming CSRF", name, code, body)
		}
	}
	// The right token from another browser (another cookie) is refused too.
	code, _, _ := rvPost(t, rvBrowser(t), u, url.Values{"verdict": {"right"}, "csrf": {token}})
	if code != http.StatusForbidden {
		t.Errorf("token without its cookie: %d, want 403", code)
	}
	// The JSON API needs it as much as the forms.
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/data-points/%d/reviews", ts.URL, f.hy), strings.NewReader(`{"verdict":"right"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("API POST without CSRF header: %d, want 403", resp.StatusCode)
	}
	if got := f.reviewRows(t); got != "0/0/0" {
		t.Errorf("refused requests stored reviews: %s", got)
	}
}

func TestReviewNeedsReviewFlag(t *testing.T) {
	f := newReviewFixture(t)
	ts := f.serve(t, false)
	c := rvBrowser(t)
	// A read-only page has no review form, but a CSRF token from the API.
	code, body, _ := rvGet(t, c, fmt.Sprintf("%s/documents/%d", ts.URL, f.doc))
	if code != http.StatusOK || strings.Contains(body, `action="/data-points/`) {
		t.Fatalf("read-only document page: %d, review form shown: %v", code, strings.Contains(body, `action="/data-points/`))
	}
	code, body, _ = rvGet(t, c, ts.URL+"/api/csrf")
	var tok struct {
		CSRF   string
		Review bool
	}
	if err := json.Unmarshal([]byte(body), &tok); code != http.StatusOK || err != nil || tok.CSRF == "" || tok.Review {
		t.Fatalf("/api/csrf: %d %s", code, body)
	}
	code, body, _ = rvPost(t, c, fmt.Sprintf("%s/data-points/%d/review", ts.URL, f.hy), url.Values{"verdict": {"right"}, "csrf": {tok.CSRF}})
	if code != http.StatusForbidden || !strings.Contains(body, "--review") {
		t.Errorf("review on a read-only server: %d, want 403 saying to start with --review:\n%s", code, body)
	}
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/theses/%d/data-points", ts.URL, f.thesis), strings.NewReader(`{"indicator":"x","value":"1"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(CSRFHeader, tok.CSRF)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" || !strings.Contains(string(b), "--review") {
		t.Errorf("API add on a read-only server: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	if got := f.reviewRows(t); got != "0/0/0" {
		t.Errorf("a read-only server stored reviews: %s", got)
	}
	// Reviews made elsewhere show on the read-only page, without forms.
	if _, err := f.db.ReviewDataPoint(context.Background(), store.ReviewInput{DataPointID: f.pe, Verdict: store.VerdictWrong, Reviewer: "bob"}); err != nil {
		t.Fatal(err)
	}
	code, body, _ = rvGet(t, c, fmt.Sprintf("%s/documents/%d", ts.URL, f.doc))
	if code != http.StatusOK || !strings.Contains(body, `<span class="verdict verdict-wrong"`) || !strings.Contains(body, "Read-only") ||
		strings.Contains(body, `action="/data-points/`) || strings.Contains(body, `action="/theses/`) {
		t.Errorf("read-only page with a review: %d, verdict shown %v, forms shown %v", code,
			strings.Contains(body, `verdict-wrong`), strings.Contains(body, `action="/`))
	}
}

func TestReviewFormsStoreAndShow(t *testing.T) {
	f := newReviewFixture(t)
	ts := f.serve(t, true)
	c := rvBrowser(t)
	token := csrfFrom(t, c, ts, f.doc)
	post := func(path string, form url.Values) string {
		t.Helper()
		form.Set("csrf", token)
		code, body, h := rvPost(t, c, ts.URL+path, form)
		if code != http.StatusSeeOther {
			t.Fatalf("POST %s: %d, want 303:\n%s", path, code, body)
		}
		return h.Get("Location")
	}
	if loc := post(fmt.Sprintf("/data-points/%d/review", f.hy), url.Values{"verdict": {"wrong"}, "note": {"spread is IG"}}); loc != fmt.Sprintf("/documents/%d#dp-%d", f.doc, f.hy) {
		t.Errorf("verdict redirects to %q", loc)
	}
	// A form on the page of an older run's extraction returns to it.
	if loc := post(fmt.Sprintf("/data-points/%d/review", f.def), url.Values{"verdict": {"right"}, "run": {"1"}}); loc != fmt.Sprintf("/documents/%d?run=1#dp-%d", f.doc, f.def) {
		t.Errorf("verdict from run 1's page redirects to %q", loc)
	}
	// The correct form posts every field; only the changed ones count.
	post(fmt.Sprintf("/data-points/%d/review", f.pe), url.Values{"action": {"correct"}, "stance": {"bullish"}, "indicator": {"Small-cap P/E"},
		"value": {"17.5x <script>alert(1)</script>"}, "source": {"FactSet"}, "implication": {""}})
	if loc := post(fmt.Sprintf("/theses/%d/add", f.thesis), url.Values{"indicator": {"IG OAS"}, "value": {"80 bps"}, "quote": {"IG at 80 bps"}}); !strings.HasPrefix(loc, fmt.Sprintf("/documents/%d#added-", f.doc)) {
		t.Errorf("add redirects to %q", loc)
	}
	// A refused review says why and stores nothing.
	code, body, _ := rvPost(t, c, fmt.Sprintf("%s/data-points/%d/review", ts.URL, f.def), url.Values{"csrf": {token}, "verdict": {"perhaps"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "perhaps") {
		t.Errorf("bad verdict: %d\n%s", code, body)
	}

	if got := f.reviewRows(t); got != "3/2/1" {
		t.Errorf("reviews/corrections/added rows = %s, want 3/2/1", got)
	}
	if got := f.query(t, `SELECT group_concat(field || '=' || old_value || '>' || new_value, ';') FROM (SELECT * FROM data_point_corrections ORDER BY field)`); got != "source=>FactSet;value=18x>17.5x <script>alert(1)</script>" {
		t.Errorf("corrections = %q", got)
	}
	if got := f.query(t, `SELECT reviewer FROM data_point_reviews LIMIT 1`); got != "ann" {
		t.Errorf("reviewer = %q, want the server's (ann)", got)
	}
	if got := f.query(t, f.extractionSignatureQ); got != f.extractionSignature {
		t.Error("reviewing changed extraction rows")
	}

	code, page, h := rvGet(t, c, fmt.Sprintf("%s/documents/%d", ts.URL, f.doc))
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("document page: %d %s", code, h.Get("Content-Type"))
	}
	for _, want := range []string{
		`<span class="verdict verdict-wrong"`, `<span class="verdict verdict-corrected"`,
		`17.5x &lt;script&gt;alert(1)&lt;/script&gt;`, `<tr id="added-`, `IG OAS`, `spread is IG`,
		`<del>18x</del>`, `Reviewing as <b>ann</b>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("document page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>alert(1)") {
		t.Error("a corrected value is not escaped")
	}
	// The correct form now starts from the corrected value.
	if !strings.Contains(page, `name="value" value="17.5x &lt;script&gt;alert(1)&lt;/script&gt;"`) {
		t.Error("the correct form does not hold the corrected value")
	}
}

func TestReviewAPI(t *testing.T) {
	f := newReviewFixture(t)
	ts := f.serve(t, true)
	c := rvBrowser(t)
	_, body, _ := rvGet(t, c, ts.URL+"/api/csrf")
	var tok struct{ CSRF string }
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.CSRF == "" {
		t.Fatalf("/api/csrf: %s", body)
	}
	post := func(path, payload string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(CSRFHeader, tok.CSRF)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("POST %s: Content-Type %q", path, ct)
		}
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		return resp.StatusCode, out
	}
	code, out := post(fmt.Sprintf("/api/data-points/%d/reviews", f.pe), `{"corrections": {"value": "17x", "stance": "bearish"}, "reviewer": "bob", "note": "forward P/E"}`)
	if code != http.StatusCreated || out["verdict"] != "corrected" || out["reviewer"] != "bob" || len(out["corrections"].([]any)) != 2 {
		t.Errorf("correction: %d %v", code, out)
	}
	code, out = post(fmt.Sprintf("/api/data-points/%d/reviews", f.hy), `{"verdict": "right"}`)
	if code != http.StatusCreated || out["verdict"] != "right" || out["reviewer"] != "ann" {
		t.Errorf("verdict: %d %v", code, out)
	}
	code, out = post(fmt.Sprintf("/api/theses/%d/data-points", f.thesis), `{"indicator": "IG OAS", "value": "80 bps"}`)
	if code != http.StatusCreated || out["document_id"] != float64(f.doc) || out["id"] == nil {
		t.Errorf("add: %d %v", code, out)
	}
	for _, bad := range []struct {
		path, body string
		code       int
	}{
		{fmt.Sprintf("/api/data-points/%d/reviews", f.hy), `{"verdict": "maybe"}`, 400},
		{fmt.Sprintf("/api/data-points/%d/reviews", f.hy), `{"corrections": {"quote": "x"}}`, 400},
		{fmt.Sprintf("/api/data-points/%d/reviews", f.hy), `{"verdict": "right", "extra": 1}`, 400},
		{"/api/data-points/99999/reviews", `{"verdict": "right"}`, 404},
		{"/api/theses/99999/data-points", `{"indicator": "x", "value": "1"}`, 404},
		{fmt.Sprintf("/api/theses/%d/data-points", f.thesis), `{"indicator": "x"}`, 400},
	} {
		code, out := post(bad.path, bad.body)
		if code != bad.code || out["error"] == nil {
			t.Errorf("POST %s %s: %d %v, want %d with an error", bad.path, bad.body, code, out, bad.code)
		}
	}

	// The document's API answer carries the reviews of its extraction.
	code, body, _ = rvGet(t, c, fmt.Sprintf("%s/api/documents/%d", ts.URL, f.doc))
	var doc struct {
		Reviews struct {
			Enabled bool
			State   map[string]store.ReviewState
			Reviews []map[string]any
			Added   []store.AddedDataPoint
		}
	}
	if err := json.Unmarshal([]byte(body), &doc); code != http.StatusOK || err != nil {
		t.Fatalf("/api/documents/%d: %d %v\n%s", f.doc, code, err, body)
	}
	st := doc.Reviews.State[fmt.Sprint(f.pe)]
	if !doc.Reviews.Enabled || st.Verdict != "corrected" || st.Fields["value"] != "17x" || st.Fields["stance"] != "bearish" ||
		len(doc.Reviews.Reviews) != 2 || doc.Reviews.Reviews[0]["indicator"] != "HY OAS" || len(doc.Reviews.Added) != 1 {
		t.Errorf("document reviews = %+v", doc.Reviews)
	}
	code, body, _ = rvGet(t, c, fmt.Sprintf("%s/api/documents/%d/reviews", ts.URL, f.doc))
	var all store.DocumentReviews
	if err := json.Unmarshal([]byte(body), &all); code != http.StatusOK || err != nil || len(all.Reviews) != 2 || len(all.Added) != 1 {
		t.Errorf("/api/documents/%d/reviews: %d %v %s", f.doc, code, err, body)
	}
	if code, _, _ := rvGet(t, c, ts.URL+"/api/documents/99999/reviews"); code != http.StatusNotFound {
		t.Errorf("reviews of a missing document: %d, want 404", code)
	}
}
