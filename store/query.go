package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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

// ErrTooBig is returned when a query builds or reads a single value larger
// than the reader's value limit (Limits.MaxBytes, at least
// DefaultMaxBytes).
var ErrTooBig = errors.New("a value is larger than the size limit")

// DefaultMaxBytes is the default budget of a query's values, and the
// least size a single value may reach.
const DefaultMaxBytes = 64 << 20

const readOnlyDriver = "sqlite3_thesisdb_readonly"

// ReaderMmapBytes is how much of the database file a query connection
// maps into memory (SQLite's largest by default; the rest is read).
const ReaderMmapBytes = 2147418112

var registerReadOnly = sync.OnceFunc(func() {
	sql.Register(readOnlyDriver, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			// Read the file through a memory map: a query that visits
			// rows in index order (ORDER BY value_num over a million data
			// points) fetches pages at random, and a read(2) per page
			// made the full result twice as slow as a sequential scan.
			if _, err := c.Exec(fmt.Sprintf("PRAGMA mmap_size = %d", ReaderMmapBytes), nil); err != nil {
				return err
			}
			c.RegisterAuthorizer(authorizeRead)
			c.SetLimit(sqlite3.SQLITE_LIMIT_LENGTH, DefaultMaxBytes)
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
	db        *sql.DB
	immutable bool
}

// OpenReader opens the database at path for read-only queries. It fails
// when the database does not exist. A user who may read the database but
// not write its folder can still query it: when no process has it open
// (no -wal or -shm file beside it) it is opened immutable; otherwise the
// error says what SQLite is missing.
func OpenReader(path string) (*Reader, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open database %s: %w (run `thesisdb ingest` first, or pass --db)", path, err)
	}
	r, err := openReader(abs, false)
	if err == nil {
		return r, nil
	}
	acc := checkAccess(abs)
	if acc.immutableSafe() {
		if r, ierr := openReader(abs, true); ierr == nil {
			return r, nil
		}
	}
	return nil, acc.explain(path, err)
}

// openReader opens a pool on abs and reads the schema once, which is when
// SQLite needs the -shm file of a WAL database.
func openReader(abs string, immutable bool) (*Reader, error) {
	registerReadOnly()
	params := map[string]string{
		"mode":          "ro",
		"_query_only":   "true",
		"_busy_timeout": strconv.Itoa(BusyTimeoutMS),
	}
	if immutable {
		params["immutable"] = "1"
	}
	db, err := sql.Open(readOnlyDriver, dsn(abs, params))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		db.Close()
		return nil, err
	}
	return &Reader{db: db, immutable: immutable}, nil
}

// Immutable reports whether the database was opened immutable: its folder
// is not writable and no process had it open. Should a writer start while
// the reader is open, the reader does not see its changes.
func (r *Reader) Immutable() bool { return r.immutable }

// access is what a read-only user may do with a database file and its
// WAL companions.
type access struct {
	db, dir                 string
	dbReadable, dirWritable bool
	walExists, walReadable  bool
	shmExists, shmReadable  bool
}

func checkAccess(abs string) access {
	a := access{db: abs, dir: filepath.Dir(abs)}
	a.dbReadable = accessible(abs, 4)
	a.dirWritable = accessible(a.dir, 2|1)
	if _, err := os.Lstat(abs + "-wal"); err == nil {
		a.walExists, a.walReadable = true, accessible(abs+"-wal", 4)
	}
	if _, err := os.Lstat(abs + "-shm"); err == nil {
		a.shmExists, a.shmReadable = true, accessible(abs+"-shm", 4)
	}
	return a
}

// immutableSafe reports whether opening immutable reads what a normal
// reader would: the folder is not writable (so SQLite cannot create the
// -shm file) and no -wal or -shm exists, so no process has the database
// open and every change is in the database file.
func (a access) immutableSafe() bool {
	return a.dbReadable && !a.dirWritable && !a.walExists && !a.shmExists
}

