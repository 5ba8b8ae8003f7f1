package llm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/schema"
)

func TestRetryAfterForms(t *testing.T) {
	at := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		h        map[string]string
		min, max time.Duration
		ok       bool
	}{
		{map[string]string{"Retry-After": "7"}, 7 * time.Second, 7 * time.Second, true},
		{map[string]string{"Retry-After": "1.5"}, 1500 * time.Millisecond, 1500 * time.Millisecond, true},
		{map[string]string{"retry-after-ms": "250", "Retry-After": "9"}, 250 * time.Millisecond, 250 * time.Millisecond, true},
		{map[string]string{"Retry-After": at}, 80 * time.Second, 91 * time.Second, true},
		{map[string]string{"Retry-After": "soon"}, 0, 0, false},
		{nil, 0, 0, false},
	}
	for _, c := range cases {
		resp := &http.Response{Header: http.Header{}}
		for k, v := range c.h {
			resp.Header.Set(k, v)
		}
		d, ok := retryAfter(resp)
		if ok != c.ok || d < c.min || d > c.max {
			t.Errorf("%v: %v %v", c.h, d, ok)
		}
		if c.ok {
			if b := backoff(time.Millisecond, time.Millisecond, 0, resp); b < c.min || b > c.max {
				t.Errorf("%v: backoff %v ignores the server's wait", c.h, b)
			}
		}
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	lo, hi := 100*time.Millisecond, 2*time.Second
	for attempt, want := range []time.Duration{100, 200, 400, 800, 1600, 2000, 2000} {
		want *= time.Millisecond
		if attempt == 6 {
			want = hi
		}
		seen := map[time.Duration]bool{}
		for range 50 {
			d := backoff(lo, hi, attempt, nil)
			if d < want/2 || d > want {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, want/2, want)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("attempt %d: no jitter", attempt)
		}
	}
}

func resp(status int, body string, h ...string) *http.Response {
	r := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}
	for i := 0; i+1 < len(h); i += 2 {
		r.Header.Set(h[i], h[i+1])
	}
	return r
}

