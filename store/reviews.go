package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/thesisdb/thesisdb/schema"
)

// The verdicts of a data point review.
const (
	VerdictRight     = "right"
	VerdictWrong     = "wrong"
	VerdictCorrected = "corrected"
)

// ReviewFields are the fields of a data point an analyst may correct, in
// display order; stance is the stance of the data point's thesis.
var ReviewFields = []string{"stance", "indicator", "value", "source", "implication"}

// ErrBadReview is returned (wrapped, with the reason) for a review that
// cannot be stored as given: an unknown verdict or field, an empty value.
var ErrBadReview = errors.New("invalid review")

// MaxReviewText is the most characters a reviewed field, note or reviewer
// name may hold.
const MaxReviewText = 4000

// Correction is one field of a data point set to a new value.
type Correction struct {
	Field string `json:"field"`
	// Old is what the analyst saw: the extracted value, or the value of
	// an earlier correction. Filled in by ReviewDataPoint.
	Old string `json:"old"`
	New string `json:"new"`
}

// ReviewInput is one analyst's review of one data point: a verdict (right
// or wrong) or corrections (the verdict is then "corrected").
type ReviewInput struct {
	DataPointID int64
	Verdict     string
	Corrections []Correction
	Reviewer    string
	Note        string
}

// DataPointReview is a stored review of one data point.
type DataPointReview struct {
	ID           int64        `json:"id"`
	DataPointID  int64        `json:"data_point_id"`
	ExtractionID int64        `json:"extraction_id"`
	DocumentID   int64        `json:"document_id"`
	Verdict      string       `json:"verdict"`
	Reviewer     string       `json:"reviewer"`
	ReviewedAt   string       `json:"reviewed_at"`
	Note         string       `json:"note,omitempty"`
	Corrections  []Correction `json:"corrections,omitempty"`
}

// AddedDataPoint is a data point an analyst found in the text that the
// extraction missed, added to one of its theses.
type AddedDataPoint struct {
	ID           int64  `json:"id"`
	ThesisID     int64  `json:"thesis_id"`
	ExtractionID int64  `json:"extraction_id"`
	DocumentID   int64  `json:"document_id"`
	Indicator    string `json:"indicator"`
	Value        string `json:"value"`
	Source       string `json:"source,omitempty"`
	Implication  string `json:"implication,omitempty"`
	Perspective  string `json:"perspective,omitempty"`
	Quote        string `json:"quote,omitempty"`
	Reviewer     string `json:"reviewer"`
	ReviewedAt   string `json:"reviewed_at"`
	Note         string `json:"note,omitempty"`
}

// ReviewState is what the analysts hold one data point to be after all
// its reviews: the latest verdict and each corrected field's latest value.
type ReviewState struct {
	Verdict    string            `json:"verdict"`
	Fields     map[string]string `json:"fields,omitempty"`
	Reviewer   string            `json:"reviewer"`
	ReviewedAt string            `json:"reviewed_at"`
	Reviews    int               `json:"reviews"`
}

// DocumentReviews are the reviews of one document, oldest first.
type DocumentReviews struct {
	Reviews []DataPointReview `json:"reviews"`
	Added   []AddedDataPoint  `json:"added"`
	// State is each reviewed data point's ReviewState, by data point id.
	State map[int64]ReviewState `json:"state"`
}

func badReview(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadReview, fmt.Sprintf(format, args...))
}

// checkText refuses text that is too long, not UTF-8 or holds control
// characters other than line breaks and tabs.
func checkText(what, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		return "", badReview("%s is empty", what)
	case !utf8.ValidString(s):
		return "", badReview("%s is not UTF-8", what)
	case utf8.RuneCountInString(s) > MaxReviewText:
		return "", badReview("%s is longer than %d characters", what, MaxReviewText)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' {
			return "", badReview("%s holds a control character (%U)", what, r)
		}
	}
	return s, nil
}

// checkReviewer validates a reviewer's name: one line of text.
func checkReviewer(name string) (string, error) {
	name, err := checkText("reviewer", name, true)
	if err == nil && strings.ContainsAny(name, "\r\n\t") {
		err = badReview("reviewer holds a line break or tab")
	}
	return name, err
}

