package web

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/thesisdb/thesisdb/compare"
	"github.com/thesisdb/thesisdb/store"
)

// The diff of two runs: package compare's report (what `thesisdb diff`
// prints), read through the read-only connection.

var _ compare.RunPairs = (*store.Reader)(nil)

// diffCache keeps the latest reports of finished runs, which cannot
// change: comparing two runs reads every extraction of both (seconds for
// two runs of 20,000 documents), so that the page and its JSON, or a
// second look, pay once.
type diffCache struct {
	mu      sync.Mutex
	entries []diffEntry
}

type diffEntry struct {
	a, b int64
	rep  *compare.DiffReport
}

const diffCacheSize = 4

// diff returns the report of runs a and b, cached when both are finished.
func (s *Server) diff(ctx context.Context, a, b int64) (*compare.DiffReport, error) {
	finished := true
	for _, id := range []int64{a, b} {
		run, err := s.r.RunByID(ctx, id)
		if err != nil {
			return nil, err
		}
		if run.Status == store.RunRunning || run.Status == store.RunWaiting {
			finished = false
		}
	}
	c := &s.diffs
	if finished {
		c.mu.Lock()
		for _, e := range c.entries {
			if e.a == a && e.b == b {
				c.mu.Unlock()
				return e.rep, nil
			}
		}
		c.mu.Unlock()
	}
	rep, err := compare.DiffRuns(ctx, s.r, a, b)
	if err != nil || !finished {
		return rep, err
	}
	c.mu.Lock()
	c.entries = append([]diffEntry{{a, b, rep}}, c.entries[:min(len(c.entries), diffCacheSize-1)]...)
	c.mu.Unlock()
	return rep, nil
}

// diffParams reads ?a=&b=; ok is false when neither is given.
func diffParams(r *http.Request) (a, b int64, ok bool, err error) {
	q := r.URL.Query()
	if q.Get("a") == "" && q.Get("b") == "" {
		return 0, 0, false, nil
	}
	if a, err = intParam(q, "a"); err != nil {
		return 0, 0, false, err
	}
	if b, err = intParam(q, "b"); err != nil {
		return 0, 0, false, err
	}
	if a == 0 || b == 0 {
		return 0, 0, false, badRequest("a and b: want two run ids, e.g. ?a=3&b=4")
	}
	return a, b, true, nil
}

type diffView struct {
	base
	Runs   []store.Run
	A, B   int64
	All    bool
	Report *compare.DiffReport
}

func (s *Server) diffPage(w http.ResponseWriter, r *http.Request) {
	a, b, ok, err := diffParams(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	runs, err := s.r.BrowseRuns(r.Context(), 200)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v := diffView{base: s.base(w, r, "Diff", "diff"), Runs: runs, A: a, B: b, All: r.URL.Query().Get("all") != ""}
	if !ok && len(runs) >= 2 {
		// The latest run against the one before it.
		v.A, v.B = runs[1].ID, runs[0].ID
	}
	if ok {
		if v.Report, err = s.diff(r.Context(), a, b); err != nil {
			s.pageError(w, r, err)
			return
		}
		v.Title = "Diff of runs " + strconv.FormatInt(a, 10) + " and " + strconv.FormatInt(b, 10)
	}
	s.render(w, r, "diff.html", v)
}

// apiDiff answers GET /api/diff?a=&b= with the report `thesisdb diff
// --format json` prints.
func (s *Server) apiDiff(w http.ResponseWriter, r *http.Request) {
	a, b, ok, err := diffParams(r)
	if err == nil && !ok {
		err = badRequest("a and b: want two run ids, e.g. ?a=3&b=4")
	}
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	rep, err := s.diff(r.Context(), a, b)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
