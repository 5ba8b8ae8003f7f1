package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/thesisdb/thesisdb/schema"
)

// Documents are written through one writer goroutine that groups them
// into shared transactions (group commit). A document that fails is rolled
// back alone and the others commit: once one has failed, the batch is
// written again with each document's rows inside a SAVEPOINT of its own
// (see fillBatch). A caller hears of its document only once the
// transaction holding it has committed. Fewer,
// larger transactions write each B-tree and full-text index page once per
// batch instead of once per document.

// WriteOptions bound the transactions that group documents' writes: a
// transaction commits at whichever bound it reaches first.
type WriteOptions struct {
	// MaxDocs is the most documents one transaction holds (default 4096;
	// 1 writes every document in its own transaction).
	MaxDocs int
	// MaxTime is the longest a transaction stays open to take more
	// documents (default 2s).
	MaxTime time.Duration
	// MaxBytes bounds the text and extraction JSON a transaction holds
	// (default 32 MiB, half the write connection's page cache): a batch
	// of large documents commits sooner.
	MaxBytes int
	// Linger is how long an open transaction holding documents submitted
	// with SaveDocumentAsync waits for the next one before committing
	// (default 20ms). Synchronous callers never wait for company.
	Linger time.Duration
}

func (o WriteOptions) withDefaults() WriteOptions {
	// Measured on 10,000 small notes into a database of 1,000,000 data
	// points: 256 documents or 250ms wrote 19 bytes per byte stored,
	// 1,024 or 1s 10.6, 4,096 or 2s 7.4 (each batch writes every index
	// page it touched once, and new rows land all over a large index).
	if o.MaxDocs <= 0 {
		o.MaxDocs = 4096
	}
	if o.MaxTime <= 0 {
		o.MaxTime = 2 * time.Second
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 32 << 20
	}
	if o.Linger <= 0 {
		o.Linger = 20 * time.Millisecond
	}
	return o
}

// ErrClosed is returned for writes submitted after Close.
var ErrClosed = errors.New("database closed")

// writeReq is one document's writes.
type writeReq struct {
	fn    func(ctx context.Context, w *wtx) error
	done  func(error) // called once, after commit or failure, off the writer goroutine
	async bool
	size  int // bytes of text and JSON it writes, about
	err   error
}

// wtx is a write transaction with its statements prepared once per
// connection and bound to the transaction once.
type wtx struct {
	*sql.Tx
	db    *DB
	bound map[string]*sql.Stmt
	// runs caches each run's extractor, model, prompt and schema
	// versions, which never change, for the transaction.
	runs map[int64]runInfo
	// docCounts are the current document's additions to its run's
	// counters; once its savepoint is released they join counts, written
	// to the runs table once per run before the transaction commits.
	docCounts map[int64]runCounts
	counts    map[int64]runCounts
	// The largest document and data point ids when the transaction
	// began: the rows after them are the transaction's, indexed for
	// full-text search at commit.
	lastDocument, lastDataPoint int64
}

// runCounts are additions to a run's counters.
type runCounts struct {
	ok, failed, points, ungrounded int
	usage                          schema.Usage
}

// count adds c to run id's counters for the current document.
func (w *wtx) count(id int64, c runCounts) {
	if w.docCounts == nil {
		w.docCounts = map[int64]runCounts{}
	}
	t := w.docCounts[id]
	t.add(c)
	w.docCounts[id] = t
}

// add adds c's counts to t's.
func (t *runCounts) add(c runCounts) {
	t.ok, t.failed, t.points, t.ungrounded = t.ok+c.ok, t.failed+c.failed, t.points+c.points, t.ungrounded+c.ungrounded
	t.usage.Add(c.usage)
}

// keepDocument moves the current document's counts into the
// transaction's; dropDocument forgets them (its rows were rolled back).
func (w *wtx) keepDocument() {
	if len(w.docCounts) == 0 {
		return
	}
	if w.counts == nil {
		w.counts = map[int64]runCounts{}
	}
	for id, c := range w.docCounts {
		t := w.counts[id]
		t.add(c)
		w.counts[id] = t
		delete(w.docCounts, id)
	}
}

func (w *wtx) dropDocument() { clear(w.docCounts) }

