package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/thesisdb/thesisdb/internal/rowfmt"
	"github.com/thesisdb/thesisdb/store"
)

// preset is one of the README's example queries, offered on the SQL page.
type preset struct {
	Name, SQL string
}

// presets are the README's example queries, in its order (a test keeps
// them equal to the README's).
var presets = []preset{
	{"Theses by conviction", `SELECT document_title, stance, confidence, conviction, horizon
FROM current_theses
ORDER BY conviction DESC NULLS LAST`},
	{"How each perspective leans", `SELECT perspective, stance, views, round(avg_confidence, 2) AS avg_confidence
FROM current_perspectives
ORDER BY perspective, views DESC`},
	{"Where a perspective disagrees with its thesis", `SELECT t.document_title, t.stance AS thesis_stance, v.perspective, v.stance AS view_stance, v.confidence
FROM current_theses t
JOIN current_views v ON v.thesis_id = t.thesis_id
WHERE v.stance <> t.stance`},
	{"Spreads and rate moves in basis points", `SELECT document_title, indicator, value, value_num
FROM current_data_points
WHERE unit = 'bp'
ORDER BY value_num DESC`},
	{"Percentages of 10% and more", `SELECT document_title, indicator, value, value_low, value_high
FROM current_data_points
WHERE unit = '%' AND value_high >= 10
ORDER BY value_high DESC`},
	{"Dollar amounts, in billions", `SELECT document_title, indicator, value,
       round(value_low / 1e9, 1) AS low_bn, round(value_high / 1e9, 1) AS high_bn
FROM current_data_points
WHERE unit = 'USD'
ORDER BY value_high DESC`},
	{"Valuation multiples", `SELECT document_title, thesis_stance, indicator, value_num AS multiple
FROM current_data_points
WHERE unit = 'x'
ORDER BY multiple`},
	{"The most cited sources", `SELECT data_source, data_points, documents
FROM current_sources
ORDER BY data_points DESC
LIMIT 10`},
	{"Full-text search of documents", `SELECT d.title, snippet(documents_fts, '[', ']', '…', -1, 12) AS hit
FROM documents_fts
JOIN documents d ON d.id = documents_fts.docid
WHERE documents_fts MATCH 'credit'`},
	{"Full-text search of data points", `SELECT p.document_title, p.indicator, p.value, p.data_source
FROM data_points_fts f
JOIN current_data_points p ON p.data_point_id = f.docid
WHERE data_points_fts MATCH 'margin*'
ORDER BY f.docid DESC`},
	{"Figures with their PDF page", `SELECT document_title, page, indicator, value
FROM current_data_points
WHERE page IS NOT NULL
ORDER BY document_title, page`},
	{"A figure in its context", `SELECT p.indicator, p.value,
       substr(d.text, max(p.char_start - 60, 0) + 1, p.char_end - max(p.char_start - 60, 0) + 60) AS context
FROM current_data_points p
JOIN documents d ON d.id = p.document_id
WHERE p.grounded = 1
LIMIT 5`},
	{"How well each document is grounded", `SELECT document_title, data_points, grounded
FROM current_documents
WHERE data_points > 0
ORDER BY grounded * 1.0 / data_points`},
	{"What each run did", `SELECT id, kind, status, extractor, model, prompt_version, documents_ok, documents_failed,
       data_points, ungrounded, prompt_tokens, completion_tokens, cost_usd
FROM runs
ORDER BY id DESC`},
}

// queryResult is a query's answer as the SQL page and /api/query give it.
type queryResult struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// Truncated is true when the result was cut at the row cap
	// (CutRows) or the byte budget (CutBytes).
	Truncated bool `json:"truncated"`
	CutRows   bool `json:"cut_rows"`
	CutBytes  bool `json:"cut_bytes"`
	MaxRows   int  `json:"max_rows"`
}

// limits are the SQL page's bounds, those of `thesisdb query`.
func (s *Server) limits() store.Limits {
	return store.Limits{MaxRows: s.cfg.MaxRows, MaxBytes: s.cfg.MaxBytes}
}

