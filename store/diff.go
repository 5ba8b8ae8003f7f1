package store

import (
	"bytes"
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

// ExtractionPairJSON is ExtractionPair with each extraction as stored: the
// JSON of a schema.Extraction, nil when the document has none in that run.
// When both runs stored the same bytes, A and B are the same slice.
type ExtractionPairJSON struct {
	DocumentID int64
	Source     string
	Title      string
	A, B       []byte
}

// ExtractionPairs calls fn, in document order, for every document with a
// successful extraction in run a or run b.
func (db *DB) ExtractionPairs(ctx context.Context, a, b int64, fn func(ExtractionPair) error) error {
	return db.ExtractionPairsJSON(ctx, a, b, func(j ExtractionPairJSON) error {
		p := ExtractionPair{DocumentID: j.DocumentID, Source: j.Source, Title: j.Title}
		var err error
		if p.A, err = decodeJSON(j.A); err != nil {
			return fmt.Errorf("document %d in run %d: %w", p.DocumentID, a, err)
		}
		if p.B, err = decodeJSON(j.B); err != nil {
			return fmt.Errorf("document %d in run %d: %w", p.DocumentID, b, err)
		}
		return fn(p)
	})
}

// ExtractionPairsJSON is ExtractionPairs without decoding: fn gets each
// extraction's stored JSON, for callers that decode only what they need,
// or skip pairs whose bytes are equal. The slices stay valid after fn
// returns.
func (db *DB) ExtractionPairsJSON(ctx context.Context, a, b int64, fn func(ExtractionPairJSON) error) error {
	for _, id := range []int64{a, b} {
		if _, err := db.GetRun(ctx, id); err != nil {
			return err
		}
	}
	rows, err := db.r.QueryContext(ctx, `
		SELECT d.id, d.source, coalesce(d.title, ''), ea.result IS NOT NULL, ea.result, eb.result IS NOT NULL, eb.result
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
		var p ExtractionPairJSON
		// RawBytes are the driver's buffers, valid until the next row:
		// copied, once when both runs stored the same bytes.
		// A RawBytes cannot tell NULL from '': hasA and hasB do.
		var ra, rb sql.RawBytes
		var hasA, hasB bool
		if err := rows.Scan(&p.DocumentID, &p.Source, &p.Title, &hasA, &ra, &hasB, &rb); err != nil {
			return fmt.Errorf("extractions of runs %d and %d: %w", a, b, err)
		}
		if hasA {
			p.A = append([]byte{}, ra...)
		}
		switch {
		case !hasB:
		case hasA && bytes.Equal(ra, rb):
			p.B = p.A
		default:
			p.B = append([]byte{}, rb...)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("extractions of runs %d and %d: %w", a, b, err)
	}
	return nil
}

// ExtractionPairsJSON is DB.ExtractionPairsJSON on the read-only
// connection.
func (r *Reader) ExtractionPairsJSON(ctx context.Context, a, b int64, fn func(ExtractionPairJSON) error) error {
	return r.asDB().ExtractionPairsJSON(ctx, a, b, fn)
}

func decodeResult(s sql.NullString) (*schema.Extraction, error) {
	if !s.Valid {
		return nil, nil
	}
	return decodeJSON([]byte(s.String))
}

// decodeJSON decodes a stored extraction; nil stands for none.
func decodeJSON(s []byte) (*schema.Extraction, error) {
	if s == nil {
		return nil, nil
	}
	var x schema.Extraction
	if err := json.Unmarshal(s, &x); err != nil {
		return nil, fmt.Errorf("decode stored extraction: %w", err)
	}
	return &x, nil
}
