package extract

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultUserAgent identifies thesisdb to the sites it fetches.
const DefaultUserAgent = "thesisdb/1 (+https://github.com/thesisdb/thesisdb; research ingestion)"

// DefaultHTTPClient returns the client Load uses for URLs: 10s to connect,
// the request bounded by the load's context, and at most 5 redirects, all
// of them http or https.
func DefaultHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			MaxIdleConnsPerHost:   4,
		},
		Timeout: 2 * time.Minute,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// via holds the original request too: the 6th hop fails.
			if len(via) > 5 {
				return errors.New("stopped after 5 redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to unsupported scheme %q", req.URL.Scheme)
			}
			return nil
		},
	}
}

// errorf wraps a sentinel with a specific reason.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

func fetch(ctx context.Context, src string, o *Options) (*Raw, error) {
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("not an http(s) URL: %q", RedactURL(src))
	}
	client := DefaultHTTPClient()
	ua := DefaultUserAgent
	limit := int64(25_000_000)
	if o != nil {
		if o.HTTPClient != nil {
			client = o.HTTPClient
		}
		if o.UserAgent != "" {
			ua = o.UserAgent
		}
		if o.MaxFetchBytes > 0 {
			limit = o.MaxFetchBytes
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/pdf,text/plain;q=0.9,*/*;q=0.5")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// net/http masks the password in the URL it reports, but not
			// a user name alone (often a token).
			ue.URL = RedactURL(ue.URL)
		}
		return nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("fetch: server answered %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, errorf(ErrTooLarge, "the server announces %d bytes, the limit is %d", resp.ContentLength, limit)
	}
	data, err := readLimited(resp.Body, limit)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	kind := kindOfContent(resp.Header.Get("Content-Type"), resp.Request.URL.Path, data)
	if kind == "" {
		return nil, errorf(ErrUnsupported, "content type %q", resp.Header.Get("Content-Type"))
	}
	// The fetch used the URL's credentials; the source recorded never
	// carries them.
	final := StripUserinfo(resp.Request.URL.String())
	return &Raw{Kind: kind, Source: final, Data: data, opts: withContentType(o, resp.Header.Get("Content-Type"))}, nil
}

// kindOfContent picks a document kind from the Content-Type header, then
// the URL path's extension, then the bytes themselves.
func kindOfContent(header, path string, data []byte) string {
	mt, _, _ := mime.ParseMediaType(header)
	switch mt {
	case "text/html", "application/xhtml+xml":
		return "html"
	case "application/pdf", "application/x-pdf":
		return "pdf"
	case "text/markdown", "text/x-markdown":
		return "markdown"
	case "text/plain":
		if k := KindOf(path); k == "markdown" {
			return k
		}
		return "text"
	}
	if k := KindOf(path); k != "" {
		return k
	}
	switch sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(data)); {
	case sniffed == "text/html":
		return "html"
	case sniffed == "application/pdf":
		return "pdf"
	case strings.HasPrefix(sniffed, "text/"):
		return "text"
	}
	return ""
}

// withContentType returns options for decoding a fetched body, remembering
// the header's charset for the HTML decoder.
func withContentType(o *Options, ct string) *Options {
	c := Options{}
	if o != nil {
		c = *o
	}
	c.contentType = ct
	return &c
}
