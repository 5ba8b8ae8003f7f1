package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/mattn/go-sqlite3"
)

// ErrReadOnly is returned when a read-only query tries to change the
// database.
var ErrReadOnly = errors.New("read-only: queries may not change the database (no INSERT, UPDATE, DELETE, CREATE, DROP, ATTACH or PRAGMA assignments)")

const readOnlyDriver = "sqlite3_thesisdb_readonly"

var registerReadOnly = sync.OnceFunc(func() {
	sql.Register(readOnlyDriver, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			c.RegisterAuthorizer(authorizeRead)
			return nil
		},
	})
})

// sqliteRecursive is SQLITE_RECURSIVE (recursive CTEs), which go-sqlite3
// does not export.
const sqliteRecursive = 33

// authorizeRead allows reading and denies every kind of change, ATTACH and
// PRAGMA assignments.
func authorizeRead(op int, arg1, arg2, _ string) int {
	switch op {
	case sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqliteRecursive:
		return sqlite3.SQLITE_OK
	case sqlite3.SQLITE_PRAGMA:
		if arg2 == "" { // reading a pragma; "PRAGMA x = y" passes y here
			return sqlite3.SQLITE_OK
		}
	}
	return sqlite3.SQLITE_DENY
}

// Reader is a read-only connection for analysts' SQL: opened with mode=ro
// and query_only, and guarded by an authorizer that denies writes, ATTACH
// and PRAGMA assignments.
type Reader struct {
	db *sql.DB
}

// OpenReader opens the database at path for read-only queries. It fails
// when the database does not exist.
func OpenReader(path string) (*Reader, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open database %s: %w (run `thesisdb ingest` first, or pass --db)", path, err)
	}
	registerReadOnly()
	db, err := sql.Open(readOnlyDriver, dsn(abs, map[string]string{
		"mode":          "ro",
		"_query_only":   "true",
		"_busy_timeout": strconv.Itoa(BusyTimeoutMS),
	}))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(2)
	return &Reader{db: db}, nil
}

// Reader returns a read-only view of the same database.
func (db *DB) Reader() (*Reader, error) { return OpenReader(db.path) }

// Close closes the connection.
func (r *Reader) Close() error { return r.db.Close() }

// Result holds the rows of a query.
type Result struct {
	Columns []string
	Rows    [][]any
	// Truncated is true when the query had more rows than the limit.
	Truncated bool
}

// Query runs one SQL statement and returns up to maxRows rows (all when
// maxRows <= 0). Cancelling ctx interrupts SQLite.
func (r *Reader) Query(ctx context.Context, query string, maxRows int) (*Result, error) {
	rows, err := r.db.QueryContext(ctx, query)
	if err != nil {
		return nil, queryError(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: cols}
	for rows.Next() {
		if maxRows > 0 && len(res.Rows) == maxRows {
			res.Truncated = true
			break
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, queryError(err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, queryError(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return res, nil
}

func queryError(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrAuth || se.Code == sqlite3.ErrReadonly) {
		return fmt.Errorf("%w: %v", ErrReadOnly, err)
	}
	if strings.Contains(err.Error(), "not authorized") || strings.Contains(err.Error(), "readonly database") {
		return fmt.Errorf("%w: %v", ErrReadOnly, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || (errors.As(err, &se) && se.Code == sqlite3.ErrInterrupt) {
		return fmt.Errorf("query interrupted: %w", err)
	}
	return fmt.Errorf("query: %w", err)
}

// DocumentIDs returns the ids of documents matching an SQL condition on
// the documents table (all when where is empty), checked read-only.
func (r *Reader) DocumentIDs(ctx context.Context, where string) ([]int64, error) {
	q := "SELECT id FROM documents"
	if strings.TrimSpace(where) != "" {
		if strings.Contains(where, ";") {
			return nil, fmt.Errorf("--where takes one condition, not statements: %q", where)
		}
		q += " WHERE (" + where + ")"
	}
	res, err := r.Query(ctx, q+" ORDER BY id", 0)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(res.Rows))
	for i, row := range res.Rows {
		ids[i] = row[0].(int64)
	}
	return ids, nil
}

// ExportRecord is one document with its current extraction: the
// interchange format of `thesisdb export` and `thesisdb eval`.
type ExportRecord struct {
	Document   ExportDocument  `json:"document"`
	Run        ExportRun       `json:"run"`
	Extraction json.RawMessage `json:"extraction"`
}

// ExportDocument is the document part of an ExportRecord.
type ExportDocument struct {
	ID         int64  `json:"id"`
	SHA256     string `json:"sha256"`
	Kind       string `json:"kind"`
	Source     string `json:"source"`
	Title      string `json:"title"`
	Author     string `json:"author"`
	Published  string `json:"published"`
	Tags       string `json:"tags,omitempty"`
	IngestedAt string `json:"ingested_at"`
}

// ExportRun is the run part of an ExportRecord.
type ExportRun struct {
	ID            int64  `json:"id"`
	ExtractionID  int64  `json:"extraction_id"`
	Extractor     string `json:"extractor"`
	Model         string `json:"model"`
	PromptVersion string `json:"prompt_version"`
	SchemaVersion string `json:"schema_version"`
	CreatedAt     string `json:"created_at"`
}

// Export calls fn for every document with a successful extraction, in
// document order: the current extraction, or run's when runID > 0.
func (db *DB) Export(ctx context.Context, runID int64, fn func(ExportRecord) error) error {
	q := `SELECT d.id, d.sha256, d.kind, d.source, coalesce(d.title, ''), coalesce(d.author, ''), coalesce(d.published, ''),
			coalesce(d.tags, ''), d.ingested_at, e.run_id, e.id, e.extractor, coalesce(e.model, ''), e.prompt_version,
			e.schema_version, e.created_at, e.result
		FROM %s e JOIN documents d ON d.id = e.document_id %s ORDER BY d.id`
	var rows *sql.Rows
	var err error
	if runID > 0 {
		rows, err = db.r.QueryContext(ctx, fmt.Sprintf(q, "extractions", "WHERE e.status = 'ok' AND e.run_id = ?"), runID)
	} else {
		rows, err = db.r.QueryContext(ctx, fmt.Sprintf(q, "current_extractions", ""))
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rec ExportRecord
		var result string
		d, r := &rec.Document, &rec.Run
		if err := rows.Scan(&d.ID, &d.SHA256, &d.Kind, &d.Source, &d.Title, &d.Author, &d.Published, &d.Tags, &d.IngestedAt,
			&r.ID, &r.ExtractionID, &r.Extractor, &r.Model, &r.PromptVersion, &r.SchemaVersion, &r.CreatedAt, &result); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		rec.Extraction = json.RawMessage(result)
		if err := fn(rec); err != nil {
			return err
		}
	}
	return rows.Err()
}