// explain turns a failure to open the database read-only into what is
// missing.
func (a access) explain(path string, err error) error {
	const why = "SQLite reads a WAL database through its -wal and -shm files"
	switch {
	case !a.dbReadable:
		return fmt.Errorf("cannot read database %s: this user may not read the file: %w", path, err)
	case a.shmExists && !a.shmReadable:
		return fmt.Errorf("cannot read database %s: this user may not read %s-shm (%s; ask its owner to make them readable): %w", path, path, why, err)
	case a.walExists && !a.walReadable:
		return fmt.Errorf("cannot read database %s: this user may not read %s-wal (%s; ask its owner to make them readable): %w", path, path, why, err)
	case !a.dirWritable && a.walExists && !a.shmExists:
		return fmt.Errorf("cannot read database %s: the folder %s is not writable and the database has a -wal file but no -shm file, which SQLite must create (%s): open it once as a user who may write the folder, or make the folder writable: %w", path, a.dir, why, err)
	case !a.dirWritable && !a.walExists && a.shmExists:
		return fmt.Errorf("cannot read database %s: the folder %s is not writable and the database has a -shm file but no -wal file, which SQLite must create (%s): open it once as a user who may write the folder, or make the folder writable: %w", path, a.dir, why, err)
	case !a.dirWritable:
		return fmt.Errorf("cannot read database %s: the folder %s is not writable and SQLite could not read the database without writing there: %w", path, a.dir, err)
	}
	return fmt.Errorf("open database %s: %w", path, err)
}

// Reader returns a read-only view of the same database.
func (db *DB) Reader() (*Reader, error) { return OpenReader(db.path) }

// Close closes the connection.
func (r *Reader) Close() error { return r.db.Close() }

// Limits bound what one query delivers.
type Limits struct {
	// MaxRows is the most rows delivered (0: all).
	MaxRows int
	// MaxBytes is the most bytes of values delivered, counting text and
	// blobs by their length and other values as 8 (0: DefaultMaxBytes;
	// negative: no budget). SQLite also refuses to build or read a single
	// value larger than MaxBytes or DefaultMaxBytes, whichever is larger.
	MaxBytes int64
}

func (l Limits) budget() int64 {
	switch {
	case l.MaxBytes == 0:
		return DefaultMaxBytes
	case l.MaxBytes < 0:
		return math.MaxInt64
	}
	return l.MaxBytes
}

// valueLimit is SQLite's SQLITE_LIMIT_LENGTH for the query.
func (l Limits) valueLimit() int {
	n := max(l.MaxBytes, DefaultMaxBytes)
	return int(min(n, math.MaxInt32))
}

// Summary says what a streamed query delivered.
type Summary struct {
	Columns []string
	Rows    int
	Bytes   int64
	// CutRows is true when the query had more rows than Limits.MaxRows,
	// CutBytes when the next row would have passed Limits.MaxBytes.
	CutRows, CutBytes bool
}

// Cut reports whether the result was cut short by a limit.
func (s Summary) Cut() bool { return s.CutRows || s.CutBytes }

// Stream runs exactly one SQL statement (trailing semicolons and comments
// are fine; a second statement is ErrMultipleStatements) and hands its
// column names to columns, then each row to row as it is read, within lim.
// Values are nil, int64, float64, string (TEXT) or []byte (BLOB).
// Cancelling ctx interrupts SQLite.
func (r *Reader) Stream(ctx context.Context, query string, lim Limits, columns func([]string) error, row func([]any) error) (Summary, error) {
	var sum Summary
	stmt, err := oneStatement(ctx, query)
	if err != nil {
		return sum, queryError(err)
	}
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return sum, queryError(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		c.SetLimit(sqlite3.SQLITE_LIMIT_LENGTH, lim.valueLimit())
		return nil
	}); err != nil {
		return sum, queryError(err)
	}
	rows, err := conn.QueryContext(ctx, stmt)
	if err != nil {
		return sum, queryError(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return sum, queryError(err)
	}
	sum.Columns = cols
	if err := columns(cols); err != nil {
		return sum, err
	}
	budget := lim.budget()
	ptrs := make([]any, len(cols))
	for rows.Next() {
		if lim.MaxRows > 0 && sum.Rows == lim.MaxRows {
			sum.CutRows = true
			break
		}
		vals := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return sum, queryError(err)
		}
		var n int64
		for _, v := range vals {
			n += valueBytes(v)
		}
		if n > budget-sum.Bytes {
			sum.CutBytes = true
			break
		}
		sum.Bytes += n
		sum.Rows++
		if err := row(vals); err != nil {
			return sum, err
		}
	}
	if err := rows.Err(); err != nil {
		return sum, queryError(err)
	}
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("query interrupted: %w", err)
	}
	return sum, nil
}

