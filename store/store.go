// Package store keeps documents, runs and extractions in SQLite (through
// mattn/go-sqlite3) and serves the analyst-facing tables and views.
//
// A DB holds two pools: one connection for writes, whose transactions begin
// IMMEDIATE so that concurrent writers queue on busy_timeout instead of
// failing with "database is locked", and a pool of readers. The database
// runs in WAL mode, so readers never block the writer. Migrations are
// embedded, numbered, tracked with PRAGMA user_version and applied at Open,
// one transaction per step.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mattn/go-sqlite3" // also registers the "sqlite3" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open thesisdb database.
type DB struct {
	path string
	w    *sql.DB // exactly one connection: all writes
	r    *sql.DB // readers

	leaseMu  sync.Mutex
	leased   map[int64]bool // runs whose heartbeat this DB refreshes
	stopBeat chan struct{}
	beatDone chan struct{}

	// The write path (writer.go): documents queued for the writer
	// goroutine, and the statements it prepares once.
	wopt    WriteOptions
	wq      chan *writeReq
	wdone   chan struct{}
	wmu     sync.RWMutex
	wclosed bool
	stmts   map[string]*sql.Stmt
	commits atomic.Int64 // batches committed, for tests

	// The lookups the pipeline makes for every input, prepared once on
	// the readers (readStatements).
	rstmts map[string]*sql.Stmt
}

const writerDriver = "sqlite3_thesisdb_writer"

// WriterCacheKiB is the page cache of the write connection: a batch of
// documents touches many pages of the B-trees and full-text indexes, and
// a page evicted mid-transaction is written to the WAL more than once.
const WriterCacheKiB = 64 << 10

// registerWriter registers the write connection's driver: statement and
// savepoint journals in memory (on disk they were written for every
// document's savepoint and every statement that fires a trigger, many
// times the rows' size), and a larger page cache.
var registerWriter = sync.OnceFunc(func() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec(fmt.Sprintf("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -%d", WriterCacheKiB), nil)
			return err
		},
	})
})

// BusyTimeoutMS is how long a connection waits for a lock before failing.
const BusyTimeoutMS = 10000

func dsn(path string, params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	// go-sqlite3 reads the file: URI's query for its own _parameters and
	// passes the rest (mode) to SQLite.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, WriteOptions{})
}

// OpenWith is Open with the bounds of the transactions that group
// documents' writes.
func OpenWith(ctx context.Context, path string, wo WriteOptions) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	common := map[string]string{
		"_busy_timeout": strconv.Itoa(BusyTimeoutMS),
		"_foreign_keys": "on",
		"_journal_mode": "WAL",
		"_synchronous":  "NORMAL",
	}
	wp := map[string]string{"_txlock": "immediate"}
	for k, v := range common {
		wp[k] = v
	}
	registerWriter()
	w, err := sql.Open(writerDriver, dsn(abs, wp))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	db := &DB{path: abs, w: w}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.reapRuns(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.startWriter(ctx, wo); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r, err := sql.Open("sqlite3", dsn(abs, common))
	if err != nil {
		db.stopWriter()
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	db.r = r
	db.rstmts = map[string]*sql.Stmt{}
	for _, q := range readStatements {
		s, err := r.PrepareContext(ctx, q)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("open database %s: prepare %q: %w", path, q, err)
		}
		db.rstmts[q] = s
	}
	return db, nil
}

// Path returns the database file's absolute path.
func (db *DB) Path() string { return db.path }

// Close commits the documents already submitted, stops refreshing the
// heartbeat of this process's runs and closes both pools.
func (db *DB) Close() error {
	db.stopWriter()
	db.stopHeartbeat()
	for _, s := range db.rstmts {
		s.Close()
	}
	return errors.Join(db.r.Close(), db.w.Close())
}

// SchemaVersion returns the number of migrations applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", e.Name())
		}
		body, err := migrations.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{v, e.Name(), string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies every migration newer than PRAGMA user_version, each in
// its own transaction together with the version bump.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := db.tx(ctx, func(tx *sql.Tx) error {
			var cur int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
				return err
			}
			if cur >= m.version {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version))
			return err
		}); err != nil {
			return err
		}
	}
	var cur int
	if err := db.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
		return err
	}
	if cur > len(ms) {
		return fmt.Errorf("database schema version %d is newer than this thesisdb knows (%d): upgrade thesisdb", cur, len(ms))
	}
	return nil
}

// tx runs fn in a write transaction, committing when it returns nil.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
