package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/thesisdb/thesisdb/schema"
)

// RunSpec describes a job: what extracts and with which prompt and schema.
type RunSpec struct {
	Kind          string // ingest, watch, reextract
	Extractor     string
	Model         string
	PromptVersion string
	PromptHash    string
	SchemaVersion string
	// Params is stored as JSON: the job's settings and selection.
	Params any
}

// Run is a row of the runs table.
type Run struct {
	ID int64
	RunSpec
	ParamsJSON       string
	Status           string
	StartedAt        string
	FinishedAt       string
	DocumentsOK      int
	DocumentsFailed  int
	DocumentsSkipped int
	DataPoints       int
	Ungrounded       int
	Usage            schema.Usage
}

// Run statuses.
const (
	RunRunning     = "running"
	RunDone        = "done"
	RunInterrupted = "interrupted"
	RunFailed      = "failed"
	// RunWaiting means the run's documents are out at the Batch API;
	// `thesisdb reextract --resume` collects them.
	RunWaiting = "waiting"
)

// StartRun records a new run and returns its id.
func (db *DB) StartRun(ctx context.Context, s RunSpec) (int64, error) {
	params := "{}"
	if s.Params != nil {
		b, err := json.Marshal(s.Params)
		if err != nil {
			return 0, fmt.Errorf("start run: encode params: %w", err)
		}
		params = string(b)
	}
	if s.SchemaVersion == "" {
		s.SchemaVersion = schema.Version
	}
	var id int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (kind, extractor, model, prompt_version, prompt_hash, schema_version, params, owner, heartbeat_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`,
			s.Kind, s.Extractor, nullStr(s.Model), s.PromptVersion, nullStr(s.PromptHash), s.SchemaVersion, params, self)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("start run: %w", err)
	}
	db.lease(id)
	return id, nil
}

// SetRunStatus ends a run of this process: it sets a status other than
// running (ResumeRun sets that), stamps finished_at and stops refreshing
// the run's heartbeat.
func (db *DB) SetRunStatus(ctx context.Context, id int64, status string) error {
	if status == RunRunning {
		return fmt.Errorf("set run %d %s: use ResumeRun", id, status)
	}
	defer db.release(id)
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?`, status, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("no run %d", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set run %d %s: %w", id, status, err)
	}
	// A run may have grown the database a lot: refresh the query
	// planner's statistics. Best effort: a run is not failed for them.
	db.optimizeAfter(ctx, id)
	return nil
}

// Optimize refreshes the query planner's statistics of every table and
// index, approximately (a bounded sample of each), so that it stays fast on
// a large database: about a second at a million data points.
func (db *DB) Optimize(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `PRAGMA analysis_limit = 1000; ANALYZE; PRAGMA analysis_limit = 0`); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	return nil
}

// optimizeAfter refreshes the statistics after run id: all of them when
// the run stored at least a tenth as many extractions as there are current
// ones (the planner would otherwise, say, scan a million superseded data
// points before the current ones), else what PRAGMA optimize finds stale.
func (db *DB) optimizeAfter(ctx context.Context, id int64) error {
	var stored, current int
	if err := db.w.QueryRowContext(ctx, `SELECT (SELECT documents_ok + documents_failed FROM runs WHERE id = ?),
			(SELECT count(*) FROM current_extraction)`, id).Scan(&stored, &current); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	if stored >= 100 && stored*10 >= current {
		return db.Optimize(ctx)
	}
	if _, err := db.w.ExecContext(ctx, `PRAGMA optimize = 0x10002`); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	return nil
}

// AddSkipped counts n documents the run skipped (duplicates, cached).
func (db *DB) AddSkipped(ctx context.Context, runID int64, n int) error {
	return db.write(context.WithoutCancel(ctx), func(ctx context.Context, tx *wtx) error {
		_, err := tx.ExecContext(ctx, `UPDATE runs SET documents_skipped = documents_skipped + ? WHERE id = ?`, n, runID)
		return err
	})
}

const runColumns = `id, kind, extractor, coalesce(model, ''), prompt_version, coalesce(prompt_hash, ''), schema_version,
	coalesce(params, ''), status, started_at, coalesce(finished_at, ''), documents_ok, documents_failed, documents_skipped,
	data_points, ungrounded, prompt_tokens, completion_tokens, cached_tokens, cost_usd`