// valueBytes is what a value counts against Limits.MaxBytes.
func valueBytes(v any) int64 {
	switch x := v.(type) {
	case nil:
		return 0
	case string:
		return int64(len(x))
	case []byte:
		return int64(len(x))
	}
	return 8
}

// Result holds the rows of a query.
type Result struct {
	Columns []string
	Rows    [][]any
	// Truncated is true when the query had more rows than the limit (or
	// more bytes than DefaultMaxBytes).
	Truncated bool
}

// Query runs one SQL statement and returns up to maxRows rows (all when
// maxRows <= 0) and DefaultMaxBytes of values; see Stream. Cancelling ctx
// interrupts SQLite.
func (r *Reader) Query(ctx context.Context, query string, maxRows int) (*Result, error) {
	res := &Result{}
	sum, err := r.Stream(ctx, query, Limits{MaxRows: max(maxRows, 0)},
		func([]string) error { return nil },
		func(vals []any) error { res.Rows = append(res.Rows, vals); return nil })
	if err != nil {
		return nil, err
	}
	res.Columns, res.Truncated = sum.Columns, sum.Cut()
	return res, nil
}

func queryError(err error) error {
	var se sqlite3.Error
	isSQLite := errors.As(err, &se)
	switch {
	case errors.Is(err, ErrMultipleStatements), errors.Is(err, ErrNoStatement):
		return err
	case isSQLite && se.Code == sqlite3.ErrAuth, strings.Contains(err.Error(), "not authorized"):
		return fmt.Errorf("%w: %v", ErrReadOnly, err)
	case isSQLite && se.Code == sqlite3.ErrNomem:
		return fmt.Errorf("%w: SQLite stopped the query: %v", ErrQueryMemory, err)
	case isSQLite && se.Code == sqlite3.ErrTooBig:
		return fmt.Errorf("%w: SQLite stopped the query: %v", ErrTooBig, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || (isSQLite && se.Code == sqlite3.ErrInterrupt):
		return fmt.Errorf("query interrupted: %w", err)
	case isSQLite && se.Code == sqlite3.ErrReadonly:
		// The authorizer refuses writes before SQLite runs them, so this
		// is SQLite failing to read: the -shm of a WAL database it cannot
		// write.
		return fmt.Errorf("query: SQLite could not read the database without writing its -shm file (is its folder read-only?): %w", err)
	}
	return fmt.Errorf("query: %w", err)
}

// ErrBadWhere is returned for a --where condition that is not exactly one
// SQL expression.
var ErrBadWhere = errors.New("--where takes one condition: an SQL expression on the documents table, e.g. published >= '2026-01-01'")

// DocumentIDs returns the ids of documents matching an SQL condition on
// the documents table (all when where is empty), checked read-only. The
// condition must be exactly one expression: text that closes the
// parenthesis around it, adds a clause or a statement, or comments out
// the rest is refused with ErrBadWhere.
func (r *Reader) DocumentIDs(ctx context.Context, where string) ([]int64, error) {
	var ids []int64
	collect := func(vals []any) error {
		id, ok := vals[0].(int64)
		if !ok {
			return fmt.Errorf("%w: the query returned %T %v where a document id belongs", ErrBadWhere, vals[0], vals[0])
		}
		if len(vals) == 1 || vals[1] == int64(1) {
			ids = append(ids, id)
		}
		return nil
	}
	if strings.TrimSpace(where) == "" {
		_, err := r.Stream(ctx, "SELECT id FROM documents ORDER BY id", Limits{MaxBytes: -1}, func([]string) error { return nil }, collect)
		return ids, err
	}
	if strings.IndexByte(where, 0) >= 0 {
		return nil, fmt.Errorf("%w: it contains a NUL byte", ErrBadWhere)
	}
	// The condition is a column of its own, so that SQLite names the
	// column after the exact text it parsed as that expression: the name
	// equals the whole wrapped condition only when the condition stayed
	// inside its parentheses. The newline ends a trailing -- comment.
	expr := "(" + where + "\n) IS TRUE"
	q := "SELECT id, " + expr + " FROM documents ORDER BY id"
	_, err := r.Stream(ctx, q, Limits{MaxBytes: -1}, func(cols []string) error {
		if len(cols) != 2 || cols[0] != "id" || cols[1] != expr {
			return fmt.Errorf("%w: %q does not stay one expression (it closes the parenthesis around it or adds clauses)", ErrBadWhere, where)
		}
		return nil
	}, collect)
	if err != nil {
		if errors.Is(err, ErrBadWhere) || errors.Is(err, ErrReadOnly) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrBadWhere, err)
	}
	return ids, nil
}

