// Package web is `thesisdb serve`: a review UI and JSON API over a
// thesisdb database. Pages are rendered on the server with html/template
// from embedded templates and assets (no JavaScript build step; reading
// works without JavaScript); every page's data is also served as JSON
// under /api/.
//
// The server reads through the store's read-only connection. It is safe
// by default: it binds to loopback unless given an access token, answers
// only requests naming a loopback host when it has none (so a web page
// cannot reach it by DNS rebinding), sends a strict Content-Security-Policy,
// and refuses a state-changing request without a valid CSRF token.
//
// Where things go: a new page is a handler in pages.go (its template in
// templates/, its data from a store/browse.go query) registered in
// routes below, with its JSON twin in api.go; review handlers live in
// review.go.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/thesisdb/thesisdb/store"
)

//go:embed templates static
var assets embed.FS

// Config is what a Server serves and how.
type Config struct {
	// Reader is the read-only connection every page and API call reads
	// through. Required.
	Reader *store.Reader
	// DB is the writable database, for review handlers; nil unless
	// Review is set.
	DB *store.DB
	// Review enables the handlers that record analysts' reviews.
	Review bool
	// Reviewer is the name reviews are recorded under when a form or
	// request names none (serve's --reviewer, default $USER).
	Reviewer string
	// Token, when set, must accompany every request (header, cookie or
	// ?token= once). Required to listen on an address other than loopback.
	Token string
	// QueryTimeout and MaxRows bound the SQL page as `thesisdb query`'s
	// --timeout and --max-rows do (defaults 10s and 1000).
	QueryTimeout time.Duration
	MaxRows      int
	// MaxBytes bounds the bytes of values one SQL query delivers
	// (default store.DefaultMaxBytes).
	MaxBytes int64
	// Log receives one line per failed request (default slog.Default()).
	Log *slog.Logger
}

// Server serves the pages and the JSON API.
type Server struct {
	cfg   Config
	r     *store.Reader
	log   *slog.Logger
	pages map[string]*template.Template
	csrf  *csrfKey
	diffs diffCache
	h     http.Handler
}

// New checks cfg and builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Reader == nil {
		return nil, errors.New("web: a Reader is required")
	}
	if cfg.Review && cfg.DB == nil {
		return nil, errors.New("web: reviewing needs the writable database (Config.DB)")
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 10 * time.Second
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = 1000
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	key, err := newCSRFKey()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, r: cfg.Reader, log: cfg.Log, csrf: key}
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	s.routes(mux)
	s.h = s.guard(mux)
	return s, nil
}

// Handler returns the server's handler, with its access and security
// checks.
func (s *Server) Handler() http.Handler { return s.h }

// routes registers every page and API endpoint.
func (s *Server) routes(mux *http.ServeMux) {
	static, _ := fs.Sub(assets, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(static)))

	mux.HandleFunc("GET /{$}", s.documentsPage)
	mux.HandleFunc("GET /documents/{id}", s.documentPage)
	mux.HandleFunc("GET /runs", s.runsPage)
	mux.HandleFunc("GET /runs/{id}", s.runPage)
	mux.HandleFunc("GET /diff", s.diffPage)
	mux.HandleFunc("GET /failures", s.failuresPage)
	mux.HandleFunc("GET /sql", s.sqlPage)
	mux.HandleFunc("GET /sql/download", s.sqlDownload)

	mux.HandleFunc("GET /api/documents", s.apiDocuments)
	mux.HandleFunc("GET /api/documents/{id}", s.apiDocument)
	mux.HandleFunc("GET /api/runs", s.apiRuns)
	mux.HandleFunc("GET /api/runs/{id}", s.apiRun)
	mux.HandleFunc("GET /api/diff", s.apiDiff)
	mux.HandleFunc("GET /api/failures", s.apiFailures)
	mux.HandleFunc("GET /api/query", s.apiQuery)

	s.reviewRoutes(mux)
}

// Serve answers on ln until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			return fmt.Errorf("serve: shut down: %w", err)
		}
		return nil
	}
}

// CheckAddr says whether the server may listen on addr: any address but
// loopback requires a token.
func CheckAddr(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: want host:port, e.g. 127.0.0.1:8080: %w", addr, err)
	}
	if isLoopbackHost(host) || token != "" {
		return nil
	}
	return fmt.Errorf("--addr %s is not a loopback address: anyone who can reach it could read the database, so it needs an access token (--token or THESISDB_TOKEN)", addr)
}

// isLoopbackHost reports whether host (without port) names this machine
// only: localhost or a loopback IP. An empty host (every interface) is not.
func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeJSON writes v as indented JSON with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Served as JSON with nosniff, markup in strings is inert: keep it
	// readable ("<", "&" rather than \u003c, \u0026).
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// httpError is an error with the status it answers.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &httpError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

// status is the HTTP status for err, and the message to show.
func (s *Server) status(r *http.Request, err error) (int, string) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.code, he.msg
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, store.ErrBadFilter):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, context.Canceled):
		return 499, "request cancelled"
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, "internal error: " + err.Error()
}

// apiError answers an API request with {"error": "..."}.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := s.status(r, err)
	writeJSON(w, code, map[string]string{"error": msg})
}
