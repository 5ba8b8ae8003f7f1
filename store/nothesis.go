package store

import (
	"context"
	"fmt"
)

// NoThesisCounts returns, per run, how many documents the run extracted
// successfully without finding any thesis (computed from the extractions
// and theses tables; runs without such documents are absent).
func (db *DB) NoThesisCounts(ctx context.Context) (map[int64]int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT e.run_id, count(*) FROM extractions e
		WHERE e.status = 'ok' AND NOT EXISTS (SELECT 1 FROM theses t WHERE t.extraction_id = e.id)
		GROUP BY e.run_id`)
	if err != nil {
		return nil, fmt.Errorf("count documents without theses: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var run int64
		var n int
		if err := rows.Scan(&run, &n); err != nil {
			return nil, fmt.Errorf("count documents without theses: %w", err)
		}
		out[run] = n
	}
	return out, rows.Err()
}
