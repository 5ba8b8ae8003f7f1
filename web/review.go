package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/thesisdb/thesisdb/store"
)

// maxReviewBody is the most bytes a review request's body may hold.
const maxReviewBody = 64 << 10

// errReviewOff answers a review request when serve was started without
// --review.
var errReviewOff = &httpError{http.StatusForbidden,
	"reviewing is off: this server is read-only; restart it with thesisdb serve --review to record reviews"}

// reviewRoutes registers the review handlers (POSTs pass the CSRF check
// in guard before they reach them). The form handlers answer a browser
// with a redirect back to the data point; the /api/ ones take and give
// JSON.
func (s *Server) reviewRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /data-points/{id}/review", s.reviewForm)
	mux.HandleFunc("POST /theses/{id}/add", s.addForm)
	mux.HandleFunc("GET /api/documents/{id}/reviews", s.apiReviews)
	mux.HandleFunc("POST /api/data-points/{id}/reviews", s.apiReview)
	mux.HandleFunc("POST /api/theses/{id}/data-points", s.apiAdd)
	mux.HandleFunc("GET /api/csrf", s.apiCSRF)
}

// reviewView is what the document page's "reviews" and "dp-review" blocks
// show, and the "reviews" member of GET /api/documents/{id}.
type reviewView struct {
	// Enabled says whether this server records reviews (--review).
	Enabled bool `json:"enabled"`
	// Reviewer is the name reviews are recorded under by default.
	Reviewer string `json:"reviewer,omitempty"`
	// ExtractionID is the extraction shown, whose data points the
	// reviews below are of.
	ExtractionID int64 `json:"extraction_id"`
	// State is each reviewed data point's verdict and corrected fields.
	State map[int64]store.ReviewState `json:"state"`
	// Reviews are the reviews of the extraction shown, newest first.
	Reviews []reviewEntry `json:"reviews"`
	// Added are the data points analysts added to it, oldest first.
	Added []store.AddedDataPoint `json:"added"`
	// Other counts the document's reviews of other extractions.
	Other int `json:"other_extractions"`

	// For the forms (not in the JSON): the stances to choose from and
	// each thesis's stance as the analysts hold it.
	Stances      []string         `json:"-"`
	thesisStance map[int64]string `json:"-"`
}

// reviewEntry is a review with the indicator of the data point reviewed.
type reviewEntry struct {
	store.DataPointReview
	Indicator string `json:"indicator"`
}

// For returns the review state of data point id, or nil.
func (v *reviewView) For(id int64) *store.ReviewState {
	if v == nil {
		return nil
	}
	st, ok := v.State[id]
	if !ok {
		return nil
	}
	return &st
}

// AddedTo returns the data points added to thesis id.
func (v *reviewView) AddedTo(id int64) []store.AddedDataPoint {
	var out []store.AddedDataPoint
	for _, a := range v.Added {
		if a.ThesisID == id {
			out = append(out, a)
		}
	}
	return out
}

// Held returns what the analysts hold field f of dp to be: its latest
// correction, else the extracted value (stance is its thesis's).
func (v *reviewView) Held(dp store.DataPointRow, f string) string {
	if st := v.For(dp.ID); st != nil {
		if val, ok := st.Fields[f]; ok {
			return val
		}
	}
	switch f {
	case "stance":
		return v.thesisStance[dp.ThesisID]
	case "indicator":
		return dp.Indicator
	case "value":
		return dp.Value
	case "source":
		return dp.Source
	case "implication":
		return dp.Implication
	}
	return ""
}

