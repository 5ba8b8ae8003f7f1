package web

// Tests in a real browser: headless Chromium driven by chromedp over the
// DevTools protocol, against a test server on loopback. They skip only
// when no Chromium is installed (Debian package chromium; CI installs it).
// THESISDB_CHROMIUM names the browser to use; THESISDB_SCREENSHOT=path
// keeps the screenshot of the document page that TestBrowserDataPointPassage
// takes (else it goes to the test's temporary folder).

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// chromiumPath finds a Chromium or Chrome binary, or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("THESISDB_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found (install the Debian package chromium, or set THESISDB_CHROMIUM)")
	return ""
}

// browserEvents are what the page reported: dialogs opened, uncaught
// exceptions, console errors and log entries (CSP violations among them).
type browserEvents struct {
	mu         sync.Mutex
	dialogs    []string
	exceptions []string
	errors     []string
}

func (e *browserEvents) snapshot() (dialogs, exceptions, errs []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.dialogs...), append([]string(nil), e.exceptions...), append([]string(nil), e.errors...)
}

// newBrowser starts headless Chromium with a fresh profile and returns a
// tab's context, with every dialog, exception and console error recorded
// (and dialogs dismissed, so that a page cannot hang the test).
func newBrowser(t *testing.T) (context.Context, *browserEvents) {
	t.Helper()
	exe := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // root in containers; the pages are the test's own
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	// A deadline so that a wedged browser fails the test instead of
	// hanging it; no assertion depends on how long anything takes.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(bcancel)
	// Start the browser and its tab.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	ev := &browserEvents{}
	// Dialogs are dismissed from another goroutine: the listener may not
	// send commands.
	opened := make(chan struct{}, 16)
	if err := chromedp.Listen(bctx, func(e any) {
		if d, ok := e.(*page.EventJavascriptDialogOpening); ok {
			ev.mu.Lock()
			ev.dialogs = append(ev.dialogs, d.Message)
			ev.mu.Unlock()
			select {
			case opened <- struct{}{}:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			select {
			case <-bctx.Done():
				return
			case <-opened:
				chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}
		}
	}()
	// Console errors, uncaught exceptions and browser log errors (a
	// Content-Security-Policy violation is one).
	msgs := chromedp.Console(bctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if strings.HasSuffix(m.URL, "/favicon.ico") {
				continue
			}
			ev.mu.Lock()
			switch m.Type {
			case chromedp.ConsoleException:
				ev.exceptions = append(ev.exceptions, m.Text)
			case chromedp.ConsoleError:
				ev.errors = append(ev.errors, m.String()+" "+m.URL)
			}
			ev.mu.Unlock()
		}
	}()
	return bctx, ev
}

// browserNote is a long note whose figures stand far below the first
// screen, so that showing one means scrolling to it.
func browserNote() (string, []schema.DataPoint) {
	var b strings.Builder
	b.WriteString("Credit Outlook — Spring 2026\n\n")
	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&b, "Paragraph %d of the argument: issuers keep refinancing early, and the market absorbs supply without strain.\n", i)
	}
	quotes := []struct{ indicator, value, source, quote string }{
		{"US High Yield OAS", "284 bps", "ICE BofA", "High-yield spreads stand at 284 bps, the tightest since 2007."},
		{"Default rate", "3.1%", "Moody's", "The trailing default rate fell to 3.1% in March."},
		{"Net issuance", "$42 billion", "", "Net issuance reached $42 billion in the quarter."},
	}
	var dps []schema.DataPoint
	for i, q := range quotes {
		for j := 0; j < 25; j++ {
			fmt.Fprintf(&b, "Filler line %d.%d keeps the figures apart on the page.\n", i, j)
		}
		start := len([]rune(b.String()))
		b.WriteString(q.quote)
		dp := schema.DataPoint{Indicator: q.indicator, Value: q.value, Quote: q.quote,
			Ground: &schema.Grounding{Start: start, End: start + len([]rune(q.quote)), Method: "exact", Grounded: true}}
		if q.source != "" {
			dp.Source = ptr(q.source)
		}
		dps = append(dps, dp)
		b.WriteString("\n")
	}
	b.WriteString("End of note.\n")
	return b.String(), dps
}