// ExportRecord is one document with its current extraction: the
// interchange format of `thesisdb export` and `thesisdb eval`.
type ExportRecord struct {
	Document   ExportDocument  `json:"document"`
	Run        ExportRun       `json:"run"`
	Extraction json.RawMessage `json:"extraction"`
	// DataPoints locates each data point of Extraction in the document.
	DataPoints []ExportDataPoint `json:"data_points,omitempty"`
}

// ExportDataPoint is where one data point of an exported extraction
// stands: its quote's characters in the document's text and their page.
type ExportDataPoint struct {
	Thesis    int  `json:"thesis"`     // 0-based index in extraction.theses
	DataPoint int  `json:"data_point"` // 0-based index in that thesis' data_points
	CharStart *int `json:"char_start"` // null when the quote was not found
	CharEnd   *int `json:"char_end"`
	Grounded  bool `json:"grounded"`
	Page      *int `json:"page"` // 1-based; null when the document has no pages (not a PDF) or char_start is null
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
	// Pages is how many pages the document has; 0 (omitted) when unknown.
	Pages int `json:"pages,omitempty"`
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
		if err := db.exportLocations(ctx, &rec); err != nil {
			return fmt.Errorf("export document %d: %w", d.ID, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return rows.Err()
}

// exportLocations fills rec's page count and data point locations.
func (db *DB) exportLocations(ctx context.Context, rec *ExportRecord) error {
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM document_pages WHERE document_id = ?`,
		rec.Document.ID).Scan(&rec.Document.Pages); err != nil {
		return fmt.Errorf("pages: %w", err)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT t.ordinal, p.ordinal, p.char_start, p.char_end, p.grounded, p.page
		FROM data_points p JOIN theses t ON t.id = p.thesis_id WHERE p.extraction_id = ? ORDER BY t.ordinal, p.ordinal`,
		rec.Run.ExtractionID)
	if err != nil {
		return fmt.Errorf("data points: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l ExportDataPoint
		var start, end, page sql.NullInt64
		if err := rows.Scan(&l.Thesis, &l.DataPoint, &start, &end, &l.Grounded, &page); err != nil {
			return fmt.Errorf("data points: %w", err)
		}
		l.CharStart, l.CharEnd, l.Page = nullInt(start), nullInt(end), nullInt(page)
		rec.DataPoints = append(rec.DataPoints, l)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("data points: %w", err)
	}
	return nil
}

func nullInt(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	n := int(v.Int64)
	return &n
}