// reviewData returns what the document page's "reviews" and "dp-review"
// blocks show for d (nil: nothing); the API's document answer carries it
// as "reviews" when not nil. A read-only server with no reviews of the
// document shows nothing.
func (s *Server) reviewData(ctx context.Context, d *store.DocumentDetail) (any, error) {
	dr, err := s.r.DocumentReviews(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	if !s.cfg.Review && len(dr.Reviews) == 0 && len(dr.Added) == 0 {
		return nil, nil
	}
	v := &reviewView{Enabled: s.cfg.Review, State: map[int64]store.ReviewState{}, Reviews: []reviewEntry{},
		Added: []store.AddedDataPoint{}, Stances: stances, thesisStance: map[int64]string{}}
	if s.cfg.Review {
		v.Reviewer = s.cfg.Reviewer
	}
	indicator := map[int64]string{}
	if d.Extraction != nil {
		v.ExtractionID = d.Extraction.ID
	}
	thesisOf := map[int64]int64{}
	for _, t := range d.Theses {
		v.thesisStance[t.ID] = t.Stance
		for _, p := range t.DataPoints {
			indicator[p.ID], thesisOf[p.ID] = p.Indicator, t.ID
		}
	}
	for id, st := range dr.State {
		if _, ok := indicator[id]; ok {
			v.State[id] = st
			if stance, ok := st.Fields["stance"]; ok {
				v.thesisStance[thesisOf[id]] = stance
			}
		}
	}
	for _, r := range dr.Reviews {
		if r.ExtractionID != v.ExtractionID {
			v.Other++
			continue
		}
		v.Reviews = append(v.Reviews, reviewEntry{r, indicator[r.DataPointID]})
	}
	sort.SliceStable(v.Reviews, func(i, j int) bool { return v.Reviews[i].ID > v.Reviews[j].ID })
	for _, a := range dr.Added {
		if a.ExtractionID != v.ExtractionID {
			v.Other++
			continue
		}
		v.Added = append(v.Added, a)
	}
	return v, nil
}

// reviewer is the name a review is recorded under: the form's or JSON's
// reviewer when given, else the server's (--reviewer).
func (s *Server) reviewer(given string) string {
	if g := strings.TrimSpace(given); g != "" {
		return g
	}
	return s.cfg.Reviewer
}

// reviewError maps a store error to its HTTP status.
func reviewError(err error) error {
	if errors.Is(err, store.ErrBadReview) {
		return badRequest("%s", err.Error())
	}
	return err
}

// readForm parses a form body of at most maxReviewBody bytes.
func readForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxReviewBody)
	if err := r.ParseForm(); err != nil {
		return badRequest("cannot read the form: %v", err)
	}
	return nil
}

// backTo redirects a form's browser to the document's data point, on the
// run the form was posted from.
func backTo(w http.ResponseWriter, r *http.Request, docID int64, anchor string) {
	u := url.URL{Path: "/documents/" + strconv.FormatInt(docID, 10), Fragment: anchor}
	if run, err := strconv.ParseInt(r.PostFormValue("run"), 10, 64); err == nil && run > 0 {
		u.RawQuery = "run=" + strconv.FormatInt(run, 10)
	}
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// reviewInput reads a review from form values: verdict=right|wrong, or
// action=correct with the fields to correct (those equal to what the
// analysts already hold are not corrections).
func (s *Server) reviewInput(id int64, form url.Values) store.ReviewInput {
	in := store.ReviewInput{DataPointID: id, Reviewer: s.reviewer(form.Get("reviewer")), Note: form.Get("note"),
		Verdict: form.Get("verdict")}
	if form.Get("action") == "correct" || in.Verdict == store.VerdictCorrected {
		in.Verdict = ""
		for _, f := range store.ReviewFields {
			if _, ok := form[f]; ok {
				in.Corrections = append(in.Corrections, store.Correction{Field: f, New: form.Get(f)})
			}
		}
	}
	return in
}

// reviewForm records a verdict or corrections posted from the document
// page and sends the browser back to the data point.
func (s *Server) reviewForm(w http.ResponseWriter, r *http.Request) {
	rv, err := s.review(w, r, func(id int64) (store.ReviewInput, error) {
		if err := readForm(w, r); err != nil {
			return store.ReviewInput{}, err
		}
		return s.reviewInput(id, r.PostForm), nil
	})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	backTo(w, r, rv.DocumentID, "dp-"+strconv.FormatInt(rv.DataPointID, 10))
}

// review checks that reviewing is on and stores the review read.
func (s *Server) review(w http.ResponseWriter, r *http.Request, read func(id int64) (store.ReviewInput, error)) (store.DataPointReview, error) {
	if !s.cfg.Review {
		return store.DataPointReview{}, errReviewOff
	}
	id, err := pathID(r)
	if err != nil {
		return store.DataPointReview{}, err
	}
	in, err := read(id)
	if err != nil {
		return store.DataPointReview{}, err
	}
	rv, err := s.cfg.DB.ReviewDataPoint(r.Context(), in)
	if err != nil {
		return rv, reviewError(err)
	}
	s.log.Info("review recorded", "data_point", id, "verdict", rv.Verdict, "reviewer", rv.Reviewer, "corrections", len(rv.Corrections))
	return rv, nil
}

// add checks that reviewing is on and stores the added data point read.
func (s *Server) add(w http.ResponseWriter, r *http.Request, read func(thesis int64) (store.AddedDataPoint, error)) (store.AddedDataPoint, error) {
	if !s.cfg.Review {
		return store.AddedDataPoint{}, errReviewOff
	}
	id, err := pathID(r)
	if err != nil {
		return store.AddedDataPoint{}, err
	}
	a, err := read(id)
	if err != nil {
		return a, err
	}
	a.ThesisID = id
	a.Reviewer = s.reviewer(a.Reviewer)
	out, err := s.cfg.DB.AddDataPoint(r.Context(), a)
	if err != nil {
		return out, reviewError(err)
	}
	s.log.Info("data point added", "thesis", id, "id", out.ID, "reviewer", out.Reviewer)
	return out, nil
}

// addForm records a missed data point posted from the document page.
func (s *Server) addForm(w http.ResponseWriter, r *http.Request) {
	a, err := s.add(w, r, func(int64) (store.AddedDataPoint, error) {
		if err := readForm(w, r); err != nil {
			return store.AddedDataPoint{}, err
		}
		f := r.PostForm
		return store.AddedDataPoint{Indicator: f.Get("indicator"), Value: f.Get("value"), Source: f.Get("source"),
			Implication: f.Get("implication"), Perspective: f.Get("perspective"), Quote: f.Get("quote"),
			Reviewer: f.Get("reviewer"), Note: f.Get("note")}, nil
	})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	backTo(w, r, a.DocumentID, "added-"+strconv.FormatInt(a.ID, 10))
}

// reviewJSON is the body of POST /api/data-points/{id}/reviews.
type reviewJSON struct {
	Verdict string `json:"verdict"`
	// Corrections maps fields (stance, indicator, value, source,
	// implication) to their new values.
	Corrections map[string]string `json:"corrections"`
	Reviewer    string            `json:"reviewer"`
	Note        string            `json:"note"`
}

// readJSON decodes a JSON body of at most maxReviewBody bytes into v,
// refusing unknown fields.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return &httpError{http.StatusUnsupportedMediaType, "send the body as application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxReviewBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("cannot read the JSON body: %v", err)
	}
	return nil
}