// flushCounts writes the kept counts to the runs table.
func (w *wtx) flushCounts(ctx context.Context) error {
	for id, c := range w.counts {
		u := c.usage
		if _, err := w.exec(ctx, countRunRunsSQL, c.ok, c.failed, c.points, c.ungrounded, u.PromptTokens, u.CompletionTokens,
			u.CachedPromptTokens, costArg(u), id); err != nil {
			return fmt.Errorf("count run %d: %w", id, err)
		}
	}
	clear(w.counts)
	return nil
}

// commit writes the run counters, adds the documents and data points
// inserted in the transaction to the full-text indexes, and commits.
func (w *wtx) commit(ctx context.Context) error {
	if err := w.flushCounts(ctx); err != nil {
		w.Rollback()
		return err
	}
	if err := w.indexText(ctx); err != nil {
		w.Rollback()
		return err
	}
	return w.Commit()
}

// indexText adds the rows inserted since the transaction began to the
// full-text indexes, in one statement per index: FTS4 then writes one
// segment for them all instead of one per statement that inserted a row
// (migration 0009).
func (w *wtx) indexText(ctx context.Context) error {
	if _, err := w.exec(ctx, indexDocumentsSQL, w.lastDocument); err != nil {
		return fmt.Errorf("full-text index of documents: %w", err)
	}
	if _, err := w.exec(ctx, indexDataPointsSQL, w.lastDataPoint); err != nil {
		return fmt.Errorf("full-text index of data points: %w", err)
	}
	return nil
}

// A document's savepoint, prepared once like the rows' statements.
const (
	savepointSQL  = `SAVEPOINT doc`
	rollbackToSQL = `ROLLBACK TO doc`
	releaseSQL    = `RELEASE doc`
)

const (
	lastRowsSQL        = `SELECT (SELECT coalesce(max(id), 0) FROM documents), (SELECT coalesce(max(id), 0) FROM data_points)`
	indexDocumentsSQL  = `INSERT INTO documents_fts (docid, title, text) SELECT id, title, text FROM documents WHERE id > ?`
	indexDataPointsSQL = `INSERT INTO data_points_fts (docid, indicator, value, source, implication, quote)
		SELECT id, indicator, value, source, implication, quote FROM data_points WHERE id > ?`
)

// stmt returns q prepared on the write connection and bound to this
// transaction; the connection's prepared statement is reused across
// transactions.
func (w *wtx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := w.bound[q]; ok {
		return s, nil
	}
	var s *sql.Stmt
	if ps, ok := w.db.stmts[q]; ok {
		s = w.StmtContext(ctx, ps)
	} else {
		// Not one of the write path's statements: prepared for this
		// transaction only (the pool's one connection is the
		// transaction's, so it cannot be prepared on the pool now).
		var err error
		if s, err = w.PrepareContext(ctx, q); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
	}
	if w.bound == nil {
		w.bound = map[string]*sql.Stmt{}
	}
	w.bound[q] = s
	return s, nil
}

