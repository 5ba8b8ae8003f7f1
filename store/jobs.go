package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/thesisdb/thesisdb/schema"
)

// Selection chooses the stored documents a re-extraction job works on. The
// conditions combine (all must hold); the zero value selects every
// document. It is recorded in the run's params so that a resumed job
// rebuilds exactly the same set.
type Selection struct {
	// Where is an SQL condition on the documents table, checked
	// read-only.
	Where string `json:"where,omitempty"`
	// Failed keeps documents whose latest extraction failed.
	Failed bool `json:"failed,omitempty"`
	// Run keeps documents extracted (successfully or not) in that run.
	Run int64 `json:"run,omitempty"`
	// MaxDocumentID and MaxExtractionID freeze the selection as it was
	// when the job started: documents stored and extractions made later
	// do not change it (0: no limit). Set them with Freeze.
	MaxDocumentID   int64 `json:"max_document_id,omitempty"`
	MaxExtractionID int64 `json:"max_extraction_id,omitempty"`
}

// String describes the selection for people.
func (s Selection) String() string {
	var parts []string
	if s.Where != "" {
		parts = append(parts, fmt.Sprintf("--where %q", s.Where))
	}
	if s.Failed {
		parts = append(parts, "--failed")
	}
	if s.Run != 0 {
		parts = append(parts, fmt.Sprintf("--run %d", s.Run))
	}
	if len(parts) == 0 {
		return "all documents"
	}
	return strings.Join(parts, " ")
}

// Freeze sets the selection's ceilings to the newest document and
// extraction now stored.
func (db *DB) Freeze(ctx context.Context, s *Selection) error {
	err := db.r.QueryRowContext(ctx, `SELECT coalesce((SELECT max(id) FROM documents), 0), coalesce((SELECT max(id) FROM extractions), 0)`).
		Scan(&s.MaxDocumentID, &s.MaxExtractionID)
	if err != nil {
		return fmt.Errorf("freeze selection: %w", err)
	}
	return nil
}

