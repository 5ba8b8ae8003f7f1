package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Batch is a row of the batches table: one Batch API job of a run.
type Batch struct {
	ID           string
	RunID        int64
	InputFileID  string
	Status       string
	Requests     int
	Completed    int
	Failed       int
	OutputFileID string
	ErrorFileID  string
	Collected    bool
}

// SaveBatch records a submitted batch, or updates its state.
func (db *DB) SaveBatch(ctx context.Context, b Batch) error {
	err := db.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO batches (id, run_id, input_file_id, status, requests, completed, failed, output_file_id, error_file_id, collected)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET status = excluded.status, completed = excluded.completed, failed = excluded.failed,
				output_file_id = excluded.output_file_id, error_file_id = excluded.error_file_id, collected = excluded.collected,
				updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
			b.ID, b.RunID, b.InputFileID, b.Status, b.Requests, b.Completed, b.Failed, nullStr(b.OutputFileID), nullStr(b.ErrorFileID), b.Collected)
		return err
	})
	if err != nil {
		return fmt.Errorf("save batch %s: %w", b.ID, err)
	}
	return nil
}

// Batches returns the batches of a run, oldest first.
func (db *DB) Batches(ctx context.Context, runID int64) ([]Batch, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, run_id, input_file_id, status, requests, completed, failed,
			coalesce(output_file_id, ''), coalesce(error_file_id, ''), collected
		FROM batches WHERE run_id = ? ORDER BY submitted_at, id`, runID)
	if err != nil {
		return nil, fmt.Errorf("batches of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		var b Batch
		if err := rows.Scan(&b.ID, &b.RunID, &b.InputFileID, &b.Status, &b.Requests, &b.Completed, &b.Failed,
			&b.OutputFileID, &b.ErrorFileID, &b.Collected); err != nil {
			return nil, fmt.Errorf("batches of run %d: %w", runID, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