func scanRun(sc interface{ Scan(...any) error }) (*Run, error) {
	var r Run
	err := sc.Scan(&r.ID, &r.Kind, &r.Extractor, &r.Model, &r.PromptVersion, &r.PromptHash, &r.SchemaVersion,
		&r.ParamsJSON, &r.Status, &r.StartedAt, &r.FinishedAt, &r.DocumentsOK, &r.DocumentsFailed, &r.DocumentsSkipped,
		&r.DataPoints, &r.Ungrounded, &r.Usage.PromptTokens, &r.Usage.CompletionTokens, &r.Usage.CachedPromptTokens, (*nullCost)(&r.Usage))
	return &r, err
}

// ErrNotFound is returned when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// GetRun returns run id.
func (db *DB) GetRun(ctx context.Context, id int64) (*Run, error) {
	r, err := scanRun(db.r.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("run %d: %w", id, err)
	}
	return r, nil
}

// Runs lists every run, newest first.
func (db *DB) Runs(ctx context.Context) ([]Run, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+runColumns+` FROM runs ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// DocumentBySHA returns the id of the document with that content hash, or
// ErrNotFound.
func (db *DB) DocumentBySHA(ctx context.Context, sha string) (int64, error) {
	var id int64
	err := db.rstmts[documentBySHASQL].QueryRowContext(ctx, sha).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// Document returns the stored document id.
func (db *DB) Document(ctx context.Context, id int64) (*schema.Document, error) {
	var d schema.Document
	var title, author, published, site, canonical, tags, warnings sql.NullString
	err := db.r.QueryRowContext(ctx, `SELECT kind, source, title, author, published, site_name, canonical_url, tags, text, sha256, bytes, warnings
		FROM documents WHERE id = ?`, id).Scan(&d.Kind, &d.Source, &title, &author, &published, &site, &canonical, &tags, &d.Text, &d.SHA256, &d.Bytes, &warnings)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("document %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("document %d: %w", id, err)
	}
	d.Title, d.Author, d.Published, d.SiteName, d.CanonicalURL = title.String, author.String, published.String, site.String, canonical.String
	if tags.String != "" {
		d.Tags = strings.Split(tags.String, ",")
	}
	if warnings.String != "" {
		d.Warnings = strings.Split(warnings.String, "\n")
	}
	rows, err := db.r.QueryContext(ctx, `SELECT char_start FROM document_pages WHERE document_id = ? ORDER BY page`, id)
	if err != nil {
		return nil, fmt.Errorf("document %d pages: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c int
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("document %d pages: %w", id, err)
		}
		d.PageStarts = append(d.PageStarts, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("document %d pages: %w", id, err)
	}
	return &d, nil
}

// Outcome is the result of extracting one document in a run.
type Outcome struct {
	// Err is the extraction's failure; nil means Extraction is valid.
	Err        error
	Extraction *schema.Extraction
	Usage      schema.Usage
	Duration   time.Duration
}

// ErrDuplicate is returned by SaveDocument when the run already holds an
// extraction of a document with the same content.
var ErrDuplicate = errors.New("duplicate document in this run")

// SaveDocument stores doc (or finds it by SHA-256 when already stored) and
// the outcome of extracting it in run, all or nothing: a failure leaves no
// partial rows. It returns the document's id once its transaction (shared
// with other documents being saved at the same time) has committed.
func (db *DB) SaveDocument(ctx context.Context, runID int64, doc *schema.Document, out Outcome) (int64, error) {
	ch := make(chan saved, 1)
	db.submitDocument(ctx, runID, doc, out, false, func(id int64, err error) { ch <- saved{id, err} })
	r := <-ch
	return r.id, r.err
}

type saved struct {
	id  int64
	err error
}

// SaveDocumentAsync is SaveDocument without waiting: done is called once,
// from another goroutine, when the document's transaction has committed
// or its rows were rolled back. Documents submitted this way are grouped
// into transactions of up to WriteOptions.MaxDocs; submitting waits while
// the writer's queue is full.
func (db *DB) SaveDocumentAsync(ctx context.Context, runID int64, doc *schema.Document, out Outcome, done func(id int64, err error)) {
	db.submitDocument(ctx, runID, doc, out, true, done)
}

func (db *DB) submitDocument(ctx context.Context, runID int64, doc *schema.Document, out Outcome, async bool, done func(id int64, err error)) {
	rows, err := prepareOutcome(out)
	if err != nil {
		done(0, fmt.Errorf("save %s: %w", doc.Source, err))
		return
	}
	var docID int64
	r := &writeReq{async: async, size: len(doc.Text) + len(rows.result), fn: func(ctx context.Context, tx *wtx) error {
		docID = 0
		err := tx.queryRow(ctx, documentBySHASQL, doc.SHA256).Scan(&docID)
		if errors.Is(err, sql.ErrNoRows) {
			res, err := tx.exec(ctx, insertDocumentSQL,
				doc.SHA256, doc.Kind, doc.Source, nullStr(doc.Title), nullStr(doc.Author), nullStr(doc.Published),
				nullStr(doc.SiteName), nullStr(doc.CanonicalURL), nullStr(strings.Join(doc.Tags, ",")), doc.Text, doc.Bytes, nullStr(strings.Join(doc.Warnings, "\n")))
			if err != nil {
				return fmt.Errorf("insert document: %w", err)
			}
			docID, err = res.LastInsertId()
			if err != nil {
				return err
			}
			if err := savePages(ctx, tx, docID, doc.PageStarts); err != nil {
				return err
			}
			// Just inserted: it has no extraction yet, and its pages are
			// doc's.
			return saveExtraction(ctx, tx, runID, docID, rows, &newDocument{pageStarts: doc.PageStarts})
		} else if err != nil {
			return err
		} else if err := fillPages(ctx, tx, docID, doc); err != nil {
			return err
		}
		return saveExtraction(ctx, tx, runID, docID, rows, nil)
	}}
	r.done = func(err error) {
		switch {
		case err == nil:
			done(docID, nil)
		case errors.Is(err, ErrDuplicate):
			done(docID, err)
		default:
			done(0, fmt.Errorf("save %s: %w", doc.Source, err))
		}
	}
	if err := db.submit(context.WithoutCancel(ctx), r); err != nil {
		done(0, fmt.Errorf("save %s: %w", doc.Source, err))
	}
}

// SaveExtraction stores the outcome of extracting an already stored
// document in run, all or nothing, and returns once it has committed.
func (db *DB) SaveExtraction(ctx context.Context, runID, docID int64, out Outcome) error {
	ch := make(chan error, 1)
	db.submitExtraction(ctx, runID, docID, out, false, func(err error) { ch <- err })
	return <-ch
}

// SaveExtractionAsync is SaveExtraction without waiting: done is called
// once, from another goroutine, when the extraction's transaction has
// committed or its rows were rolled back.
func (db *DB) SaveExtractionAsync(ctx context.Context, runID, docID int64, out Outcome, done func(error)) {
	db.submitExtraction(ctx, runID, docID, out, true, done)
}

func (db *DB) submitExtraction(ctx context.Context, runID, docID int64, out Outcome, async bool, done func(error)) {
	fail := func(err error) error {
		if err != nil && !errors.Is(err, ErrDuplicate) {
			return fmt.Errorf("save extraction of document %d: %w", docID, err)
		}
		return err
	}
	rows, err := prepareOutcome(out)
	if err != nil {
		done(fail(err))
		return
	}
	r := &writeReq{async: async, size: len(rows.result), fn: func(ctx context.Context, tx *wtx) error {
		return saveExtraction(ctx, tx, runID, docID, rows, nil)
	}, done: func(err error) { done(fail(err)) }}
	if err := db.submit(context.WithoutCancel(ctx), r); err != nil {
		done(fail(err))
	}
}

// outcomeRows is an Outcome turned into the values the write path stores,
// computed before the document reaches the writer (which works for every
// document, one at a time): the result's JSON, the parsed figures.
type outcomeRows struct {
	status, errText, result string
	usage                   schema.Usage
	durationMS              int64
	x                       *schema.Extraction
	quantities              [][]schema.Quantity // per thesis, per data point
	parsed                  [][]bool
}

func prepareOutcome(out Outcome) (*outcomeRows, error) {
	r := &outcomeRows{status: "ok", usage: out.Usage, durationMS: out.Duration.Milliseconds()}
	if out.Err == nil && out.Extraction == nil {
		out.Err = errors.New("extractor returned no extraction")
	}
	if out.Err != nil {
		r.status, r.errText = "failed", out.Err.Error()
		return r, nil
	}
	b, err := json.Marshal(out.Extraction)
	if err != nil {
		return nil, fmt.Errorf("encode extraction: %w", err)
	}
	r.result, r.x = string(b), out.Extraction
	r.quantities = make([][]schema.Quantity, len(r.x.Theses))
	r.parsed = make([][]bool, len(r.x.Theses))
	for i, t := range r.x.Theses {
		r.quantities[i] = make([]schema.Quantity, len(t.DataPoints))
		r.parsed[i] = make([]bool, len(t.DataPoints))
		for j, d := range t.DataPoints {
			r.quantities[i][j], r.parsed[i][j] = schema.ParseQuantity(d.Value)
		}
	}
	return r, nil
}

const (
	insertDocumentSQL = `INSERT INTO documents (sha256, kind, source, title, author, published, site_name, canonical_url, tags, text, bytes, warnings)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertExtractionSQL = `INSERT INTO extractions (run_id, document_id, status, error, extractor, model, prompt_version, schema_version,
			result, prompt_tokens, completion_tokens, cached_tokens, cost_usd, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	countRunRunsSQL = `UPDATE runs SET documents_ok = documents_ok + ?, documents_failed = documents_failed + ?,
			data_points = data_points + ?, ungrounded = ungrounded + ?, prompt_tokens = prompt_tokens + ?,
			completion_tokens = completion_tokens + ?, cached_tokens = cached_tokens + ?, cost_usd = cost_usd + ?
		WHERE id = ?`
	insertThesisSQL = `INSERT INTO theses (extraction_id, document_id, ordinal, title, statement, subject, stance, confidence, conviction, horizon)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertViewSQL = `INSERT INTO views (thesis_id, extraction_id, document_id, perspective, stance, confidence, conviction, horizon, summary, as_of)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertDataPointSQL = `INSERT INTO data_points (thesis_id, extraction_id, document_id, ordinal, indicator, value,
			value_num, value_low, value_high, unit, source, implication, perspective, quote, char_start, char_end, grounded, page)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	extractionExistsSQL = `SELECT count(*) FROM extractions WHERE run_id = ? AND document_id = ?`
	runInfoSQL          = `SELECT extractor, model, prompt_version, schema_version FROM runs WHERE id = ?`
	documentBySHASQL    = `SELECT id FROM documents WHERE sha256 = ?`
)