// SelectDocuments returns the ids of the documents s selects, in id order.
func (db *DB) SelectDocuments(ctx context.Context, s Selection) ([]int64, error) {
	var conds []string
	var args []any
	if s.MaxDocumentID > 0 {
		conds = append(conds, "d.id <= ?")
		args = append(args, s.MaxDocumentID)
	}
	if s.Failed {
		// The latest extraction as of the ceiling failed.
		ceiling, cargs := "", []any{}
		if s.MaxExtractionID > 0 {
			ceiling, cargs = " AND e2.id <= ?", []any{s.MaxExtractionID}
		}
		conds = append(conds, `(SELECT e2.status FROM extractions e2 WHERE e2.document_id = d.id`+ceiling+` ORDER BY e2.id DESC LIMIT 1) = 'failed'`)
		args = append(args, cargs...)
	}
	if s.Run != 0 {
		if _, err := db.GetRun(ctx, s.Run); err != nil {
			return nil, fmt.Errorf("select documents: %w", err)
		}
		conds = append(conds, `d.id IN (SELECT document_id FROM extractions WHERE run_id = ?)`)
		args = append(args, s.Run)
	}
	q := `SELECT d.id FROM documents d`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	ids, err := db.ids(ctx, q+" ORDER BY d.id", args...)
	if err != nil {
		return nil, fmt.Errorf("select documents: %w", err)
	}
	if strings.TrimSpace(s.Where) == "" {
		return ids, nil
	}
	// The analyst's condition runs on the read-only connection only.
	r, err := db.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	matching, err := r.DocumentIDs(ctx, s.Where)
	if errors.Is(err, ErrBadWhere) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("--where: %w", err)
	}
	keep := make(map[int64]bool, len(matching))
	for _, id := range matching {
		keep[id] = true
	}
	out := ids[:0]
	for _, id := range ids {
		if keep[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

func (db *DB) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// filterOut returns ids without those the query (a list of document ids)
// returns, keeping their order.
func (db *DB) filterOut(ctx context.Context, ids []int64, q string, args ...any) ([]int64, error) {
	drop, err := db.ids(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	set := make(map[int64]bool, len(drop))
	for _, id := range drop {
		set[id] = true
	}
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !set[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// Uncached returns the ids among ids with no successful extraction by the
// extractor, model, prompt version and schema version of k (its
// DocumentID is ignored): the documents a job would send.
func (db *DB) Uncached(ctx context.Context, ids []int64, k CacheKey) ([]int64, error) {
	out, err := db.filterOut(ctx, ids, `SELECT DISTINCT document_id FROM extractions
		WHERE status = 'ok' AND extractor = ? AND coalesce(model, '') = ? AND prompt_version = ? AND schema_version = ?`,
		k.Extractor, k.Model, k.PromptVersion, k.SchemaVersion)
	if err != nil {
		return nil, fmt.Errorf("look up cached extractions: %w", err)
	}
	return out, nil
}

// NotExtractedIn returns the ids among ids that have no extraction,
// successful or failed, in run: what a resumed job has left to do.
func (db *DB) NotExtractedIn(ctx context.Context, runID int64, ids []int64) ([]int64, error) {
	out, err := db.filterOut(ctx, ids, `SELECT document_id FROM extractions WHERE run_id = ?`, runID)
	if err != nil {
		return nil, fmt.Errorf("documents done in run %d: %w", runID, err)
	}
	return out, nil
}

// ExtractionPair is one document's successful extractions in two runs; A
// or B is nil when the document has none in that run.
type ExtractionPair struct {
	DocumentID int64
	Source     string
	Title      string
	A, B       *schema.Extraction
}

// ExtractionPairs calls fn, in document order, for every document with a
// successful extraction in run a or run b.
func (db *DB) ExtractionPairs(ctx context.Context, a, b int64, fn func(ExtractionPair) error) error {
	for _, id := range []int64{a, b} {
		if _, err := db.GetRun(ctx, id); err != nil {
			return err
		}
	}
	rows, err := db.r.QueryContext(ctx, `
		SELECT d.id, d.source, coalesce(d.title, ''), ea.result, eb.result
		FROM documents d
		LEFT JOIN extractions ea ON ea.document_id = d.id AND ea.run_id = ? AND ea.status = 'ok'
		LEFT JOIN extractions eb ON eb.document_id = d.id AND eb.run_id = ? AND eb.status = 'ok'
		WHERE ea.id IS NOT NULL OR eb.id IS NOT NULL
		ORDER BY d.id`, a, b)
	if err != nil {
		return fmt.Errorf("extractions of runs %d and %d: %w", a, b, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p ExtractionPair
		var ra, rb sql.NullString
		if err := rows.Scan(&p.DocumentID, &p.Source, &p.Title, &ra, &rb); err != nil {
			return fmt.Errorf("extractions of runs %d and %d: %w", a, b, err)
		}
		if p.A, err = decodeResult(ra); err != nil {
			return fmt.Errorf("document %d in run %d: %w", p.DocumentID, a, err)
		}
		if p.B, err = decodeResult(rb); err != nil {
			return fmt.Errorf("document %d in run %d: %w", p.DocumentID, b, err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return rows.Err()
}

func decodeResult(s sql.NullString) (*schema.Extraction, error) {
	if !s.Valid {
		return nil, nil
	}
	var x schema.Extraction
	if err := json.Unmarshal([]byte(s.String), &x); err != nil {
		return nil, fmt.Errorf("decode stored extraction: %w", err)
	}
	return &x, nil
}

// StoredExtraction is a document with one of its successful extractions,
// its data points' grounding restored from the data_points table.
type StoredExtraction struct {
	DocumentID   int64
	SHA256       string
	Source       string
	Title        string
	RunID        int64
	ExtractionID int64
	Extraction   *schema.Extraction
}

// Extractions calls fn, in document order, for every document with a
// successful extraction: its current one, or run's when runID > 0. Each
// data point's Ground carries the stored char_start, char_end and grounded
// flag, with Method "stored" when the quote was located.
func (db *DB) Extractions(ctx context.Context, runID int64, fn func(StoredExtraction) error) error {
	q := `SELECT d.id, d.sha256, d.source, coalesce(d.title, ''), e.run_id, e.id, e.result
		FROM %s e JOIN documents d ON d.id = e.document_id %s ORDER BY d.id`
	var recs []StoredExtraction
	var results []sql.NullString
	err := func() error {
		var rows *sql.Rows
		var err error
		if runID > 0 {
			if _, err := db.GetRun(ctx, runID); err != nil {
				return err
			}
			rows, err = db.r.QueryContext(ctx, fmt.Sprintf(q, "extractions", "WHERE e.status = 'ok' AND e.run_id = ?"), runID)
		} else {
			rows, err = db.r.QueryContext(ctx, fmt.Sprintf(q, "current_extractions", ""))
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s StoredExtraction
			var res sql.NullString
			if err := rows.Scan(&s.DocumentID, &s.SHA256, &s.Source, &s.Title, &s.RunID, &s.ExtractionID, &res); err != nil {
				return err
			}
			recs, results = append(recs, s), append(results, res)
		}
		return rows.Err()
	}()
	if err != nil {
		return fmt.Errorf("read extractions: %w", err)
	}
	for i, s := range recs {
		if s.Extraction, err = decodeResult(results[i]); err != nil {
			return fmt.Errorf("document %d: %w", s.DocumentID, err)
		}
		if s.Extraction == nil {
			return fmt.Errorf("document %d: extraction %d has no result", s.DocumentID, s.ExtractionID)
		}
		if err := db.restoreGrounding(ctx, s.ExtractionID, s.Extraction); err != nil {
			return fmt.Errorf("document %d: %w", s.DocumentID, err)
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

// restoreGrounding sets each data point's Ground from its stored row.
func (db *DB) restoreGrounding(ctx context.Context, extID int64, x *schema.Extraction) error {
	rows, err := db.r.QueryContext(ctx, `SELECT t.ordinal, p.ordinal, p.char_start, p.char_end, p.grounded
		FROM data_points p JOIN theses t ON t.id = p.thesis_id WHERE p.extraction_id = ?`, extID)
	if err != nil {
		return fmt.Errorf("grounding of extraction %d: %w", extID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ti, pi int
		var start, end sql.NullInt64
		var grounded bool
		if err := rows.Scan(&ti, &pi, &start, &end, &grounded); err != nil {
			return fmt.Errorf("grounding of extraction %d: %w", extID, err)
		}
		if ti >= len(x.Theses) || pi >= len(x.Theses[ti].DataPoints) {
			return errors.New("stored data points do not match the extraction's result")
		}
		g := &schema.Grounding{Grounded: grounded}
		if start.Valid && end.Valid {
			g.Start, g.End, g.Method = int(start.Int64), int(end.Int64), "stored"
		}
		x.Theses[ti].DataPoints[pi].Ground = g
	}
	return rows.Err()
}