// runQuery runs one read-only statement within the server's timeout and
// limits, through store.Reader.Stream: the guard `thesisdb query` uses.
func (s *Server) runQuery(ctx context.Context, q string, columns func([]string) error, row func([]any) error) (store.Summary, error) {
	if strings.TrimSpace(q) == "" {
		return store.Summary{}, badRequest("no SQL given: sql=SELECT ...")
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	sum, err := s.r.Stream(ctx, q, s.limits(), columns, row)
	if err != nil {
		var he *httpError
		switch {
		case errors.As(err, &he):
			return sum, err
		case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
			return sum, &httpError{http.StatusBadRequest, fmt.Sprintf("query stopped after the %s timeout: %v", s.cfg.QueryTimeout, err)}
		case errors.Is(err, context.Canceled):
			return sum, err
		}
		return sum, &httpError{http.StatusBadRequest, err.Error()}
	}
	return sum, nil
}

// collect runs q and holds its (bounded) result.
func (s *Server) collect(ctx context.Context, q string) (*queryResult, error) {
	res := &queryResult{Columns: []string{}, Rows: [][]any{}, MaxRows: s.cfg.MaxRows}
	sum, err := s.runQuery(ctx, q, func(c []string) error { res.Columns = c; return nil },
		func(v []any) error {
			for i := range v {
				v[i] = rowfmt.JSONValue(v[i])
			}
			res.Rows = append(res.Rows, v)
			return nil
		})
	if err != nil {
		return nil, err
	}
	res.CutRows, res.CutBytes, res.Truncated = sum.CutRows, sum.CutBytes, sum.Cut()
	return res, nil
}

type sqlView struct {
	base
	SQL     string
	Presets []preset
	Result  *queryResult
	Error   string
	CSV     string
	JSON    string
}

func (s *Server) sqlPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("sql")
	v := sqlView{base: s.base(w, r, "SQL", "sql"), SQL: q, Presets: presets}
	if strings.TrimSpace(q) != "" {
		res, err := s.collect(r.Context(), q)
		if err != nil {
			code, msg := s.status(r, err)
			if code >= 500 {
				s.pageError(w, r, err)
				return
			}
			v.Error = msg
		}
		v.Result = res
		v.CSV = "/sql/download?" + url.Values{"sql": {q}, "format": {"csv"}}.Encode()
		v.JSON = "/sql/download?" + url.Values{"sql": {q}, "format": {"json"}}.Encode()
	}
	s.render(w, r, "sql.html", v)
}

// sqlDownload streams a query's result as CSV or JSON (an array of
// objects), exactly as `thesisdb query --format csv|json` prints it,
// within the same limits.
func (s *Server) sqlDownload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("sql")
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "json" {
		http.Error(w, fmt.Sprintf("format=%q: want csv or json", format), http.StatusBadRequest)
		return
	}
	rw := rowfmt.NewWriter(w, format)
	started := false
	start := func() {
		if started {
			return
		}
		started = true
		h := w.Header()
		if format == "csv" {
			h.Set("Content-Type", "text/csv; charset=utf-8")
		} else {
			h.Set("Content-Type", "application/json; charset=utf-8")
		}
		h.Set("Content-Disposition", `attachment; filename="query.`+format+`"`)
	}
	sum, err := s.runQuery(r.Context(), q, rw.Header, func(v []any) error {
		start()
		return rw.Row(v)
	})
	if err != nil && !started {
		code, msg := s.status(r, err)
		http.Error(w, msg, code)
		return
	}
	start()
	if err != nil {
		// The status is sent: the error ends the body, so that the file
		// is visibly incomplete.
		s.log.Warn("query download stopped", "err", err)
		fmt.Fprintf(w, "\nerror: %v\n", err)
		return
	}
	if err := rw.Close(); err != nil {
		s.log.Warn("query download", "err", err)
		return
	}
	if sum.Cut() {
		s.log.Info("query download cut at the limits", "rows", sum.Rows, "cut_rows", sum.CutRows, "cut_bytes", sum.CutBytes)
	}
}

// apiQuery answers GET /api/query?sql= with the bounded result.
func (s *Server) apiQuery(w http.ResponseWriter, r *http.Request) {
	res, err := s.collect(r.Context(), r.URL.Query().Get("sql"))
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