// ReviewDataPoint stores one analyst's review of a data point: a verdict,
// or corrections of its fields (each field's old value is what the
// analysts held it to be before). The data point's rows are not changed.
// It returns ErrNotFound when the data point does not exist and
// ErrBadReview when the review is invalid.
func (db *DB) ReviewDataPoint(ctx context.Context, in ReviewInput) (DataPointReview, error) {
	var out DataPointReview
	reviewer, err := checkReviewer(in.Reviewer)
	if err != nil {
		return out, err
	}
	note, err := checkText("note", in.Note, false)
	if err != nil {
		return out, err
	}
	verdict := in.Verdict
	switch {
	case len(in.Corrections) > 0 && (verdict == "" || verdict == VerdictCorrected):
		verdict = VerdictCorrected
	case len(in.Corrections) > 0:
		return out, badReview("a correction's verdict is %q, not %q", VerdictCorrected, verdict)
	case verdict != VerdictRight && verdict != VerdictWrong:
		return out, badReview("verdict %q: want right or wrong, or a correction", verdict)
	}
	seen := map[string]bool{}
	var cs []Correction
	for _, c := range in.Corrections {
		if !isReviewField(c.Field) {
			return out, badReview("field %q cannot be corrected: want one of %s", c.Field, strings.Join(ReviewFields, ", "))
		}
		if seen[c.Field] {
			return out, badReview("field %s corrected twice", c.Field)
		}
		seen[c.Field] = true
		v, err := checkText(c.Field, c.New, c.Field != "source" && c.Field != "implication")
		if err != nil {
			return out, err
		}
		if c.Field == "stance" {
			v = strings.ToLower(v)
			if !schema.Stance(v).Valid() {
				return out, badReview("stance %q: want bullish, bearish, neutral or mixed", v)
			}
		}
		cs = append(cs, Correction{Field: c.Field, New: v})
	}
	err = db.tx(ctx, func(tx *sql.Tx) error {
		var thesisID int64
		if err := tx.QueryRowContext(ctx, `SELECT extraction_id, document_id, thesis_id FROM data_points WHERE id = ?`,
			in.DataPointID).Scan(&out.ExtractionID, &out.DocumentID, &thesisID); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("data point %d: %w", in.DataPointID, ErrNotFound)
		} else if err != nil {
			return err
		}
		held, err := heldValues(ctx, tx, in.DataPointID)
		if err != nil {
			return err
		}
		kept := cs[:0]
		for _, c := range cs {
			c.Old = held[c.Field]
			if strings.TrimSpace(c.Old) == c.New {
				continue // no change: not a correction
			}
			kept = append(kept, c)
		}
		if verdict == VerdictCorrected && len(kept) == 0 {
			return badReview("the corrections change nothing: every field already holds its new value")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO data_point_reviews (data_point_id, extraction_id, document_id, verdict, reviewer, note)
			VALUES (?, ?, ?, ?, ?, nullif(?, ''))`, in.DataPointID, out.ExtractionID, out.DocumentID, verdict, reviewer, note)
		if err != nil {
			return err
		}
		if out.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		for _, c := range kept {
			if _, err := tx.ExecContext(ctx, `INSERT INTO data_point_corrections (review_id, data_point_id, field, old_value, new_value)
				VALUES (?, ?, ?, ?, ?)`, out.ID, in.DataPointID, c.Field, c.Old, c.New); err != nil {
				return err
			}
		}
		out.Corrections = kept
		return tx.QueryRowContext(ctx, `SELECT reviewed_at FROM data_point_reviews WHERE id = ?`, out.ID).Scan(&out.ReviewedAt)
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrBadReview) {
			return DataPointReview{}, err
		}
		return DataPointReview{}, fmt.Errorf("review data point %d: %w", in.DataPointID, err)
	}
	out.DataPointID, out.Verdict, out.Reviewer, out.Note = in.DataPointID, verdict, reviewer, note
	return out, nil
}

func isReviewField(f string) bool {
	for _, g := range ReviewFields {
		if f == g {
			return true
		}
	}
	return false
}

// heldValues returns each reviewable field of a data point as the analysts
// hold it: the latest correction, else the extracted value.
func heldValues(ctx context.Context, tx *sql.Tx, dataPointID int64) (map[string]string, error) {
	var stance, indicator, value, source, implication string
	if err := tx.QueryRowContext(ctx, `SELECT t.stance, p.indicator, p.value, coalesce(p.source, ''), coalesce(p.implication, '')
		FROM data_points p JOIN theses t ON t.id = p.thesis_id WHERE p.id = ?`, dataPointID).
		Scan(&stance, &indicator, &value, &source, &implication); err != nil {
		return nil, err
	}
	held := map[string]string{"stance": stance, "indicator": indicator, "value": value, "source": source, "implication": implication}
	// The latest correction of each field; a stance correction made on
	// any data point of the thesis holds for all of them.
	rows, err := tx.QueryContext(ctx, `SELECT c.id, c.field, c.new_value FROM data_point_corrections c
		WHERE c.data_point_id = ? AND c.field <> 'stance'
		UNION ALL
		SELECT c.id, c.field, c.new_value FROM data_point_corrections c JOIN data_points q ON q.id = c.data_point_id
		WHERE c.field = 'stance' AND q.thesis_id = (SELECT thesis_id FROM data_points WHERE id = ?)
		ORDER BY 1`, dataPointID, dataPointID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var field, value string
		if err := rows.Scan(&id, &field, &value); err != nil {
			return nil, err
		}
		held[field] = value
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return held, nil
}

// AddDataPoint stores a data point an analyst found that the extraction
// missed, in the thesis a.ThesisID; the extraction is not changed. It
// returns ErrNotFound when the thesis does not exist and ErrBadReview
// when a field is invalid (indicator and value are required).
func (db *DB) AddDataPoint(ctx context.Context, a AddedDataPoint) (AddedDataPoint, error) {
	var err error
	if a.Reviewer, err = checkReviewer(a.Reviewer); err != nil {
		return AddedDataPoint{}, err
	}
	for _, f := range []struct {
		name     string
		v        *string
		required bool
	}{{"indicator", &a.Indicator, true}, {"value", &a.Value, true}, {"source", &a.Source, false},
		{"implication", &a.Implication, false}, {"perspective", &a.Perspective, false}, {"quote", &a.Quote, false}, {"note", &a.Note, false}} {
		if *f.v, err = checkText(f.name, *f.v, f.required); err != nil {
			return AddedDataPoint{}, err
		}
	}
	a.Perspective = strings.ToLower(a.Perspective)
	err = db.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT extraction_id, document_id FROM theses WHERE id = ?`, a.ThesisID).
			Scan(&a.ExtractionID, &a.DocumentID); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("thesis %d: %w", a.ThesisID, ErrNotFound)
		} else if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO added_data_points (thesis_id, extraction_id, document_id, indicator, value,
				source, implication, perspective, quote, reviewer, note)
			VALUES (?, ?, ?, ?, ?, nullif(?, ''), nullif(?, ''), nullif(?, ''), ?, ?, nullif(?, ''))`,
			a.ThesisID, a.ExtractionID, a.DocumentID, a.Indicator, a.Value, a.Source, a.Implication, a.Perspective, a.Quote, a.Reviewer, a.Note)
		if err != nil {
			return err
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT reviewed_at FROM added_data_points WHERE id = ?`, a.ID).Scan(&a.ReviewedAt)
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return AddedDataPoint{}, err
		}
		return AddedDataPoint{}, fmt.Errorf("add data point to thesis %d: %w", a.ThesisID, err)
	}
	return a, nil
}

