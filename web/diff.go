package web

import "net/http"

// The diff of two runs: built on package compare's run diff.

func (s *Server) diffPage(w http.ResponseWriter, r *http.Request) {
	s.pageError(w, r, &httpError{http.StatusNotImplemented, "the diff page is not built yet"})
}

func (s *Server) apiDiff(w http.ResponseWriter, r *http.Request) {
	s.apiError(w, r, &httpError{http.StatusNotImplemented, "the diff API is not built yet"})
}