func (s *Server) apiReview(w http.ResponseWriter, r *http.Request) {
	rv, err := s.review(w, r, func(id int64) (store.ReviewInput, error) {
		var body reviewJSON
		if err := readJSON(w, r, &body); err != nil {
			return store.ReviewInput{}, err
		}
		in := store.ReviewInput{DataPointID: id, Verdict: body.Verdict, Reviewer: s.reviewer(body.Reviewer), Note: body.Note}
		for _, f := range store.ReviewFields {
			if v, ok := body.Corrections[f]; ok {
				in.Corrections = append(in.Corrections, store.Correction{Field: f, New: v})
			}
		}
		if len(in.Corrections) != len(body.Corrections) {
			return in, badRequest("corrections: only %s may be corrected", strings.Join(store.ReviewFields, ", "))
		}
		return in, nil
	})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, rv)
}

func (s *Server) apiAdd(w http.ResponseWriter, r *http.Request) {
	a, err := s.add(w, r, func(int64) (store.AddedDataPoint, error) {
		var body struct {
			Indicator   string `json:"indicator"`
			Value       string `json:"value"`
			Source      string `json:"source"`
			Implication string `json:"implication"`
			Perspective string `json:"perspective"`
			Quote       string `json:"quote"`
			Reviewer    string `json:"reviewer"`
			Note        string `json:"note"`
		}
		if err := readJSON(w, r, &body); err != nil {
			return store.AddedDataPoint{}, err
		}
		return store.AddedDataPoint{Indicator: body.Indicator, Value: body.Value, Source: body.Source, Implication: body.Implication,
			Perspective: body.Perspective, Quote: body.Quote, Reviewer: body.Reviewer, Note: body.Note}, nil
	})
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// apiReviews answers every review of a document, of every extraction.
func (s *Server) apiReviews(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.apiError(w, r, err)
		return
	}
	if _, err := s.r.DocumentDetail(r.Context(), id, 0); err != nil {
		s.apiError(w, r, err)
		return
	}
	dr, err := s.r.DocumentReviews(r.Context(), id)
	if err != nil {
		s.apiError(w, r, fmt.Errorf("reviews of document %d: %w", id, err))
		return
	}
	writeJSON(w, http.StatusOK, dr)
}

// apiCSRF gives a script the CSRF token its POSTs must carry in the
// X-CSRF-Token header (with the cookie this response sets). A page on
// another site cannot read it: the answer carries no CORS header.
func (s *Server) apiCSRF(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"csrf": s.CSRFToken(w, r), "header": CSRFHeader, "review": s.cfg.Review})
}

// CorrectedStance returns the stance the analysts hold thesis t to have
// when it differs from the extracted one, else "".
func (v *reviewView) CorrectedStance(t store.ThesisDetail) string {
	if s := v.thesisStance[t.ID]; s != t.Stance {
		return s
	}
	return ""
}