func (w *wtx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	s, err := w.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (w *wtx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := w.stmt(ctx, q)
	if err != nil {
		// QueryRow on the Tx reports the same preparation error at Scan.
		return w.QueryRowContext(ctx, q, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// begin opens a write transaction.
func (db *DB) begin(ctx context.Context) (*wtx, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	w := &wtx{Tx: tx, db: db}
	if err := w.queryRow(ctx, lastRowsSQL).Scan(&w.lastDocument, &w.lastDataPoint); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("last rows: %w", err)
	}
	return w, nil
}

// write runs fn as one document's writes in the next batch and returns
// once its transaction has committed (nil) or fn's rows were rolled back
// (fn's error).
func (db *DB) write(ctx context.Context, fn func(context.Context, *wtx) error) error {
	ch := make(chan error, 1)
	if err := db.submit(ctx, &writeReq{fn: fn, done: func(err error) { ch <- err }}); err != nil {
		return err
	}
	return <-ch
}

// submit queues r for the writer, waiting while the queue is full.
func (db *DB) submit(ctx context.Context, r *writeReq) error {
	db.wmu.RLock()
	defer db.wmu.RUnlock()
	if db.wclosed {
		return ErrClosed
	}
	select {
	case db.wq <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startWriter prepares the write path's statements on the write
// connection, once, and starts the writer goroutine.
func (db *DB) startWriter(ctx context.Context, o WriteOptions) error {
	db.stmts = map[string]*sql.Stmt{}
	for _, q := range writeStatements {
		s, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			for _, s := range db.stmts {
				s.Close()
			}
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		db.stmts[q] = s
	}
	db.wopt = o.withDefaults()
	// Extractions queue here while the writer commits: enough to keep
	// the extracting goroutines busy, not a batch's worth of documents
	// held in memory twice.
	db.wq = make(chan *writeReq, min(2*db.wopt.MaxDocs, writeQueue))
	db.wdone = make(chan struct{})
	go db.writer()
	return nil
}

// stopWriter lets the writer commit what was submitted, then stops it.
func (db *DB) stopWriter() {
	db.wmu.Lock()
	if db.wclosed {
		db.wmu.Unlock()
		return
	}
	db.wclosed = true
	close(db.wq)
	db.wmu.Unlock()
	<-db.wdone
	for _, s := range db.stmts {
		s.Close()
	}
}

// writeQueue is the most documents queued for the writer.
const writeQueue = 512

// writer takes queued documents into batches until the queue is closed.
func (db *DB) writer() {
	defer close(db.wdone)
	var results sync.WaitGroup
	defer results.Wait()
	for first := range db.wq {
		batch := db.fillBatch(first)
		results.Add(1)
		go func() {
			defer results.Done()
			for _, r := range batch {
				r.done(r.err)
			}
		}()
	}
}

// fillBatch opens a transaction, writes first and then further queued
// documents into it, each in its own savepoint, and commits. It returns
// the batch with each request's outcome set.
func (db *DB) fillBatch(first *writeReq) []*writeReq {
	ctx := context.Background()
	o := db.wopt
	tx, err := db.begin(ctx)
	if err != nil {
		first.err = fmt.Errorf("begin: %w", err)
		return []*writeReq{first}
	}
	deadline := time.Now().Add(o.MaxTime)
	var batch []*writeReq
	async := false
	bytes := 0
	// saved writes r in a savepoint of its own, rolled back alone if r
	// fails; false means the transaction itself is gone.
	saved := func(r *writeReq) bool {
		if _, err := tx.exec(ctx, savepointSQL); err != nil {
			r.err = err
			return false
		}
		if r.err = r.fn(ctx, tx); r.err != nil {
			tx.dropDocument()
			if _, err := tx.exec(ctx, rollbackToSQL); err != nil {
				return false
			}
		}
		if _, err := tx.exec(ctx, releaseSQL); err != nil {
			return false
		}
		tx.keepDocument()
		return true
	}
	// Documents are written without a savepoint while none fails: a
	// savepoint copies each page a document changes first into the
	// statement journal, a tenth of the writer's CPU. When one fails, its
	// rows cannot be rolled back alone, so the transaction is, and the
	// batch is written again in a new one with a savepoint per document,
	// as is the rest of the batch (the document may fail again, alone).
	guarded := false
	add := func(r *writeReq) bool {
		batch = append(batch, r)
		async = async || r.async
		bytes += r.size
		if guarded {
			return saved(r)
		}
		if r.err = r.fn(ctx, tx); r.err == nil {
			tx.keepDocument()
			return true
		}
		tx.Rollback()
		guarded = true
		if tx, err = db.begin(ctx); err != nil {
			tx = nil
			r.err = fmt.Errorf("begin: %w", err)
			return false
		}
		for _, o := range batch {
			if !saved(o) {
				return false
			}
		}
		return true
	}
	healthy := add(first)
	var timer *time.Timer
collect:
	for healthy && len(batch) < o.MaxDocs && bytes < o.MaxBytes {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		select {
		case r, ok := <-db.wq:
			if !ok {
				break collect
			}
			healthy = add(r)
			continue
		default:
		}
		if !async {
			break // synchronous callers are waiting: commit now
		}
		wait := min(o.Linger, left)
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case r, ok := <-db.wq:
			if !timer.Stop() {
				<-timer.C
			}
			if !ok {
				break collect
			}
			healthy = add(r)
		case <-timer.C:
			break collect
		}
	}
	if healthy {
		if err := tx.commit(ctx); err == nil {
			db.commits.Add(1)
			return batch
		}
	} else if tx != nil {
		tx.Rollback()
	}
	// The transaction failed as a whole (a full disk, an I/O error): nothing
	// of the batch is stored. Write each document again in a transaction of
	// its own, so that one document's failure is its alone.
	for _, r := range batch {
		r.err = db.writeAlone(ctx, r)
	}
	return batch
}

// writeAlone writes one request in its own transaction.
func (db *DB) writeAlone(ctx context.Context, r *writeReq) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := r.fn(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	tx.keepDocument()
	if err := tx.commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
