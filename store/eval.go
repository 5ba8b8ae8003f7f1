package store

import (
	"context"
	"fmt"
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
