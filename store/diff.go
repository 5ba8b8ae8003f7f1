package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/thesisdb/thesisdb/schema"
)

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
