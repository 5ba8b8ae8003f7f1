package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// The queries behind `thesisdb serve`'s pages and JSON API. They run on a
// Reader, the read-only connection, and read only what a page shows: a
// page of documents never touches their text, and one document's theses,
// views and data points are read by its extraction's id.

// SetMaxConns sets how many connections the reader may hold open at once
// (a server answers several requests at a time).
func (r *Reader) SetMaxConns(n int) { r.db.SetMaxOpenConns(max(n, 1)) }

// DocumentSorts are the orders BrowseDocuments accepts, by name.
var DocumentSorts = map[string]string{
	"published":   "d.published",
	"title":       "d.title COLLATE NOCASE",
	"ingested":    "d.id", // documents are numbered as they are stored
	"data_points": "c.data_points",
	"id":          "d.id",
}

// DocumentFilter selects and orders documents for a page of the document
// list; zero fields do not filter.
type DocumentFilter struct {
	// Search is a full-text query on the documents' titles and texts, in
	// SQLite FTS syntax ("credit spread", "margin*", "rates OR credit").
	Search string
	// Stance keeps documents with a current thesis of this stance.
	Stance string
	// Perspective keeps documents with a current view from this
	// perspective (compared in lower case).
	Perspective string
	// Tag keeps documents carrying this tag.
	Tag string
	// Source keeps documents whose source (path or URL) contains this text.
	Source string
	// From and To bound the publication date, inclusive (YYYY-MM-DD).
	From, To string
	// Run keeps documents with an extraction in this run.
	Run int64
	// Sort is a key of DocumentSorts (default "published"); Asc reverses
	// the default newest/largest-first order.
	Sort string
	Asc  bool
	// Limit is the page size (default 50, at most 500); Offset skips rows.
	Limit, Offset int
}

// DocumentRow is one document in the document list.
type DocumentRow struct {
	ID         int64  `json:"id"`
	Title      string `json:"title"`
	Source     string `json:"source"`
	Kind       string `json:"kind"`
	Published  string `json:"published"`
	Tags       string `json:"tags"`
	IngestedAt string `json:"ingested_at"`
	// RunID and ExtractionID are the current extraction's; 0 when the
	// document has no successful extraction.
	RunID        int64 `json:"run_id"`
	ExtractionID int64 `json:"extraction_id"`
	DataPoints   int   `json:"data_points"`
	Grounded     int   `json:"grounded"`
	// Stances are the distinct stances of the current theses.
	Stances []string `json:"stances"`
	// Snippet is the search hit in context, with matches between \x01
	// and \x02; empty without a search.
	Snippet string `json:"snippet,omitempty"`
}

// ErrBadFilter is returned for a document filter the store cannot run: a
// malformed full-text query or an unknown sort.
var ErrBadFilter = errors.New("bad filter")

