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
	return nil
}

// AddSkipped counts n documents the run skipped (duplicates, cached).
func (db *DB) AddSkipped(ctx context.Context, runID int64, n int) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
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
		&r.DataPoints, &r.Ungrounded, &r.Usage.PromptTokens, &r.Usage.CompletionTokens, &r.Usage.CachedPromptTokens, &r.Usage.CostUSD)
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
	err := db.r.QueryRowContext(ctx, `SELECT id FROM documents WHERE sha256 = ?`, sha).Scan(&id)
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
// the outcome of extracting it in run, in one transaction: a failure leaves
// no partial rows. It returns the document's id.
func (db *DB) SaveDocument(ctx context.Context, runID int64, doc *schema.Document, out Outcome) (int64, error) {
	var docID int64
	err := db.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM documents WHERE sha256 = ?`, doc.SHA256).Scan(&docID)
		if errors.Is(err, sql.ErrNoRows) {
			res, err := tx.ExecContext(ctx, `INSERT INTO documents (sha256, kind, source, title, author, published, site_name, canonical_url, tags, text, bytes, warnings)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				doc.SHA256, doc.Kind, doc.Source, nullStr(doc.Title), nullStr(doc.Author), nullStr(doc.Published),
				nullStr(doc.SiteName), nullStr(doc.CanonicalURL), nullStr(strings.Join(doc.Tags, ",")), doc.Text, doc.Bytes, nullStr(strings.Join(doc.Warnings, "\n")))
			if err != nil {
				return fmt.Errorf("insert document: %w", err)
			}
			docID, err = res.LastInsertId()
			if err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		return saveExtraction(ctx, tx, runID, docID, out)
	})
	if err != nil {
		if errors.Is(err, ErrDuplicate) {
			return docID, err
		}
		return 0, fmt.Errorf("save %s: %w", doc.Source, err)
	}
	return docID, nil
}

// SaveExtraction stores the outcome of extracting an already stored
// document in run, in one transaction.
func (db *DB) SaveExtraction(ctx context.Context, runID, docID int64, out Outcome) error {
	err := db.tx(ctx, func(tx *sql.Tx) error { return saveExtraction(ctx, tx, runID, docID, out) })
	if err != nil && !errors.Is(err, ErrDuplicate) {
		return fmt.Errorf("save extraction of document %d: %w", docID, err)
	}
	return err
}

func saveExtraction(ctx context.Context, tx *sql.Tx, runID, docID int64, out Outcome) error {
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM extractions WHERE run_id = ? AND document_id = ?`, runID, docID).Scan(&exists); err != nil {
		return err
	}
	if exists > 0 {
		return ErrDuplicate
	}
	var extractor, promptVersion, schemaVersion string
	var model sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT extractor, model, prompt_version, schema_version FROM runs WHERE id = ?`, runID).
		Scan(&extractor, &model, &promptVersion, &schemaVersion); err != nil {
		return fmt.Errorf("run %d: %w", runID, err)
	}
	status, errText, result := "ok", "", ""
	if out.Err == nil && out.Extraction == nil {
		out.Err = errors.New("extractor returned no extraction")
	}
	if out.Err != nil {
		status, errText = "failed", out.Err.Error()
	} else {
		b, err := json.Marshal(out.Extraction)
		if err != nil {
			return fmt.Errorf("encode extraction: %w", err)
		}
		result = string(b)
	}
	u := out.Usage
	res, err := tx.ExecContext(ctx, `INSERT INTO extractions (run_id, document_id, status, error, extractor, model, prompt_version, schema_version,
			result, prompt_tokens, completion_tokens, cached_tokens, cost_usd, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		runID, docID, status, nullStr(errText), extractor, model, promptVersion, schemaVersion, nullStr(result),
		u.PromptTokens, u.CompletionTokens, u.CachedPromptTokens, u.CostUSD, out.Duration.Milliseconds())
	if err != nil {
		return fmt.Errorf("insert extraction: %w", err)
	}
	extID, err := res.LastInsertId()
	if err != nil {
		return err
	}
	points, ungrounded := 0, 0
	if out.Err == nil {
		points, ungrounded, err = insertTheses(ctx, tx, extID, docID, out.Extraction)
		if err != nil {
			return err
		}
	}
	ok, failed := 1, 0
	if out.Err != nil {
		ok, failed = 0, 1
	}
	_, err = tx.ExecContext(ctx, `UPDATE runs SET documents_ok = documents_ok + ?, documents_failed = documents_failed + ?,
			data_points = data_points + ?, ungrounded = ungrounded + ?, prompt_tokens = prompt_tokens + ?,
			completion_tokens = completion_tokens + ?, cached_tokens = cached_tokens + ?, cost_usd = cost_usd + ?
		WHERE id = ?`, ok, failed, points, ungrounded, u.PromptTokens, u.CompletionTokens, u.CachedPromptTokens, u.CostUSD, runID)
	return err
}

func insertTheses(ctx context.Context, tx *sql.Tx, extID, docID int64, x *schema.Extraction) (points, ungrounded int, err error) {
	thStmt, err := tx.PrepareContext(ctx, `INSERT INTO theses (extraction_id, document_id, ordinal, title, statement, subject, stance, confidence, conviction, horizon)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, 0, err
	}
	defer thStmt.Close()
	vStmt, err := tx.PrepareContext(ctx, `INSERT INTO views (thesis_id, extraction_id, document_id, perspective, stance, confidence, conviction, horizon, summary, as_of)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, 0, err
	}
	defer vStmt.Close()
	dpStmt, err := tx.PrepareContext(ctx, `INSERT INTO data_points (thesis_id, extraction_id, document_id, ordinal, indicator, value,
			value_num, value_low, value_high, unit, source, implication, perspective, quote, char_start, char_end, grounded)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, 0, err
	}
	defer dpStmt.Close()
	for i, t := range x.Theses {
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
			q, ok := schema.ParseQuantity(d.Value)
			var unit any
			if ok {
				unit = q.Unit
			}
			var start, end any
			grounded := 0
			if g := d.Ground; g != nil {
				if g.Method != "" {
					start, end = g.Start, g.End
				}
				if g.Grounded {
					grounded = 1
				}
			}
			if grounded == 0 {
				ungrounded++
			}
			if _, err := dpStmt.ExecContext(ctx, thID, extID, docID, j, d.Indicator, d.Value, q.Num, q.Low, q.High, unit,
				d.Source, d.Implication, d.Perspective, d.Quote, start, end, grounded); err != nil {
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
	err := db.tx(ctx, func(tx *sql.Tx) error {
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
	err = db.r.QueryRowContext(ctx, `SELECT
			EXISTS (SELECT 1 FROM extractions WHERE document_id = ?1 AND status = 'ok'),
			coalesce((SELECT error FROM extractions WHERE document_id = ?1 AND status = 'failed' ORDER BY id DESC LIMIT 1), '')`,
		docID).Scan(&ok, &lastError)
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