func TestCheckRetryPolicy(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		resp  *http.Response
		err   error
		retry bool
	}{
		{"200", resp(200, "{}"), nil, false},
		{"400", resp(400, `{"error":{}}`), nil, false},
		{"401", resp(401, ""), nil, false},
		{"403", resp(403, ""), nil, false},
		{"404", resp(404, ""), nil, false},
		{"408", resp(408, ""), nil, true},
		{"429", resp(429, `{"error":{"code":"rate_limit_exceeded"}}`), nil, true},
		{"429 quota", resp(429, `{"error":{"code":"insufficient_quota","type":"insufficient_quota"}}`), nil, false},
		{"500", resp(500, "<html>oops</html>"), nil, true},
		{"500 schema", resp(500, `{"error":{"message":"JSON schema conversion failed: ..."}}`), nil, false},
		{"501", resp(501, ""), nil, false},
		{"502", resp(502, ""), nil, true},
		{"503", resp(503, ""), nil, true},
		{"connection refused", nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), true},
	}
	for _, c := range cases {
		retry, err := checkRetry(ctx, c.resp, c.err)
		if retry != c.retry || err != nil {
			t.Errorf("%s: retry %v err %v, want %v", c.name, retry, err, c.retry)
		}
		if c.resp != nil {
			// The body is still readable after classification.
			b, _ := io.ReadAll(c.resp.Body)
			if len(b) == 0 && c.resp.StatusCode == 500 {
				t.Errorf("%s: body consumed", c.name)
			}
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if retry, err := checkRetry(cancelled, resp(503, ""), nil); retry || err == nil {
		t.Error("retried after cancellation")
	}
}

type recordRT struct{ body []byte }

func (r *recordRT) RoundTrip(req *http.Request) (*http.Response, error) {
	r.body, _ = io.ReadAll(req.Body)
	return resp(200, "{}"), nil
}

func TestZeroTemperatureInjection(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"model":"m","messages":[]}`, `{"temperature":0,"model":"m","messages":[]}`},
		{`{}`, `{"temperature":0}`},
		{`{"model":"m","temperature":0.5}`, `{"model":"m","temperature":0.5}`},
		{`not json`, `not json`},
	} {
		rec := &recordRT{}
		z := &zeroTemperature{next: rec}
		req, _ := http.NewRequest(http.MethodPost, "http://x/v1/chat/completions", bytes.NewReader([]byte(c.in)))
		if _, err := z.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if string(rec.body) != c.want {
			t.Errorf("%s -> %s, want %s", c.in, rec.body, c.want)
		}
	}
}

func TestEstimateTokens(t *testing.T) {
	prose := "The Russell 2000 trades at 14.8 times forward earnings while the S&P 500 trades at 22.1 times, a discount of about 33%. Rates help too: roughly 40% of Russell 2000 debt is floating rate, so every cut by the Federal Reserve goes straight to the bottom line."
	n := EstimateTokens(prose)
	// English prose with figures: between 3 and 5 characters a token.
	if n < len(prose)/5 || n > len(prose)/3 {
		t.Errorf("prose: %d tokens for %d chars", n, len(prose))
	}
	if EstimateTokens("") != 0 {
		t.Error("empty text has tokens")
	}
	if n := EstimateTokens("日本銀行は政策金利を引き上げた"); n < 10 {
		t.Errorf("CJK: %d tokens, want about one per character", n)
	}
	if a, b := EstimateTokens("1234567"), EstimateTokens("1"); a != 3 || b != 1 {
		t.Errorf("digits: %d %d", a, b)
	}
	if EstimateTokens(string(schema.JSON)) < len(schema.JSON)/6 {
		t.Error("JSON underestimated")
	}
}

func TestSplitTextRespectsBoundaries(t *testing.T) {
	var b strings.Builder
	for s := 1; s <= 6; s++ {
		b.WriteString("## Section " + string(rune('A'+s-1)) + "\n\n")
		for p := 0; p < 4; p++ {
			b.WriteString(strings.Repeat("Spreads widened by 25 bps as defaults rose. ", 12) + "\n\n")
		}
	}
	text := b.String()
	const maxTok, overlap = 400, 40
	parts := splitText(text, maxTok, overlap)
	if len(parts) < 3 {
		t.Fatalf("%d parts", len(parts))
	}
	for i, p := range parts {
		if n := EstimateTokens(p); n > maxTok+overlap {
			t.Errorf("part %d has %d tokens", i, n)
		}
	}
	// Every paragraph is in some part.
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.TrimSpace(para)
		found := false
		for _, p := range parts {
			if strings.Contains(p, para) {
				found = true
				break
			}
		}
		if para != "" && !found {
			t.Errorf("paragraph lost: %.40q", para)
		}
	}
	// A long single paragraph is cut on sentences.
	long := strings.Repeat("Yields rose 10 bps on the day. ", 200)
	for _, p := range splitText(long, 100, 10) {
		if !strings.HasSuffix(strings.TrimSpace(p), ".") {
			t.Errorf("part not cut at a sentence end: ...%q", p[max(0, len(p)-20):])
		}
	}
	if hs := Headings(text); len(hs) != 6 || hs[0] != "Section A" {
		t.Errorf("headings %q", hs)
	}
}

func TestMergeDataPointsDeduplicates(t *testing.T) {
	src := "Moody's"
	a := []schema.DataPoint{{Indicator: "Default rate", Value: "4.1%", Quote: "q1"}}
	b := []schema.DataPoint{
		{Indicator: "default  rate", Value: "4.1 %", Source: &src, Quote: "q1"},
		{Indicator: "Default rate", Value: "3.6%", Quote: "q2"},
	}
	m := mergeDataPoints(a, b)
	if len(m) != 2 {
		t.Fatalf("%d data points: %+v", len(m), m)
	}
	if m[0].Source == nil || *m[0].Source != src {
		t.Error("duplicate did not fill the missing source")
	}
}

// TestMergeUsesTheOneIndicatorKey checks that chunk merging tells
// indicators apart exactly as comparison does (schema.IndicatorKey): a
// currency sign used to be dropped here and kept there.
func TestMergeUsesTheOneIndicatorKey(t *testing.T) {
	a := []schema.DataPoint{{Indicator: "Price (€)", Value: "5", Quote: "q1"}, {Indicator: "EPS .", Value: "2", Quote: "q2"}}
	b := []schema.DataPoint{{Indicator: "price €", Value: "5", Quote: "q1"}, {Indicator: "Price ($)", Value: "5", Quote: "q3"}, {Indicator: "eps", Value: "2", Quote: "q2"}}
	m := mergeDataPoints(a, b)
	if len(m) != 3 || m[2].Indicator != "Price ($)" {
		t.Errorf("merged %+v; want Price (€), EPS . and Price ($)", m)
	}
	for _, d := range m {
		if !strings.HasPrefix(dpKey(d), schema.IndicatorKey(d.Indicator)+"|") {
			t.Errorf("key %q of %q", dpKey(d), d.Indicator)
		}
	}
}

func TestCleanAnswer(t *testing.T) {
	for in, want := range map[string]string{
		"```json\n{\"a\":1}\n```":          `{"a":1}`,
		"```\n{\"a\":1}```":                `{"a":1}`,
		"<think>hmm {}</think>\n{\"a\":1}": `{"a":1}`,
		"Here it is: {\"a\":1} Done.":      `{"a":1}`,
		" {\"a\":1} ":                      `{"a":1}`,
	} {
		if got := cleanAnswer(in); got != want {
			t.Errorf("%q -> %q", in, got)
		}
	}
}