// BrowseDocuments returns one page of documents matching f, and whether
// more follow.
func (r *Reader) BrowseDocuments(ctx context.Context, f DocumentFilter) ([]DocumentRow, bool, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	f.Offset = max(f.Offset, 0)
	key := f.Sort
	if key == "" {
		key = "published"
	}
	col, ok := DocumentSorts[key]
	if !ok {
		return nil, false, fmt.Errorf("%w: unknown sort %q", ErrBadFilter, f.Sort)
	}
	var where []string
	var args []any
	if s := strings.TrimSpace(f.Search); s != "" {
		// "+d.id": walk the documents in the page's order and test each
		// against the set of matches, rather than fetch every match
		// and sort them (a common word matches most documents).
		where = append(where, "+d.id IN (SELECT docid FROM documents_fts WHERE documents_fts MATCH ?)")
		args = append(args, s)
	}
	if f.Stance != "" {
		where = append(where, "EXISTS (SELECT 1 FROM theses t WHERE t.extraction_id = c.extraction_id AND t.stance = ?)")
		args = append(args, f.Stance)
	}
	if f.Perspective != "" {
		where = append(where, "EXISTS (SELECT 1 FROM views v WHERE v.extraction_id = c.extraction_id AND v.perspective = lower(?))")
		args = append(args, f.Perspective)
	}
	if f.Tag != "" {
		where = append(where, "instr(',' || coalesce(d.tags, '') || ',', ',' || ? || ',') > 0")
		args = append(args, f.Tag)
	}
	if f.Source != "" {
		where = append(where, "instr(lower(d.source), lower(?)) > 0")
		args = append(args, f.Source)
	}
	if f.From != "" {
		where = append(where, "d.published >= ?")
		args = append(args, f.From)
	}
	if f.To != "" {
		// A date of the last day includes timestamps on that day.
		where = append(where, "d.published < ? || 'z'")
		args = append(args, f.To)
	}
	if f.Run > 0 {
		where = append(where, "EXISTS (SELECT 1 FROM extractions e WHERE e.run_id = ? AND e.document_id = d.id)")
		args = append(args, f.Run)
	}
	// NULLs sort as SQLite orders them (last when descending, first
	// when ascending), so that an index on the column serves the order.
	dir := "DESC"
	if f.Asc {
		dir = "ASC"
	}
	q := `SELECT d.id, coalesce(d.title, ''), d.source, d.kind, coalesce(d.published, ''), coalesce(d.tags, ''), d.ingested_at,
			coalesce(c.run_id, 0), coalesce(c.extraction_id, 0), coalesce(c.data_points, 0), coalesce(c.grounded, 0)
		FROM documents d LEFT JOIN current_extraction c ON c.document_id = d.id`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY %s %s, d.id %s LIMIT ? OFFSET ?", col, dir, dir)
	args = append(args, f.Limit+1, f.Offset)
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, browseError("list documents", err)
	}
	defer rows.Close()
	var out []DocumentRow
	for rows.Next() {
		var d DocumentRow
		if err := rows.Scan(&d.ID, &d.Title, &d.Source, &d.Kind, &d.Published, &d.Tags, &d.IngestedAt,
			&d.RunID, &d.ExtractionID, &d.DataPoints, &d.Grounded); err != nil {
			return nil, false, browseError("list documents", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, false, browseError("list documents", err)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	if err := r.fillStances(ctx, out); err != nil {
		return nil, false, err
	}
	if s := strings.TrimSpace(f.Search); s != "" && len(out) > 0 {
		if err := r.fillSnippets(ctx, s, out); err != nil {
			return nil, false, err
		}
	}
	return out, more, nil
}

// browseError wraps err, marking SQLite's complaints about a full-text
// query as ErrBadFilter.
func browseError(what string, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "MATCH") || strings.Contains(msg, "fts") {
		return fmt.Errorf("%s: %w: search: %v", what, ErrBadFilter, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// idList is "?, ?, ?" for n ids, and the ids as arguments.
func idList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", "), args
}

// fillStances sets the stances of the current theses of each row.
func (r *Reader) fillStances(ctx context.Context, docs []DocumentRow) error {
	var ext []int64
	at := map[int64]int{}
	for i, d := range docs {
		if d.ExtractionID != 0 {
			ext = append(ext, d.ExtractionID)
			at[d.ExtractionID] = i
		}
	}
	if len(ext) == 0 {
		return nil
	}
	in, args := idList(ext)
	rows, err := r.db.QueryContext(ctx, `SELECT DISTINCT extraction_id, stance FROM theses WHERE extraction_id IN (`+in+`) ORDER BY extraction_id, stance`, args...)
	if err != nil {
		return fmt.Errorf("list documents: stances: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var stance string
		if err := rows.Scan(&id, &stance); err != nil {
			return fmt.Errorf("list documents: stances: %w", err)
		}
		docs[at[id]].Stances = append(docs[at[id]].Stances, stance)
	}
	return rows.Err()
}

// fillSnippets sets each row's search hit in context.
func (r *Reader) fillSnippets(ctx context.Context, search string, docs []DocumentRow) error {
	ids := make([]int64, len(docs))
	at := map[int64]int{}
	for i, d := range docs {
		ids[i] = d.ID
		at[d.ID] = i
	}
	in, args := idList(ids)
	rows, err := r.db.QueryContext(ctx, `SELECT docid, snippet(documents_fts, char(1), char(2), '…', -1, 16) FROM documents_fts
		WHERE documents_fts MATCH ? AND docid IN (`+in+`)`, append([]any{search}, args...)...)
	if err != nil {
		return browseError("list documents: snippets", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			return fmt.Errorf("list documents: snippets: %w", err)
		}
		docs[at[id]].Snippet = s
	}
	return rows.Err()
}

// DocumentDetail is one document with one of its extractions, as the
// document page shows it.
type DocumentDetail struct {
	ID           int64    `json:"id"`
	SHA256       string   `json:"sha256"`
	Kind         string   `json:"kind"`
	Source       string   `json:"source"`
	Title        string   `json:"title"`
	Author       string   `json:"author"`
	Published    string   `json:"published"`
	SiteName     string   `json:"site_name"`
	CanonicalURL string   `json:"canonical_url"`
	Tags         []string `json:"tags"`
	Warnings     []string `json:"warnings"`
	Bytes        int64    `json:"bytes"`
	IngestedAt   string   `json:"ingested_at"`
	// Text is the cleaned text; character offsets count its runes.
	Text string `json:"text"`
	// PageStarts is where each page of a PDF starts in Text (runes);
	// empty when the document has no pages.
	PageStarts []int `json:"page_starts"`
	// Extraction is the one shown: the current one, or a run's; nil when
	// there is none.
	Extraction *ExtractionInfo `json:"extraction"`
	// Extractions lists every extraction of the document, newest first.
	Extractions []ExtractionInfo `json:"extractions"`
	Theses      []ThesisDetail   `json:"theses"`
}

// ExtractionInfo is an extraction's provenance and outcome.
type ExtractionInfo struct {
	ID            int64    `json:"id"`
	RunID         int64    `json:"run_id"`
	Status        string   `json:"status"`
	Error         string   `json:"error,omitempty"`
	Extractor     string   `json:"extractor"`
	Model         string   `json:"model"`
	PromptVersion string   `json:"prompt_version"`
	SchemaVersion string   `json:"schema_version"`
	CreatedAt     string   `json:"created_at"`
	CostUSD       *float64 `json:"cost_usd"`
	Current       bool     `json:"current"`
}

// ThesisDetail is a thesis with its views and data points.
type ThesisDetail struct {
	ID         int64          `json:"id"`
	Ordinal    int            `json:"ordinal"`
	Title      string         `json:"title"`
	Statement  string         `json:"statement"`
	Subject    string         `json:"subject"`
	Stance     string         `json:"stance"`
	Confidence *float64       `json:"confidence"`
	Conviction *float64       `json:"conviction"`
	Horizon    string         `json:"horizon"`
	Views      []ViewRow      `json:"views"`
	DataPoints []DataPointRow `json:"data_points"`
}

// ViewRow is one perspective's view of a thesis.
type ViewRow struct {
	ID          int64    `json:"id"`
	Perspective string   `json:"perspective"`
	Stance      string   `json:"stance"`
	Confidence  *float64 `json:"confidence"`
	Conviction  *float64 `json:"conviction"`
	Horizon     string   `json:"horizon"`
	Summary     string   `json:"summary"`
	AsOf        string   `json:"as_of"`
}

// DataPointRow is one data point with where its quote stands.
type DataPointRow struct {
	ID          int64    `json:"id"`
	ThesisID    int64    `json:"thesis_id"`
	Ordinal     int      `json:"ordinal"`
	Indicator   string   `json:"indicator"`
	Value       string   `json:"value"`
	ValueNum    *float64 `json:"value_num"`
	ValueLow    *float64 `json:"value_low"`
	ValueHigh   *float64 `json:"value_high"`
	Unit        *string  `json:"unit"`
	Source      string   `json:"source"`
	Implication string   `json:"implication"`
	Perspective string   `json:"perspective"`
	Quote       string   `json:"quote"`
	// CharStart and CharEnd are rune offsets in the document's text; nil
	// when the quote was not found.
	CharStart *int `json:"char_start"`
	CharEnd   *int `json:"char_end"`
	Grounded  bool `json:"grounded"`
	// Page is the 1-based PDF page; nil when unknown.
	Page *int `json:"page"`
}

// DocumentDetail returns document id with its current extraction, or the
// extraction of run runID when runID > 0 (ErrNotFound when it has none).
func (r *Reader) DocumentDetail(ctx context.Context, id, runID int64) (*DocumentDetail, error) {
	d := &DocumentDetail{ID: id}
	var title, author, published, site, canonical, tags, warnings sql.NullString
	err := r.db.QueryRowContext(ctx, `SELECT sha256, kind, source, title, author, published, site_name, canonical_url, tags,
			warnings, bytes, ingested_at, text FROM documents WHERE id = ?`, id).
		Scan(&d.SHA256, &d.Kind, &d.Source, &title, &author, &published, &site, &canonical, &tags, &warnings, &d.Bytes, &d.IngestedAt, &d.Text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("document %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("document %d: %w", id, err)
	}
	d.Title, d.Author, d.Published, d.SiteName, d.CanonicalURL = title.String, author.String, published.String, site.String, canonical.String
	d.Tags, d.Warnings = splitNonEmpty(tags.String, ","), splitNonEmpty(warnings.String, "\n")
	if err := r.scanInts(ctx, &d.PageStarts, `SELECT char_start FROM document_pages WHERE document_id = ? ORDER BY page`, id); err != nil {
		return nil, fmt.Errorf("document %d pages: %w", id, err)
	}
	if err := r.documentExtractions(ctx, d); err != nil {
		return nil, err
	}
	for i := range d.Extractions {
		x := &d.Extractions[i]
		if (runID > 0 && x.RunID == runID) || (runID <= 0 && x.Current) {
			d.Extraction = x
			break
		}
	}
	if d.Extraction == nil {
		if runID > 0 {
			return nil, fmt.Errorf("document %d in run %d: %w", id, runID, ErrNotFound)
		}
		return d, nil
	}
	if err := r.extractionTheses(ctx, d); err != nil {
		return nil, fmt.Errorf("document %d: %w", id, err)
	}
	return d, nil
}

func splitNonEmpty(s, sep string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, sep)
}

func (r *Reader) scanInts(ctx context.Context, dst *[]int, q string, args ...any) error {
	*dst = []int{}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return err
		}
		*dst = append(*dst, n)
	}
	return rows.Err()
}

func (r *Reader) documentExtractions(ctx context.Context, d *DocumentDetail) error {
	rows, err := r.db.QueryContext(ctx, `SELECT e.id, e.run_id, e.status, coalesce(e.error, ''), e.extractor, coalesce(e.model, ''),
			e.prompt_version, e.schema_version, e.created_at, e.cost_usd, c.extraction_id IS NOT NULL
		FROM extractions e LEFT JOIN current_extraction c ON c.extraction_id = e.id
		WHERE e.document_id = ? ORDER BY e.id DESC`, d.ID)
	if err != nil {
		return fmt.Errorf("document %d extractions: %w", d.ID, err)
	}
	defer rows.Close()
	d.Extractions = []ExtractionInfo{}
	for rows.Next() {
		var x ExtractionInfo
		var cost sql.NullFloat64
		if err := rows.Scan(&x.ID, &x.RunID, &x.Status, &x.Error, &x.Extractor, &x.Model, &x.PromptVersion, &x.SchemaVersion,
			&x.CreatedAt, &cost, &x.Current); err != nil {
			return fmt.Errorf("document %d extractions: %w", d.ID, err)
		}
		if cost.Valid {
			x.CostUSD = &cost.Float64
		}
		d.Extractions = append(d.Extractions, x)
	}
	return rows.Err()
}

func nullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}

