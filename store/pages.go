package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/thesisdb/thesisdb/schema"
)

const (
	// unpagedTextSQL reads a document's text when its pages are unknown.
	unpagedTextSQL = `SELECT text FROM documents
		WHERE id = ? AND NOT EXISTS (SELECT 1 FROM document_pages WHERE document_id = documents.id)`
	// pageDataPointsSQL sets the page of every data point of a document,
	// found through its extractions (data_points is indexed by extraction).
	pageDataPointsSQL = `UPDATE data_points SET page = (
			SELECT max(g.page) FROM document_pages g
			WHERE g.document_id = data_points.document_id AND g.char_start <= data_points.char_start)
		WHERE extraction_id IN (SELECT id FROM extractions WHERE document_id = ?) AND char_start IS NOT NULL`
)

// fillPages gives an already stored document whose pages are unknown (a
// PDF stored before migration 0004) the pages doc was loaded with, but
// only when doc loaded to the very same text: offsets into another text
// (from a newer PDF reader, say) would point at the wrong pages. The data
// points already stored for it get their page too.
func fillPages(ctx context.Context, tx *wtx, docID int64, doc *schema.Document) error {
	if len(doc.PageStarts) == 0 {
		return nil
	}
	var text string
	err := tx.queryRow(ctx, unpagedTextSQL, docID).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) || err == nil && text != doc.Text {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pages: %w", err)
	}
	if err := savePages(ctx, tx, docID, doc.PageStarts); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, pageDataPointsSQL, docID); err != nil {
		return fmt.Errorf("pages of stored data points: %w", err)
	}
	return nil
}