// browserFixture stores doc with a one-thesis extraction holding dps and
// returns the database and the document's id.
func browserFixture(t *testing.T, title, text string, dps []schema.DataPoint) (*store.DB, string, int64) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.sqlite")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	run, err := db.StartRun(ctx, store.RunSpec{Kind: "ingest", Extractor: "rules", PromptVersion: "test", SchemaVersion: schema.Version})
	if err != nil {
		t.Fatal(err)
	}
	x := &schema.Extraction{Title: ptr(title), Theses: []schema.Thesis{{Title: title, Statement: "Credit spreads stay tight through 2026.",
		Stance: schema.Bullish, Confidence: ptr(0.7), Conviction: ptr(0.6), Horizon: ptr("12 months"),
		Views:      []schema.View{{Perspective: "credit", Stance: schema.Bullish, Summary: ptr("Spreads stay tight.")}},
		DataPoints: dps}}}
	doc := &schema.Document{Kind: "text", Source: "notes/" + strings.ToLower(strings.ReplaceAll(title, " ", "-")) + ".txt", Title: title,
		Text: text, SHA256: fmt.Sprintf("%064x", len(text)), Bytes: int64(len(text))}
	id, err := db.SaveDocument(ctx, run, doc, store.Outcome{Extraction: x})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetRunStatus(ctx, run, store.RunDone); err != nil {
		t.Fatal(err)
	}
	return db, path, id
}

// serveDB starts a server reading the database at path.
func serveDB(t *testing.T, db *store.DB, path string, review bool) string {
	t.Helper()
	r, err := store.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cfg := Config{Reader: r, Review: review, Reviewer: "ann"}
	if review {
		cfg.DB = db
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

// passageState is what the page shows of a data point's passage.
type passageState struct {
	Marks     int     `json:"marks"`
	Active    int     `json:"active"`
	Text      string  `json:"text"`
	Top       float64 `json:"top"`
	Bottom    float64 `json:"bottom"`
	BoxTop    float64 `json:"boxTop"`
	BoxBottom float64 `json:"boxBottom"`
	Viewport  float64 `json:"viewport"`
	ActiveBG  string  `json:"activeBG"`
	OtherBG   string  `json:"otherBG"`
	RowMarked bool    `json:"rowMarked"`
}

// visible reports whether the passage lies within the window and within
// the text column that scrolls it.
func (p passageState) visible() bool {
	return p.Marks > 0 && p.Top >= 0 && p.Bottom <= p.Viewport && p.Top >= p.BoxTop && p.Bottom <= p.BoxBottom
}

// passageJS reads passageState for data point %d.
const passageJS = `(() => {
  const id = %d;
  const marks = [...document.querySelectorAll('mark.q')].filter(m => m.dataset.dp.split(' ').includes(String(id)));
  const other = [...document.querySelectorAll('mark.q')].find(m => !m.dataset.dp.split(' ').includes(String(id)));
  const box = document.querySelector('.text-col').getBoundingClientRect();
  const first = marks.length ? marks[0].getBoundingClientRect() : {top: -1, bottom: -1};
  const last = marks.length ? marks[marks.length - 1].getBoundingClientRect() : {top: -1, bottom: -1};
  const row = document.getElementById('dp-' + id);
  return {
    marks: marks.length,
    active: marks.filter(m => m.classList.contains('active')).length,
    text: marks.map(m => m.textContent).join(''),
    top: first.top, bottom: last.bottom, boxTop: box.top, boxBottom: box.bottom,
    viewport: window.innerHeight,
    activeBG: marks.length ? getComputedStyle(marks[0]).backgroundColor : '',
    otherBG: other ? getComputedStyle(other).backgroundColor : '',
    rowMarked: !!row && row.classList.contains('selected'),
  };
})()`

func passage(ctx context.Context, id int64) (passageState, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[passageState](fmt.Sprintf(passageJS, id)))
}

// css is a CSS selector for the first element matching format.
func css(format string, args ...any) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(format, args...)) }

