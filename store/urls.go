package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// KnownURL is a row of known_urls: an article URL thesisdb has fetched,
// with what the next conditional GET needs.
type KnownURL struct {
	URL           string
	CanonicalURL  string
	Source        string // the source (sources file entry) that found it
	ETag          string
	LastModified  string // the Last-Modified header, as sent
	ContentSHA256 string
	DocumentID    int64 // 0: none stored from it
	LastStatus    int   // HTTP status of the last fetch (0: no answer)
	LastError     string
	// LastMod is what the feed or sitemap said when the URL was last
	// fetched (zero when it said nothing).
	LastMod       time.Time
	LastFetchedAt time.Time
	NextFetchAt   time.Time
}

func timeText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, s.String)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s.String)
	}
	return t
}

const knownURLColumns = `url, canonical_url, source_name, etag, last_modified, content_sha256, document_id,
	last_status, last_error, lastmod, last_fetched_at, next_fetch_at`

func scanKnownURL(row interface{ Scan(...any) error }) (*KnownURL, error) {
	var k KnownURL
	var canonical, src, etag, lastMod, sha, lastErr, lastmod, fetched, next sql.NullString
	var doc, status sql.NullInt64
	if err := row.Scan(&k.URL, &canonical, &src, &etag, &lastMod, &sha, &doc, &status, &lastErr, &lastmod, &fetched, &next); err != nil {
		return nil, err
	}
	k.CanonicalURL, k.Source, k.ETag, k.LastModified = canonical.String, src.String, etag.String, lastMod.String
	k.ContentSHA256, k.DocumentID, k.LastStatus, k.LastError = sha.String, doc.Int64, int(status.Int64), lastErr.String
	k.LastMod, k.LastFetchedAt, k.NextFetchAt = parseTime(lastmod), parseTime(fetched), parseTime(next)
	return &k, nil
}

// KnownURL returns the known_urls row of url, or ErrNotFound.
func (db *DB) KnownURL(ctx context.Context, url string) (*KnownURL, error) {
	k, err := scanKnownURL(db.r.QueryRowContext(ctx, `SELECT `+knownURLColumns+` FROM known_urls WHERE url = ?`, url))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("known URL %s: %w", url, err)
	}
	return k, nil
}

// KnownCanonical returns a row other than url's whose URL or canonical
// URL is canonical and from which a document was stored, or ErrNotFound:
// the same article already stored under another address.
func (db *DB) KnownCanonical(ctx context.Context, canonical, url string) (*KnownURL, error) {
	k, err := scanKnownURL(db.r.QueryRowContext(ctx, `SELECT `+knownURLColumns+` FROM known_urls
		WHERE (url = ?1 OR canonical_url = ?1) AND url <> ?2 AND document_id IS NOT NULL
		ORDER BY url = ?1 DESC LIMIT 1`, canonical, url))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("known canonical URL %s: %w", canonical, err)
	}
	return k, nil
}

// SaveKnownURL inserts or replaces the row of k.URL after a fetch.
func (db *DB) SaveKnownURL(ctx context.Context, k KnownURL) error {
	var doc any
	if k.DocumentID != 0 {
		doc = k.DocumentID
	}
	err := db.write(context.WithoutCancel(ctx), func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO known_urls (`+knownURLColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (url) DO UPDATE SET canonical_url = excluded.canonical_url, source_name = excluded.source_name,
				etag = excluded.etag, last_modified = excluded.last_modified, content_sha256 = excluded.content_sha256,
				document_id = excluded.document_id, last_status = excluded.last_status, last_error = excluded.last_error,
				lastmod = excluded.lastmod, last_fetched_at = excluded.last_fetched_at, next_fetch_at = excluded.next_fetch_at`,
			k.URL, nullStr(k.CanonicalURL), nullStr(k.Source), nullStr(k.ETag), nullStr(k.LastModified), nullStr(k.ContentSHA256),
			doc, k.LastStatus, nullStr(k.LastError), timeText(k.LastMod), timeText(k.LastFetchedAt), timeText(k.NextFetchAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("save known URL %s: %w", k.URL, err)
	}
	return nil
}

// DueURLs lists source's known URLs whose next fetch is due at now (or
// never set), oldest fetch first, at most limit (0: all).
func (db *DB) DueURLs(ctx context.Context, source string, now time.Time, limit int) ([]KnownURL, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+knownURLColumns+` FROM known_urls
		WHERE source_name = ? AND (next_fetch_at IS NULL OR next_fetch_at <= ?)
		ORDER BY last_fetched_at NULLS FIRST, url LIMIT ?`, source, now.UTC().Format(timeLayout), limit)
	if err != nil {
		return nil, fmt.Errorf("due URLs of %s: %w", source, err)
	}
	defer rows.Close()
	var out []KnownURL
	for rows.Next() {
		k, err := scanKnownURL(rows)
		if err != nil {
			return nil, fmt.Errorf("due URLs of %s: %w", source, err)
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

// RecordFetchFailure stores a URL that could not be fetched (stage
// "fetch" of the failures view), and counts it as failed in run.
func (db *DB) RecordFetchFailure(ctx context.Context, runID int64, url, errText string) error {
	err := db.write(context.WithoutCancel(ctx), func(ctx context.Context, tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO load_failures (run_id, stage, source, error) VALUES (?, 'fetch', ?, ?)`,
			runID, url, errText); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE runs SET documents_failed = documents_failed + 1 WHERE id = ?`, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record fetch failure of %s: %w", url, err)
	}
	return nil
}

// SourceDue reports when source name is next due to be scraped (zero:
// never scraped, so now).
func (db *DB) SourceDue(ctx context.Context, name string) (time.Time, error) {
	var next sql.NullString
	err := db.r.QueryRowContext(ctx, `SELECT next_run_at FROM scrape_sources WHERE name = ?`, name).Scan(&next)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("schedule of source %s: %w", name, err)
	}
	return parseTime(next), nil
}

// SourceScraped records that source name was scraped at when and is due
// again at next (zero: at every run).
func (db *DB) SourceScraped(ctx context.Context, name string, when, next time.Time) error {
	err := db.write(context.WithoutCancel(ctx), func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO scrape_sources (name, last_run_at, next_run_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET last_run_at = excluded.last_run_at, next_run_at = excluded.next_run_at`,
			name, timeText(when), timeText(next))
		return err
	})
	if err != nil {
		return fmt.Errorf("record scrape of source %s: %w", name, err)
	}
	return nil
}
