package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// newHTTPClient builds the client go-openai sends through: retries with
// backoff (go-retryablehttp) over a per-attempt timeout over the
// temperature fix over the transport.
func newHTTPClient(cfg Config) *http.Client {
	base := cfg.Transport
	if base == nil {
		base = cleanhttp.DefaultPooledTransport()
	}
	if cfg.Temperature == 0 && !reasoningModel(cfg.Model) {
		base = &zeroTemperature{next: base}
	}
	rc := &retryablehttp.Client{
		HTTPClient:   &http.Client{Transport: base, Timeout: cfg.Timeout},
		Logger:       slogLeveled{cfg.Logger},
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		RetryMax:     cfg.MaxRetries,
		CheckRetry:   checkRetry,
		Backoff:      backoff,
		ErrorHandler: lastResponse,
	}
	return &http.Client{Transport: &retryablehttp.RoundTripper{Client: rc}}
}

// zeroTemperature adds "temperature":0 to chat completion bodies that lack
// it: go-openai omits a zero temperature (omitempty), and servers then use
// their own default (0.7 to 1), which makes extractions non-deterministic.
type zeroTemperature struct{ next http.RoundTripper }

func (z *zeroTemperature) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.Body == nil || !strings.HasSuffix(req.URL.Path, "/chat/completions") {
		return z.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	body = withZeroTemperature(body)
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return z.next.RoundTrip(r2)
}

// withZeroTemperature returns a JSON object body with "temperature":0
// added when it has no temperature.
func withZeroTemperature(body []byte) []byte {
	var probe struct {
		Temperature json.RawMessage `json:"temperature"`
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if json.Unmarshal(body, &probe) != nil || probe.Temperature != nil || len(trimmed) == 0 || trimmed[0] != '{' {
		return body
	}
	rest := bytes.TrimLeft(trimmed[1:], " \t\r\n")
	sep := ","
	if len(rest) > 0 && rest[0] == '}' {
		sep = ""
	}
	return append([]byte(`{"temperature":0`+sep), rest...)
}

// peekLimit bounds how much of an error body is read to classify it.
const peekLimit = 64 << 10

// peekBody reads the start of resp's body and puts it back.
func peekBody(resp *http.Response) []byte {
	if resp == nil || resp.Body == nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, peekLimit))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	return b
}

// permanentServerError reports whether a 5xx body says the failure is in
// the request rather than in the server's health, so that retrying is
// pointless.
func permanentServerError(body []byte) bool {
	s := strings.ToLower(string(body))
	for _, p := range []string{"json schema conversion failed", "failed to parse grammar", "unsupported json schema", "schema conversion", "--jinja"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// checkRetry retries 408, 429 (but not insufficient_quota), 5xx (but not
// 501 nor permanent server errors) and connection errors, while the
// context allows: a Retry-After beyond the context's deadline ends the
// retries at once.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		retry, _ := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
		return retry, nil
	}
	switch c := resp.StatusCode; {
	case c == http.StatusTooManyRequests:
		if bytes.Contains(peekBody(resp), []byte("insufficient_quota")) {
			return false, nil
		}
	case c == http.StatusRequestTimeout:
	case c >= 500 && c != http.StatusNotImplemented:
		if permanentServerError(peekBody(resp)) {
			return false, nil
		}
	default:
		return false, nil
	}
	if wait, ok := retryAfter(resp); ok {
		if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
			return false, nil
		}
	}
	return true, nil
}

// retryAfter reads the server's wait: retry-after-ms, then Retry-After in
// seconds or as an HTTP date.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	if v := resp.Header.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// maxServerWait caps a Retry-After so a confused server cannot park a run.
const maxServerWait = 10 * time.Minute

// backoff waits what the server asks, else min·2^attempt capped at max,
// with "equal jitter" (half fixed, half random) so that concurrent workers
// do not retry in lockstep.
func backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if wait, ok := retryAfter(resp); ok {
		return min(wait, maxServerWait)
	}
	d := lo
	for i := 0; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	half := d / 2
	return half + rand.N(half+1)
}

// lastResponse hands the last response to go-openai when retries are
// exhausted, so that it can decode the server's error message, and the
// error when there is no response.
func lastResponse(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	if resp == nil {
		return nil, errors.New("no response from the server")
	}
	return resp, nil
}

// slogLeveled adapts slog to retryablehttp's logger; request URLs carry no
// credentials (the key travels in a header).
type slogLeveled struct{ l *slog.Logger }

func (s slogLeveled) Error(msg string, kv ...any) { s.l.Debug("http: "+msg, kv...) }
func (s slogLeveled) Info(msg string, kv ...any)  { s.l.Debug("http: "+msg, kv...) }
func (s slogLeveled) Debug(msg string, kv ...any) {
	if msg == "retrying request" {
		s.l.Info("http: "+msg, kv...)
		return
	}
	s.l.Debug("http: "+msg, kv...)
}
func (s slogLeveled) Warn(msg string, kv ...any) { s.l.Debug("http: "+msg, kv...) }