// queryer is what reading reviews needs of a connection pool.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DocumentReviews returns the reviews of a document, oldest first, and
// what they make of each reviewed data point.
func (db *DB) DocumentReviews(ctx context.Context, documentID int64) (*DocumentReviews, error) {
	return documentReviews(ctx, db.r, documentID)
}

// DocumentReviews returns the reviews of a document through the read-only
// connection (see DB.DocumentReviews). A database older than the review
// tables, which a read-only reader cannot upgrade, has none.
func (r *Reader) DocumentReviews(ctx context.Context, documentID int64) (*DocumentReviews, error) {
	dr, err := documentReviews(ctx, r.db, documentID)
	if err != nil && strings.Contains(err.Error(), "no such table: data_point_reviews") {
		return &DocumentReviews{Reviews: []DataPointReview{}, Added: []AddedDataPoint{}, State: map[int64]ReviewState{}}, nil
	}
	return dr, err
}

func documentReviews(ctx context.Context, q queryer, documentID int64) (*DocumentReviews, error) {
	out := &DocumentReviews{Reviews: []DataPointReview{}, Added: []AddedDataPoint{}, State: map[int64]ReviewState{}}
	if err := readReviews(ctx, q, `WHERE r.document_id = ?`, []any{documentID}, func(r DataPointReview) error {
		out.Reviews = append(out.Reviews, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reviews of document %d: %w", documentID, err)
	}
	if err := readAdded(ctx, q, `WHERE document_id = ?`, []any{documentID}, func(a AddedDataPoint) error {
		out.Added = append(out.Added, a)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("added data points of document %d: %w", documentID, err)
	}
	// The thesis of each reviewed data point, for stance corrections,
	// which hold for every data point of the thesis.
	thesisOf := map[int64]int64{}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT p.id, p.thesis_id FROM data_point_reviews r JOIN data_points p ON p.id = r.data_point_id
		WHERE r.document_id = ?`, documentID)
	if err != nil {
		return nil, fmt.Errorf("reviews of document %d: %w", documentID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var dp, th int64
		if err := rows.Scan(&dp, &th); err != nil {
			return nil, fmt.Errorf("reviews of document %d: %w", documentID, err)
		}
		thesisOf[dp] = th
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reviews of document %d: %w", documentID, err)
	}
	stance := map[int64]string{} // thesis -> latest stance correction
	for _, r := range out.Reviews {
		st := out.State[r.DataPointID]
		st.Verdict, st.Reviewer, st.ReviewedAt = r.Verdict, r.Reviewer, r.ReviewedAt
		st.Reviews++
		for _, c := range r.Corrections {
			if c.Field == "stance" {
				stance[thesisOf[r.DataPointID]] = c.New
				continue
			}
			if st.Fields == nil {
				st.Fields = map[string]string{}
			}
			st.Fields[c.Field] = c.New
		}
		out.State[r.DataPointID] = st
	}
	for dp, st := range out.State {
		if s, ok := stance[thesisOf[dp]]; ok {
			if st.Fields == nil {
				st.Fields = map[string]string{}
			}
			st.Fields["stance"] = s
			out.State[dp] = st
		}
	}
	return out, nil
}

// readReviews calls fn for each review matching where (on
// data_point_reviews r), in id order, with its corrections.
func readReviews(ctx context.Context, q queryer, where string, args []any, fn func(DataPointReview) error) error {
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.data_point_id, r.extraction_id, r.document_id, r.verdict, r.reviewer, r.reviewed_at,
			coalesce(r.note, ''), c.field, c.old_value, c.new_value
		FROM data_point_reviews r LEFT JOIN data_point_corrections c ON c.review_id = r.id `+where+` ORDER BY r.id, c.id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cur *DataPointReview
	for rows.Next() {
		var r DataPointReview
		var field, old, new sql.NullString
		if err := rows.Scan(&r.ID, &r.DataPointID, &r.ExtractionID, &r.DocumentID, &r.Verdict, &r.Reviewer, &r.ReviewedAt, &r.Note,
			&field, &old, &new); err != nil {
			return err
		}
		if cur != nil && cur.ID != r.ID {
			if err := fn(*cur); err != nil {
				return err
			}
			cur = nil
		}
		if cur == nil {
			cur = &r
		}
		if field.Valid {
			cur.Corrections = append(cur.Corrections, Correction{Field: field.String, Old: old.String, New: new.String})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if cur != nil {
		return fn(*cur)
	}
	return nil
}

// readAdded calls fn for each added data point matching where, in id order.
func readAdded(ctx context.Context, q queryer, where string, args []any, fn func(AddedDataPoint) error) error {
	rows, err := q.QueryContext(ctx, `SELECT id, thesis_id, extraction_id, document_id, indicator, value, coalesce(source, ''),
			coalesce(implication, ''), coalesce(perspective, ''), quote, reviewer, reviewed_at, coalesce(note, '')
		FROM added_data_points `+where+` ORDER BY id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a AddedDataPoint
		if err := rows.Scan(&a.ID, &a.ThesisID, &a.ExtractionID, &a.DocumentID, &a.Indicator, &a.Value, &a.Source, &a.Implication,
			&a.Perspective, &a.Quote, &a.Reviewer, &a.ReviewedAt, &a.Note); err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ReviewSummary counts what the analysts did to a reviewed extraction.
type ReviewSummary struct {
	Reviewers  []string `json:"reviewers"`
	Right      int      `json:"right"`
	Wrong      int      `json:"wrong"`
	Corrected  int      `json:"corrected"`
	Added      int      `json:"added"`
	Unreviewed int      `json:"unreviewed"`
	// Stale counts reviews of an earlier extraction of the document,
	// which the gold does not use.
	Stale int `json:"stale,omitempty"`
}

// ReviewedRecord is an ExportRecord whose extraction is what the analysts
// hold it to be, with a summary of their reviews: gold for thesisdb eval.
type ReviewedRecord struct {
	ExportRecord
	Review ReviewSummary `json:"review"`
}

// ReviewedGold calls fn, in document order, for every document an analyst
// reviewed: the extraction reviewed last, with every correction applied
// (the latest of each field), the data points whose latest verdict is
// wrong left out, the added data points put in their theses, and the data
// points nobody reviewed kept as extracted. Its DataPoints locations are
// left out: they belong to the extraction as stored.
func (db *DB) ReviewedGold(ctx context.Context, fn func(ReviewedRecord) error) error {
	return reviewedGold(ctx, db.r, fn)
}

// ReviewedGold is DB.ReviewedGold through the read-only connection.
func (r *Reader) ReviewedGold(ctx context.Context, fn func(ReviewedRecord) error) error {
	return reviewedGold(ctx, r.db, fn)
}

func reviewedGold(ctx context.Context, q queryer, fn func(ReviewedRecord) error) error {
	// The extraction of each document's latest review or addition.
	rows, err := q.QueryContext(ctx, `SELECT document_id, extraction_id FROM (
			SELECT document_id, extraction_id,
				row_number() OVER (PARTITION BY document_id ORDER BY reviewed_at DESC, kind DESC, id DESC) AS n
			FROM (SELECT document_id, extraction_id, reviewed_at, id, 0 AS kind FROM data_point_reviews
				UNION ALL SELECT document_id, extraction_id, reviewed_at, id, 1 FROM added_data_points))
		WHERE n = 1 ORDER BY document_id`)
	if err != nil {
		return fmt.Errorf("reviewed gold: %w", err)
	}
	type pick struct{ doc, ext int64 }
	var picks []pick
	for rows.Next() {
		var p pick
		if err := rows.Scan(&p.doc, &p.ext); err != nil {
			rows.Close()
			return fmt.Errorf("reviewed gold: %w", err)
		}
		picks = append(picks, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reviewed gold: %w", err)
	}
	for _, p := range picks {
		rec, err := reviewedRecord(ctx, q, p.doc, p.ext)
		if err != nil {
			return fmt.Errorf("reviewed gold of document %d: %w", p.doc, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// reviewedRecord builds the gold of one document from the reviews of its
// extraction extID.
func reviewedRecord(ctx context.Context, q queryer, docID, extID int64) (ReviewedRecord, error) {
	var rec ReviewedRecord
	var result sql.NullString
	rows, err := q.QueryContext(ctx, `SELECT d.id, d.sha256, d.kind, d.source, coalesce(d.title, ''), coalesce(d.author, ''), coalesce(d.published, ''),
			coalesce(d.tags, ''), d.ingested_at, e.run_id, e.id, e.extractor, coalesce(e.model, ''), e.prompt_version,
			e.schema_version, e.created_at, e.result
		FROM extractions e JOIN documents d ON d.id = e.document_id WHERE e.id = ? AND d.id = ?`, extID, docID)
	if err != nil {
		return rec, err
	}
	d, r := &rec.Document, &rec.Run
	found := rows.Next()
	if found {
		err = rows.Scan(&d.ID, &d.SHA256, &d.Kind, &d.Source, &d.Title, &d.Author, &d.Published, &d.Tags, &d.IngestedAt,
			&r.ID, &r.ExtractionID, &r.Extractor, &r.Model, &r.PromptVersion, &r.SchemaVersion, &r.CreatedAt, &result)
	}
	rows.Close()
	if err != nil {
		return rec, err
	}
	if err := rows.Err(); err != nil {
		return rec, err
	}
	if !found || !result.Valid {
		return rec, fmt.Errorf("extraction %d has no result: %w", extID, ErrNotFound)
	}
	var x schema.Extraction
	if err := json.Unmarshal([]byte(result.String), &x); err != nil {
		return rec, fmt.Errorf("extraction %d: %w", extID, err)
	}

	// Where each data point and thesis of the extraction stands in x.
	type place struct{ thesis, dp int }
	placeOf := map[int64]place{}
	thesisOrd := map[int64]int{}
	rows, err = q.QueryContext(ctx, `SELECT t.id, t.ordinal, p.id, p.ordinal FROM theses t LEFT JOIN data_points p ON p.thesis_id = t.id
		WHERE t.extraction_id = ?`, extID)
	if err != nil {
		return rec, err
	}
	for rows.Next() {
		var tid int64
		var tord int
		var pid, pord sql.NullInt64
		if err := rows.Scan(&tid, &tord, &pid, &pord); err != nil {
			rows.Close()
			return rec, err
		}
		thesisOrd[tid] = tord
		if pid.Valid {
			placeOf[pid.Int64] = place{tord, int(pord.Int64)}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rec, err
	}

	state := map[int64]*DataPointReview{} // latest review per data point
	fields := map[int64]map[string]string{}
	stances := map[int]string{}
	reviewers := map[string]bool{}
	if err := readReviews(ctx, q, `WHERE r.document_id = ?`, []any{docID}, func(rv DataPointReview) error {
		if rv.ExtractionID != extID {
			rec.Review.Stale++
			return nil
		}
		p, ok := placeOf[rv.DataPointID]
		if !ok || p.thesis >= len(x.Theses) || p.dp >= len(x.Theses[p.thesis].DataPoints) {
			return fmt.Errorf("review %d: data point %d is not in extraction %d's result", rv.ID, rv.DataPointID, extID)
		}
		reviewers[rv.Reviewer] = true
		state[rv.DataPointID] = &rv
		for _, c := range rv.Corrections {
			if c.Field == "stance" {
				stances[p.thesis] = c.New
				continue
			}
			if fields[rv.DataPointID] == nil {
				fields[rv.DataPointID] = map[string]string{}
			}
			fields[rv.DataPointID][c.Field] = c.New
		}
		return nil
	}); err != nil {
		return rec, err
	}
	var added []AddedDataPoint
	if err := readAdded(ctx, q, `WHERE document_id = ?`, []any{docID}, func(a AddedDataPoint) error {
		if a.ExtractionID != extID {
			rec.Review.Stale++
			return nil
		}
		reviewers[a.Reviewer] = true
		added = append(added, a)
		return nil
	}); err != nil {
		return rec, err
	}

	drop := map[place]bool{}
	for id, p := range placeOf {
		dp := &x.Theses[p.thesis].DataPoints[p.dp]
		rv := state[id]
		switch {
		case rv == nil:
			rec.Review.Unreviewed++
			continue
		case rv.Verdict == VerdictWrong:
			rec.Review.Wrong++
			drop[p] = true
			continue
		case len(fields[id]) > 0:
			rec.Review.Corrected++
		default:
			rec.Review.Right++
		}
		for f, v := range fields[id] {
			switch f {
			case "indicator":
				dp.Indicator = v
			case "value":
				dp.Value = v
			case "source":
				dp.Source = optional(v)
			case "implication":
				dp.Implication = optional(v)
			}
		}
	}
	for ti, s := range stances {
		x.Theses[ti].Stance = schema.Stance(s)
	}
	for ti := range x.Theses {
		kept := x.Theses[ti].DataPoints[:0]
		for di, dp := range x.Theses[ti].DataPoints {
			if !drop[place{ti, di}] {
				kept = append(kept, dp)
			}
		}
		x.Theses[ti].DataPoints = kept
	}
	for _, a := range added {
		ti, ok := thesisOrd[a.ThesisID]
		if !ok || ti >= len(x.Theses) {
			return rec, fmt.Errorf("added data point %d: thesis %d is not in extraction %d's result", a.ID, a.ThesisID, extID)
		}
		x.Theses[ti].DataPoints = append(x.Theses[ti].DataPoints, schema.DataPoint{Indicator: a.Indicator, Value: a.Value,
			Source: optional(a.Source), Implication: optional(a.Implication), Perspective: optional(a.Perspective), Quote: a.Quote})
		rec.Review.Added++
	}
	for name := range reviewers {
		rec.Review.Reviewers = append(rec.Review.Reviewers, name)
	}
	sort.Strings(rec.Review.Reviewers)
	if rec.Review.Reviewers == nil {
		rec.Review.Reviewers = []string{}
	}
	if rec.Extraction, err = json.Marshal(x); err != nil {
		return rec, err
	}
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM document_pages WHERE document_id = ?`, docID).Scan(&rec.Document.Pages); err != nil {
		return rec, err
	}
	return rec, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