// extractionTheses reads the theses, views and data points of d's
// extraction.
func (r *Reader) extractionTheses(ctx context.Context, d *DocumentDetail) error {
	ext := d.Extraction.ID
	d.Theses = []ThesisDetail{}
	at := map[int64]int{}
	rows, err := r.db.QueryContext(ctx, `SELECT id, ordinal, title, statement, coalesce(subject, ''), stance, confidence, conviction, coalesce(horizon, '')
		FROM theses WHERE extraction_id = ? ORDER BY ordinal`, ext)
	if err != nil {
		return fmt.Errorf("theses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t ThesisDetail
		var conf, conv sql.NullFloat64
		if err := rows.Scan(&t.ID, &t.Ordinal, &t.Title, &t.Statement, &t.Subject, &t.Stance, &conf, &conv, &t.Horizon); err != nil {
			return fmt.Errorf("theses: %w", err)
		}
		t.Confidence, t.Conviction = nullFloat(conf), nullFloat(conv)
		t.Views, t.DataPoints = []ViewRow{}, []DataPointRow{}
		at[t.ID] = len(d.Theses)
		d.Theses = append(d.Theses, t)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("theses: %w", err)
	}
	rows.Close()

	vrows, err := r.db.QueryContext(ctx, `SELECT id, thesis_id, perspective, stance, confidence, conviction, coalesce(horizon, ''),
			coalesce(summary, ''), coalesce(as_of, '')
		FROM views WHERE extraction_id = ? ORDER BY id`, ext)
	if err != nil {
		return fmt.Errorf("views: %w", err)
	}
	defer vrows.Close()
	for vrows.Next() {
		var v ViewRow
		var thesis int64
		var conf, conv sql.NullFloat64
		if err := vrows.Scan(&v.ID, &thesis, &v.Perspective, &v.Stance, &conf, &conv, &v.Horizon, &v.Summary, &v.AsOf); err != nil {
			return fmt.Errorf("views: %w", err)
		}
		v.Confidence, v.Conviction = nullFloat(conf), nullFloat(conv)
		if i, ok := at[thesis]; ok {
			d.Theses[i].Views = append(d.Theses[i].Views, v)
		}
	}
	if err := vrows.Err(); err != nil {
		return fmt.Errorf("views: %w", err)
	}
	vrows.Close()

	prows, err := r.db.QueryContext(ctx, `SELECT id, thesis_id, ordinal, indicator, value, value_num, value_low, value_high, unit,
			coalesce(source, ''), coalesce(implication, ''), coalesce(perspective, ''), quote, char_start, char_end, grounded, page
		FROM data_points WHERE extraction_id = ? ORDER BY thesis_id, ordinal`, ext)
	if err != nil {
		return fmt.Errorf("data points: %w", err)
	}
	defer prows.Close()
	for prows.Next() {
		var p DataPointRow
		var num, low, high sql.NullFloat64
		var unit sql.NullString
		var start, end, page sql.NullInt64
		if err := prows.Scan(&p.ID, &p.ThesisID, &p.Ordinal, &p.Indicator, &p.Value, &num, &low, &high, &unit,
			&p.Source, &p.Implication, &p.Perspective, &p.Quote, &start, &end, &p.Grounded, &page); err != nil {
			return fmt.Errorf("data points: %w", err)
		}
		p.ValueNum, p.ValueLow, p.ValueHigh = nullFloat(num), nullFloat(low), nullFloat(high)
		if unit.Valid {
			p.Unit = &unit.String
		}
		p.CharStart, p.CharEnd, p.Page = nullInt(start), nullInt(end), nullInt(page)
		if i, ok := at[p.ThesisID]; ok {
			d.Theses[i].DataPoints = append(d.Theses[i].DataPoints, p)
		}
	}
	if err := prows.Err(); err != nil {
		return fmt.Errorf("data points: %w", err)
	}
	return nil
}

// BrowseRuns lists runs newest first, at most limit (0: all).
func (r *Reader) BrowseRuns(ctx context.Context, limit int) ([]Run, error) {
	q := `SELECT ` + runColumns + ` FROM runs ORDER BY id DESC`
	var args []any
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	out := []Run{}
	for rows.Next() {
		run, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, *run)
	}
	return out, rows.Err()
}

