package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/thesisdb/thesisdb/store"
)

// runJSON is a run as the API gives it.
type runJSON struct {
	ID               int64    `json:"id"`
	Kind             string   `json:"kind"`
	Extractor        string   `json:"extractor"`
	Model            string   `json:"model"`
	PromptVersion    string   `json:"prompt_version"`
	SchemaVersion    string   `json:"schema_version"`
	Status           string   `json:"status"`
	StartedAt        string   `json:"started_at"`
	FinishedAt       string   `json:"finished_at"`
	DocumentsOK      int      `json:"documents_ok"`
	DocumentsFailed  int      `json:"documents_failed"`
	DocumentsSkipped int      `json:"documents_skipped"`
	DataPoints       int      `json:"data_points"`
	Ungrounded       int      `json:"ungrounded"`
	PromptTokens     int      `json:"prompt_tokens"`
	CompletionTokens int      `json:"completion_tokens"`
	CachedTokens     int      `json:"cached_tokens"`
	CostUSD          *float64 `json:"cost_usd"`
	Params           any      `json:"params"`
}

func toRunJSON(r store.Run) runJSON {
	out := runJSON{ID: r.ID, Kind: r.Kind, Extractor: r.Extractor, Model: r.Model, PromptVersion: r.PromptVersion,
		SchemaVersion: r.SchemaVersion, Status: r.Status, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		DocumentsOK: r.DocumentsOK, DocumentsFailed: r.DocumentsFailed, DocumentsSkipped: r.DocumentsSkipped,
		DataPoints: r.DataPoints, Ungrounded: r.Ungrounded, PromptTokens: r.Usage.PromptTokens,
		CompletionTokens: r.Usage.CompletionTokens, CachedTokens: r.Usage.CachedPromptTokens, CostUSD: runCost(r)}
	if r.ParamsJSON != "" {
		out.Params = rawJSON(r.ParamsJSON)
	}
	return out
}

// documentsJSON is GET /api/documents's answer.
type documentsJSON struct {
	Documents []store.DocumentRow `json:"documents"`
	Limit     int                 `json:"limit"`
	Offset    int                 `json:"offset"`
	// Next is the URL of the next page; empty on the last.
	Next string `json:"next"`
}

func (s *Server) apiDocuments(w http.ResponseWriter, r *http.Request) {
	f, err := documentFilter(r.URL.Query())
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	docs, more, err := s.r.BrowseDocuments(r.Context(), f)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if docs == nil {
		docs = []store.DocumentRow{}
	}
	for i := range docs {
		if docs[i].Stances == nil {
			docs[i].Stances = []string{}
		}
	}
	out := documentsJSON{Documents: docs, Limit: f.Limit, Offset: f.Offset}
	if more {
		out.Next = withParam(r, "offset", strconv.Itoa(f.Offset+f.Limit))
	}
	writeJSON(w, http.StatusOK, out)
}

// documentJSON is GET /api/documents/{id}'s answer: the document, the
// extraction shown and, when reviewing is on, its reviews.
type documentJSON struct {
	*store.DocumentDetail
	Reviews any `json:"reviews,omitempty"`
}

func (s *Server) apiDocument(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	run, err := intParam(r.URL.Query(), "run")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	d, err := s.r.DocumentDetail(r.Context(), id, run)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if d.Theses == nil {
		d.Theses = []store.ThesisDetail{}
	}
	rev, err := s.reviewData(r.Context(), d)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, documentJSON{d, rev})
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	runs, err := s.r.BrowseRuns(r.Context(), 0)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := make([]runJSON, len(runs))
	for i, run := range runs {
		out[i] = toRunJSON(run)
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": out})
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	run, err := s.r.RunByID(r.Context(), id)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRunJSON(*run))
}

// failuresJSON is GET /api/failures's answer.
type failuresJSON struct {
	Failures []store.FailureRow `json:"failures"`
	Next     string             `json:"next"`
}

func (s *Server) apiFailures(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	run, err := intParam(q, "run")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	offset, err := intParam(q, "offset")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	limit, err := intParam(q, "limit")
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if limit == 0 {
		limit = 100
	}
	if limit > 1000 {
		s.apiError(w, r, badRequest("limit=%d: at most 1000", limit))
		return
	}
	fails, more, err := s.r.BrowseFailures(r.Context(), run, int(limit), int(offset))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	out := failuresJSON{Failures: fails}
	if more {
		u := url.URL{Path: r.URL.Path}
		q.Set("offset", strconv.FormatInt(offset+limit, 10))
		q.Del("token")
		u.RawQuery = q.Encode()
		out.Next = u.String()
	}
	writeJSON(w, http.StatusOK, out)
}

// runCost is a run's cost, nil when unknown.
func runCost(r store.Run) *float64 {
	if r.Usage.CostUnknown {
		return nil
	}
	c := r.Usage.CostUSD
	return &c
}

// rawJSON is s as a JSON value when it is one, else as a string.
func rawJSON(s string) any {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return s
}