// waitActive waits until data point id's passage is marked active.
func waitActive(id int64) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelectorAll('mark.q.active[data-dp~="%d"]').length > 0`, id),
		chromedp.WithPollingTimeout(20*time.Second))
}

// checkQuiet fails the test if the page opened a dialog, threw or
// logged an error.
func checkQuiet(t *testing.T, ev *browserEvents, what string) {
	t.Helper()
	if dialogs, exc, errs := ev.snapshot(); len(dialogs)+len(exc)+len(errs) > 0 {
		t.Errorf("%s: dialogs %q, exceptions %q, errors %q", what, dialogs, exc, errs)
	}
}

func TestBrowserDataPointPassage(t *testing.T) {
	text, dps := browserNote()
	db, path, doc := browserFixture(t, "Credit Outlook", text, dps)
	base := serveDB(t, db, path, true)
	ctx, ev := newBrowser(t)

	ids := dataPointIDs(t, path, doc, 3)
	target := ids[1] // the default rate, far below the first screen
	// Reviews, for the screenshot: one right, one corrected.
	if _, err := db.ReviewDataPoint(context.Background(), store.ReviewInput{DataPointID: ids[0], Verdict: store.VerdictRight, Reviewer: "ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ReviewDataPoint(context.Background(), store.ReviewInput{DataPointID: ids[2], Reviewer: "ann", Note: "net of redemptions",
		Corrections: []store.Correction{{Field: "value", New: "$41.5 billion"}}}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/documents/%d", base, doc)),
		chromedp.WaitVisible(css(`#dp-%d`, target)),
	); err != nil {
		t.Fatal(err)
	}
	before, err := passage(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if before.Marks == 0 || before.Active != 0 || before.visible() {
		t.Fatalf("before the click the passage should be highlighted as a quote, not active, and out of view: %+v", before)
	}

	// Click the row's indicator cell (not a link or a form).
	if err := chromedp.Do(ctx, chromedp.Click(css(`#dp-%d td:first-child`, target)), waitActive(target)); err != nil {
		t.Fatalf("no passage marked active after clicking data point %d: %v", target, err)
	}
	after, err := passage(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	if after.Active != after.Marks || !after.RowMarked {
		t.Errorf("after the click: %d of %d marks active, row marked %v", after.Active, after.Marks, after.RowMarked)
	}
	if after.Text != dps[1].Quote {
		t.Errorf("highlighted passage = %q, want the quote %q", after.Text, dps[1].Quote)
	}
	if !after.visible() {
		t.Errorf("the passage is not scrolled into view: %+v", after)
	}
	if after.ActiveBG == after.OtherBG || after.ActiveBG == "" {
		t.Errorf("the active passage looks like the others (background %q vs %q)", after.ActiveBG, after.OtherBG)
	}

	// Another row moves the mark.
	if err := chromedp.Do(ctx, chromedp.Click(css(`#dp-%d td:first-child`, ids[2])), waitActive(ids[2])); err != nil {
		t.Fatal(err)
	}
	if p, err := passage(ctx, target); err != nil || p.Active != 0 {
		t.Errorf("the first passage stays active after selecting another: %+v %v", p, err)
	}
	if p, err := passage(ctx, ids[2]); err != nil || !p.visible() || p.Text != dps[2].Quote {
		t.Errorf("the second passage: %+v %v", p, err)
	}

	// The screenshot: the document page with the last data point
	// selected.
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	shot := os.Getenv("THESISDB_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "document.png")
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the document page: %s (%d bytes)", shot, len(png))
	checkQuiet(t, ev, "the document page")
}

// dataPointIDs returns the document's current data point ids in order,
// failing unless there are at least want.
func dataPointIDs(t *testing.T, path string, doc int64, want int) []int64 {
	t.Helper()
	r, err := store.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Query(context.Background(), fmt.Sprintf(`SELECT data_point_id FROM current_data_points WHERE document_id = %d ORDER BY data_point_id`, doc), 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, row := range res.Rows {
		ids = append(ids, row[0].(int64))
	}
	if len(ids) < want {
		t.Fatalf("document %d has %d data points, want %d", doc, len(ids), want)
	}
	return ids
}

func thesisOf(t *testing.T, path string, dp int64) int64 {
	t.Helper()
	r, err := store.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Query(context.Background(), fmt.Sprintf(`SELECT thesis_id FROM data_points WHERE id = %d`, dp), 1)
	if err != nil || len(res.Rows) != 1 {
		t.Fatalf("thesis of %d: %v", dp, err)
	}
	return res.Rows[0][0].(int64)
}

// hostile is markup that runs script if any page inserts it unescaped.
const hostile = `<script>alert('script')</script><img src=x onerror="alert('img')"><a href="javascript:alert('link')">click</a>` +
	`<svg onload="alert('svg')"></svg>"'><iframe src="javascript:alert('frame')"></iframe>`

// pageElements is what a page holds that a document could have smuggled in.
type pageElements struct {
	Scripts   []string `json:"scripts"`
	Imgs      int      `json:"imgs"`
	SVGs      int      `json:"svgs"`
	Frames    int      `json:"frames"`
	JSLinks   int      `json:"jsLinks"`
	Text      string   `json:"text"`
	Title     string   `json:"title"`
	Indicator string   `json:"indicator"`
}

const pageElementsJS = `({
	scripts: [...document.scripts].map(s => s.src),
	imgs: document.images.length,
	svgs: document.querySelectorAll('svg').length,
	frames: document.querySelectorAll('iframe').length,
	jsLinks: [...document.querySelectorAll('[href],[src],[action]')].filter(e =>
		/^\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))).length,
	text: (document.getElementById('doctext') || {}).textContent || '',
	title: document.title,
	indicator: (document.querySelector('tr.dp td') || {}).textContent || '',
})`

func TestBrowserHostileDocumentRunsNoScript(t *testing.T) {
	text := "Hostile note " + hostile + "\nSpreads at 300 bps " + hostile + "\nGrowth 5% javascript:alert('bare')\n"
	quote := "Spreads at 300 bps " + hostile
	start := len([]rune(text[:strings.Index(text, quote)]))
	dps := []schema.DataPoint{{Indicator: "OAS " + hostile, Value: "300 bps", Source: ptr(hostile), Implication: ptr(hostile),
		Perspective: ptr("credit"), Quote: quote,
		Ground: &schema.Grounding{Start: start, End: start + len([]rune(quote)), Method: "exact", Grounded: true}},
		{Indicator: "Growth", Value: "5% " + hostile, Quote: "Growth 5% javascript:alert('bare')"}}
	db, path, doc := browserFixture(t, "Hostile "+hostile, text, dps)
	ctx := context.Background()
	// A review whose reviewer, note, correction and added data point are
	// hostile too.
	ids := dataPointIDs(t, path, doc, 1)
	if _, err := db.ReviewDataPoint(ctx, store.ReviewInput{DataPointID: ids[0], Reviewer: "mallory " + hostile, Note: hostile,
		Corrections: []store.Correction{{Field: "value", New: "301 bps " + hostile}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddDataPoint(ctx, store.AddedDataPoint{ThesisID: thesisOf(t, path, ids[0]), Indicator: hostile, Value: hostile,
		Quote: hostile, Reviewer: "mallory"}); err != nil {
		t.Fatal(err)
	}
	base := serveDB(t, db, path, true)
	bctx, ev := newBrowser(t)

	for _, u := range []string{fmt.Sprintf("/documents/%d", doc), "/", "/?q=spreads", fmt.Sprintf("/documents/%d#dp-%d", doc, ids[0]),
		fmt.Sprintf("/api/documents/%d", doc)} {
		if err := chromedp.Do(bctx, chromedp.Navigate(base+u), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if strings.HasPrefix(u, "/api/") {
			continue // JSON: the browser shows it as text; nothing to run
		}
		state, err := chromedp.Run(bctx, chromedp.Evaluate[pageElements](pageElementsJS))
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if len(state.Scripts) != 1 || !strings.HasSuffix(state.Scripts[0], "/static/app.js") || state.Imgs+state.SVGs+state.Frames+state.JSLinks != 0 {
			t.Errorf("%s: the page holds elements from the document: %+v", u, state)
		}
		if strings.HasPrefix(u, "/documents/") {
			// The markup shows as text, character for character.
			if !strings.Contains(state.Text, hostile) || !strings.Contains(state.Indicator, hostile) || !strings.Contains(state.Title, "<script>") {
				t.Errorf("%s: the hostile strings do not show as text: %+v", u, state)
			}
		}
	}
	// Click the hostile data point and its highlighted passage.
	if err := chromedp.Do(bctx,
		chromedp.Navigate(fmt.Sprintf("%s/documents/%d", base, doc)),
		chromedp.Click(css(`#dp-%d td:first-child`, ids[0])),
		waitActive(ids[0]),
		chromedp.Click(css(`mark.q[data-dp~="%d"]`, ids[0])),
	); err != nil {
		t.Fatal(err)
	}
	checkQuiet(t, ev, "hostile text ran")

	// The control: a dialog the page opens is seen, so the listener
	// would have caught one the document opened.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[chromedp.Void](`setTimeout(() => alert('control'), 0), undefined`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[chromedp.Void](`document.hasFocus() || true`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		dialogs, _, _ := ev.snapshot()
		if len(dialogs) == 1 && dialogs[0] == "control" {
			break
		}
		if i == 200 {
			t.Fatalf("the control dialog was not seen (dialogs %q): the listener does not work", dialogs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBrowserReviewShowsOnPageAndInGold(t *testing.T) {
	text, dps := browserNote()
	db, path, doc := browserFixture(t, "Credit Outlook", text, dps)
	base := serveDB(t, db, path, true)
	ctx, ev := newBrowser(t)
	ids := dataPointIDs(t, path, doc, 3)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/documents/%d", base, doc)),
		// Mark the first data point wrong.
		chromedp.Click(css(`#dp-%d button[value="wrong"]`, ids[0])),
		chromedp.WaitVisible(css(`#dp-%d .verdict-wrong`, ids[0])),
		// Correct the second one's value.
		chromedp.Click(css(`#dp-%d details.correct summary`, ids[1])),
		chromedp.SetValue(css(`#dp-%d input[name="value"]`, ids[1]), "3.2%"),
		chromedp.SetValue(css(`#dp-%d input[name="note"]`, ids[1]), "March figure was revised"),
		chromedp.Click(css(`#dp-%d form.correct-form button[type="submit"]`, ids[1])),
		chromedp.WaitVisible(css(`#dp-%d .verdict-corrected`, ids[1])),
	); err != nil {
		t.Fatal(err)
	}
	rowText, err := chromedp.Run(ctx, chromedp.Text(css(`#dp-%d td.review`, ids[1])))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rowText, "3.2%") {
		t.Errorf("the corrected row shows %q, want the new value 3.2%%", rowText)
	}
	// Add a missed data point.
	form := fmt.Sprintf(`form[action="/theses/%d/add"]`, thesisOf(t, path, ids[0]))
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`details.add-dp summary`)),
		chromedp.SetValue(chromedp.CSS(form+` input[name="indicator"]`), "Leveraged loan defaults"),
		chromedp.SetValue(chromedp.CSS(form+` input[name="value"]`), "4.4%"),
		chromedp.SetValue(chromedp.CSS(form+` input[name="source"]`), "LCD"),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.added-dp`)),
	); err != nil {
		t.Fatal(err)
	}
	added, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`tr.added-dp`)))
	if err != nil {
		t.Fatal(err)
	}
	history, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`ol.review-history`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(added, "Leveraged loan defaults") || !strings.Contains(added, "4.4%") || !strings.Contains(added, "ann") {
		t.Errorf("added row = %q", added)
	}
	// innerText: the verdict badges are upper case on the screen.
	for _, want := range []string{"wrong by ann", "corrected by ann", "march figure was revised", "3.1%", "3.2%"} {
		if !strings.Contains(strings.ToLower(history), want) {
			t.Errorf("review history lacks %q:\n%s", want, history)
		}
	}

	// What export --reviewed writes: the gold without the wrong point,
	// with the corrected value and the added point.
	var recs []store.ReviewedRecord
	if err := db.ReviewedGold(context.Background(), func(r store.ReviewedRecord) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d gold records, want 1", len(recs))
	}
	x, err := schema.Parse(recs[0].Extraction)
	if err != nil {
		t.Fatalf("gold is not a valid extraction: %v", err)
	}
	var got []string
	for _, dp := range x.Theses[0].DataPoints {
		got = append(got, dp.Indicator+"="+dp.Value)
	}
	if want := "Default rate=3.2%|Net issuance=$42 billion|Leveraged loan defaults=4.4%"; strings.Join(got, "|") != want {
		t.Errorf("gold data points = %q, want %q", strings.Join(got, "|"), want)
	}
	checkQuiet(t, ev, "reviewing")
}