// readStatements are prepared once on the readers: the lookups made for
// every input of a run.
var readStatements = []string{documentBySHASQL, extractionStateSQL}

const extractionStateSQL = `SELECT
			EXISTS (SELECT 1 FROM extractions WHERE document_id = ?1 AND status = 'ok'),
			coalesce((SELECT error FROM extractions WHERE document_id = ?1 AND status = 'failed' ORDER BY id DESC LIMIT 1), '')`

// writeStatements are prepared once on the write connection.
var writeStatements = []string{documentBySHASQL, insertDocumentSQL, extractionExistsSQL, runInfoSQL, insertExtractionSQL,
	countRunRunsSQL, insertThesisSQL, insertViewSQL, insertDataPointSQL, countPagesSQL, insertPageSQL, pageStartsSQL, setCurrentSQL, insertCurrentSQL,
	lastRowsSQL, indexDocumentsSQL, indexDataPointsSQL, savepointSQL, rollbackToSQL, releaseSQL}

const (
	countPagesSQL = `SELECT count(*) FROM document_pages WHERE document_id = ?`
	insertPageSQL = `INSERT INTO document_pages (document_id, page, char_start) VALUES (?, ?, ?)`
	pageStartsSQL = `SELECT char_start FROM document_pages WHERE document_id = ? ORDER BY page`
	// insertCurrentSQL is setCurrentSQL for a document inserted in the
	// same transaction: it cannot have a current extraction yet.
	insertCurrentSQL = `INSERT INTO current_extraction (document_id, extraction_id, run_id, data_points, grounded) VALUES (?, ?, ?, ?, ?)`
	setCurrentSQL    = `INSERT INTO current_extraction (document_id, extraction_id, run_id, data_points, grounded) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (document_id) DO UPDATE SET extraction_id = excluded.extraction_id, run_id = excluded.run_id,
			data_points = excluded.data_points, grounded = excluded.grounded
		WHERE excluded.extraction_id > extraction_id`
)

