package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
