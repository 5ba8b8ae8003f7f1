package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/thesisdb/thesisdb/schema"
)

// DocumentKey is what identifies a stored document to a gold extraction:
// its id, content hash and source.
type DocumentKey struct {
	ID     int64
	SHA256 string
	Source string
}

// DocumentKeys returns the key of every stored document, in id order.
func (db *DB) DocumentKeys(ctx context.Context) ([]DocumentKey, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, sha256, source FROM documents ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("document keys: %w", err)
	}
	defer rows.Close()
	var out []DocumentKey
	for rows.Next() {
		var k DocumentKey
		if err := rows.Scan(&k.ID, &k.SHA256, &k.Source); err != nil {
			return nil, fmt.Errorf("document keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("document keys: %w", err)
	}
	return out, nil
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