// savePages records where each page of document docID starts, unless its
// pages are already known (a PDF stored before migration 0004 gets them
// when ingested again).
func savePages(ctx context.Context, tx *wtx, docID int64, starts []int) error {
	if len(starts) == 0 {
		return nil
	}
	var n int
	if err := tx.queryRow(ctx, countPagesSQL, docID).Scan(&n); err != nil {
		return fmt.Errorf("pages: %w", err)
	}
	if n > 0 {
		return nil
	}
	for i, c := range starts {
		if _, err := tx.exec(ctx, insertPageSQL, docID, i+1, c); err != nil {
			return fmt.Errorf("insert page %d: %w", i+1, err)
		}
	}
	return nil
}

// pageStarts reads document docID's page starts, nil when it has none.
func pageStarts(ctx context.Context, tx *wtx, docID int64) ([]int, error) {
	s, err := tx.stmt(ctx, pageStartsSQL)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(ctx, docID)
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var c int
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("pages: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// newDocument marks a document inserted in the same savepoint as its
// extraction: it has no other extraction, and its page starts are known.
type newDocument struct{ pageStarts []int }

// runInfo is what a run's extractions repeat of it.
type runInfo struct {
	extractor, promptVersion, schemaVersion string
	model                                   sql.NullString
}

// runInfo returns run id's extractor, model and versions, read once per
// transaction.
func (w *wtx) runInfo(ctx context.Context, id int64) (runInfo, error) {
	if ri, ok := w.runs[id]; ok {
		return ri, nil
	}
	var ri runInfo
	if err := w.queryRow(ctx, runInfoSQL, id).Scan(&ri.extractor, &ri.model, &ri.promptVersion, &ri.schemaVersion); err != nil {
		return ri, fmt.Errorf("run %d: %w", id, err)
	}
	if w.runs == nil {
		w.runs = map[int64]runInfo{}
	}
	w.runs[id] = ri
	return ri, nil
}

func saveExtraction(ctx context.Context, tx *wtx, runID, docID int64, rows *outcomeRows, fresh *newDocument) error {
	if fresh == nil {
		var exists int
		if err := tx.queryRow(ctx, extractionExistsSQL, runID, docID).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return ErrDuplicate
		}
	}
	ri, err := tx.runInfo(ctx, runID)
	if err != nil {
		return err
	}
	u := rows.usage
	res, err := tx.exec(ctx, insertExtractionSQL,
		runID, docID, rows.status, nullStr(rows.errText), ri.extractor, ri.model, ri.promptVersion, ri.schemaVersion, nullStr(rows.result),
		u.PromptTokens, u.CompletionTokens, u.CachedPromptTokens, costArg(u), rows.durationMS)
	if err != nil {
		return fmt.Errorf("insert extraction: %w", err)
	}
	extID, err := res.LastInsertId()
	if err != nil {
		return err
	}
	points, ungrounded := 0, 0
	ok, failed := 0, 1
	if rows.status == "ok" {
		ok, failed = 1, 0
		points, ungrounded, err = insertTheses(ctx, tx, extID, docID, rows, fresh)
		if err != nil {
			return err
		}
		// The views read the document's current extraction from here.
		set := setCurrentSQL
		if fresh != nil {
			set = insertCurrentSQL
		}
		if _, err := tx.exec(ctx, set, docID, extID, runID, points, points-ungrounded); err != nil {
			return fmt.Errorf("current extraction: %w", err)
		}
	}
	// Added to the run's row once per transaction, if this document's
	// rows are kept.
	tx.count(runID, runCounts{ok: ok, failed: failed, points: points, ungrounded: ungrounded, usage: u})
	return nil
}

func insertTheses(ctx context.Context, tx *wtx, extID, docID int64, rows *outcomeRows, fresh *newDocument) (points, ungrounded int, err error) {
	thStmt, err := tx.stmt(ctx, insertThesisSQL)
	if err != nil {
		return 0, 0, err
	}
	vStmt, err := tx.stmt(ctx, insertViewSQL)
	if err != nil {
		return 0, 0, err
	}
	dpStmt, err := tx.stmt(ctx, insertDataPointSQL)
	if err != nil {
		return 0, 0, err
	}
	var starts []int
	if fresh != nil {
		starts = fresh.pageStarts
	} else if starts, err = pageStarts(ctx, tx, docID); err != nil {
		return 0, 0, err
	}
	pages := &schema.Document{PageStarts: starts}
	for i, t := range rows.x.Theses {
		res, err := thStmt.ExecContext(ctx, extID, docID, i, t.Title, t.Statement, t.Subject, string(t.Stance), t.Confidence, t.Conviction, t.Horizon)
		if err != nil {
			return 0, 0, fmt.Errorf("insert thesis %d: %w", i, err)
		}
		thID, err := res.LastInsertId()
		if err != nil {
			return 0, 0, err
		}
		for j, v := range t.Views {
			if _, err := vStmt.ExecContext(ctx, thID, extID, docID, v.Perspective, string(v.Stance), v.Confidence, v.Conviction, v.Horizon, v.Summary, v.AsOf); err != nil {
				return 0, 0, fmt.Errorf("insert thesis %d view %d: %w", i, j, err)
			}
		}
		for j, d := range t.DataPoints {
			q := rows.quantities[i][j]
			var unit any
			if rows.parsed[i][j] {
				unit = q.Unit
			}
			var start, end, page any
			grounded := 0
			if g := d.Ground; g != nil {
				if g.Method != "" {
					start, end = g.Start, g.End
					if n := pages.PageAt(g.Start); n > 0 {
						page = n
					}
				}
				if g.Grounded {
					grounded = 1
				}
			}
			if grounded == 0 {
				ungrounded++
			}
			if _, err := dpStmt.ExecContext(ctx, thID, extID, docID, j, d.Indicator, d.Value, q.Num, q.Low, q.High, unit,
				d.Source, d.Implication, d.Perspective, d.Quote, start, end, grounded, page); err != nil {
				return 0, 0, fmt.Errorf("insert thesis %d data point %d: %w", i, j, err)
			}
			points++
		}
	}
	return points, ungrounded, nil
}

// RecordLoadFailure stores an input that could not be loaded at all, and
// counts it as failed in run.
func (db *DB) RecordLoadFailure(ctx context.Context, runID int64, source, sha, errText string) error {
	err := db.write(context.WithoutCancel(ctx), func(ctx context.Context, tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO load_failures (run_id, source, sha256, error) VALUES (?, ?, ?, ?)`,
			runID, source, nullStr(sha), errText); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE runs SET documents_failed = documents_failed + 1 WHERE id = ?`, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record load failure of %s: %w", source, err)
	}
	return nil
}

// ExtractionState reports whether document docID has any successful
// extraction and, when it has none, the error of its latest failed one
// ("" when it was never extracted).
func (db *DB) ExtractionState(ctx context.Context, docID int64) (ok bool, lastError string, err error) {
	err = db.rstmts[extractionStateSQL].QueryRowContext(ctx, docID).Scan(&ok, &lastError)
	if err != nil {
		return false, "", fmt.Errorf("extractions of document %d: %w", docID, err)
	}
	if ok {
		lastError = ""
	}
	return ok, lastError, nil
}

// CacheKey identifies an extraction that need not be made again.
type CacheKey struct {
	DocumentID    int64
	Extractor     string
	Model         string
	PromptVersion string
	SchemaVersion string
}

// HasExtraction reports whether a successful extraction with the same
// document, extractor, model, prompt version and schema version exists.
func (db *DB) HasExtraction(ctx context.Context, k CacheKey) (bool, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM extractions
		WHERE document_id = ? AND status = 'ok' AND extractor = ? AND coalesce(model, '') = ? AND prompt_version = ? AND schema_version = ?`,
		k.DocumentID, k.Extractor, k.Model, k.PromptVersion, k.SchemaVersion).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up cached extraction: %w", err)
	}
	return n > 0, nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}