// RunByID returns run id, or ErrNotFound.
func (r *Reader) RunByID(ctx context.Context, id int64) (*Run, error) {
	run, err := scanRun(r.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("run %d: %w", id, err)
	}
	return run, nil
}

// FailureRow is a row of the failures view.
type FailureRow struct {
	RunID      int64  `json:"run_id"`
	Stage      string `json:"stage"`
	Source     string `json:"source"`
	DocumentID int64  `json:"document_id"` // 0 for a load failure
	Error      string `json:"error"`
	FailedAt   string `json:"failed_at"`
}

// BrowseFailures returns failures newest first (of run runID when > 0),
// one page of limit (default 100) after offset, and whether more follow.
func (r *Reader) BrowseFailures(ctx context.Context, runID int64, limit, offset int) ([]FailureRow, bool, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	q := `SELECT coalesce(run_id, 0), stage, source, coalesce(document_id, 0), coalesce(error, ''), failed_at FROM failures`
	var args []any
	if runID > 0 {
		q += ` WHERE run_id = ?`
		args = append(args, runID)
	}
	q += ` ORDER BY failed_at DESC LIMIT ? OFFSET ?`
	args = append(args, limit+1, max(offset, 0))
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("list failures: %w", err)
	}
	defer rows.Close()
	out := []FailureRow{}
	for rows.Next() {
		var f FailureRow
		if err := rows.Scan(&f.RunID, &f.Stage, &f.Source, &f.DocumentID, &f.Error, &f.FailedAt); err != nil {
			return nil, false, fmt.Errorf("list failures: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list failures: %w", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// Facets are the values the document list's filters offer.
type Facets struct {
	Perspectives []string `json:"perspectives"`
	Runs         []int64  `json:"runs"`
}

// BrowseFacets returns the current perspectives and the run ids, for the
// document list's filter menus.
func (r *Reader) BrowseFacets(ctx context.Context) (*Facets, error) {
	f := &Facets{Perspectives: []string{}, Runs: []int64{}}
	rows, err := r.db.QueryContext(ctx, `SELECT DISTINCT perspective FROM current_view_counts ORDER BY perspective LIMIT 200`)
	if err != nil {
		return nil, fmt.Errorf("facets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("facets: %w", err)
		}
		f.Perspectives = append(f.Perspectives, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("facets: %w", err)
	}
	rows.Close()
	rrows, err := r.db.QueryContext(ctx, `SELECT id FROM runs ORDER BY id DESC LIMIT 200`)
	if err != nil {
		return nil, fmt.Errorf("facets: %w", err)
	}
	defer rrows.Close()
	for rrows.Next() {
		var id int64
		if err := rrows.Scan(&id); err != nil {
			return nil, fmt.Errorf("facets: %w", err)
		}
		f.Runs = append(f.Runs, id)
	}
	return f, rrows.Err()
}

// ExtractionPairs is DB.ExtractionPairs on the read-only connection: each
// document's successful extractions in runs a and b, for a diff.
func (r *Reader) ExtractionPairs(ctx context.Context, a, b int64, fn func(ExtractionPair) error) error {
	return r.asDB().ExtractionPairs(ctx, a, b, fn)
}

// asDB is a DB whose read methods (those that query only its readers)
// run on this reader's read-only connection; nothing may write through
// it.
func (r *Reader) asDB() *DB { return &DB{path: "", r: r.db} }
