package pipeline_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/extract/rules"
	"github.com/thesisdb/thesisdb/internal/benchdb"
	"github.com/thesisdb/thesisdb/internal/synth"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

// Benchmarks at scale. The database they query (and ingest into) is the
// one benchdb.Large keeps: THESISDB_BENCH_POINTS current data points
// (default 100000) in synthetic notes of 50 data points, each ingested and
// then extracted again, so that half the rows are superseded. It is built
// in THESISDB_BENCH_DIR and kept there for the next run (default: a
// temporary folder, built again by every benchmark). At 1,000,000 points
// it takes about 1.5 GB.

// largeDB returns the path of a database with points current data points,
// building it when it is not there and refreshing the statistics of one
// built before.
func largeDB(b *testing.B, points int) string {
	return benchdb.Large(b, points, func(ctx context.Context, db *store.DB) error { return db.Optimize(ctx) })
}

// benchWriteOptions are the writer's transaction bounds for the ingest
// benchmarks: THESISDB_BENCH_BATCH=DOCS/DURATION (say 1024/1s), else the
// store's defaults.
func benchWriteOptions(b *testing.B) store.WriteOptions {
	s := os.Getenv("THESISDB_BENCH_BATCH")
	if s == "" {
		return store.WriteOptions{}
	}
	n, d, ok := strings.Cut(s, "/")
	docs, err := strconv.Atoi(n)
	t, err2 := time.ParseDuration(d)
	if !ok || err != nil || err2 != nil {
		b.Fatalf("THESISDB_BENCH_BATCH=%q: want DOCS/DURATION, say 1024/1s", s)
	}
	return store.WriteOptions{MaxDocs: docs, MaxTime: t}
}

// benchFTS applies THESISDB_BENCH_FTS, FTS4 commands separated by ";"
// (say automerge=8), to both full-text indexes of the database at path,
// before an ingest is timed.
func benchFTS(b *testing.B, path string) {
	cmds := os.Getenv("THESISDB_BENCH_FTS")
	if cmds == "" {
		return
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, c := range strings.Split(cmds, ";") {
		for _, t := range []string{"documents_fts", "data_points_fts"} {
			if _, err := db.Exec(fmt.Sprintf("INSERT INTO %s (%[1]s) VALUES (?)", t), strings.TrimSpace(c)); err != nil {
				b.Fatalf("THESISDB_BENCH_FTS: %s: %v", c, err)
			}
		}
	}
}

func copyFile(b *testing.B, dst, src string) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// readmeQueries are the README's example queries, in order (a test keeps
// them equal). before is the form the README gave before migration 0005
// where it differs: the maintained counts replace a GROUP BY.
var readmeQueries = []struct{ name, sql, before string }{
	{"theses-by-conviction", `SELECT document_title, stance, confidence, conviction, horizon
FROM current_theses
ORDER BY conviction DESC NULLS LAST
`, ""},
	{"perspectives", `SELECT perspective, stance, views, round(avg_confidence, 2) AS avg_confidence
FROM current_perspectives
ORDER BY perspective, views DESC
`, `SELECT perspective, stance, count(*) AS views, round(avg(confidence), 2) AS avg_confidence
FROM current_views
GROUP BY perspective, stance
ORDER BY perspective, views DESC
`},
	{"disagreements", `SELECT t.document_title, t.stance AS thesis_stance, v.perspective, v.stance AS view_stance, v.confidence
FROM current_theses t
JOIN current_views v ON v.thesis_id = t.thesis_id
WHERE v.stance <> t.stance
`, ""},
	{"bp", `SELECT document_title, indicator, value, value_num
FROM current_data_points
WHERE unit = 'bp'
ORDER BY value_num DESC
`, ""},
	{"pct-ge-10", `SELECT document_title, indicator, value, value_low, value_high
FROM current_data_points
WHERE unit = '%' AND value_high >= 10
ORDER BY value_high DESC
`, ""},
	{"usd", `SELECT document_title, indicator, value,
       round(value_low / 1e9, 1) AS low_bn, round(value_high / 1e9, 1) AS high_bn
FROM current_data_points
WHERE unit = 'USD'
ORDER BY value_high DESC
`, ""},
	{"multiples", `SELECT document_title, thesis_stance, indicator, value_num AS multiple
FROM current_data_points
WHERE unit = 'x'
ORDER BY multiple
`, ""},
	{"sources", `SELECT data_source, data_points, documents
FROM current_sources
ORDER BY data_points DESC
LIMIT 10
`, `SELECT data_source, count(*) AS data_points, count(DISTINCT document_id) AS documents
FROM current_data_points
WHERE data_source IS NOT NULL
GROUP BY data_source
ORDER BY data_points DESC
LIMIT 10
`},
	{"fts-documents", `SELECT d.title, snippet(documents_fts, '[', ']', '…', -1, 12) AS hit
FROM documents_fts
JOIN documents d ON d.id = documents_fts.docid
WHERE documents_fts MATCH 'credit'
`, ""},
	{"fts-data-points", `SELECT p.document_title, p.indicator, p.value, p.data_source
FROM data_points_fts f
JOIN current_data_points p ON p.data_point_id = f.docid
WHERE data_points_fts MATCH 'margin*'
ORDER BY f.docid DESC
`, `SELECT p.document_title, p.indicator, p.value, p.data_source
FROM data_points_fts f
JOIN current_data_points p ON p.data_point_id = f.docid
WHERE data_points_fts MATCH 'margin*'
`},
	{"pages", `SELECT document_title, page, indicator, value
FROM current_data_points
WHERE page IS NOT NULL
ORDER BY document_title, page
`, ""},
	{"context", `SELECT p.indicator, p.value,
       substr(d.text, max(p.char_start - 60, 0) + 1, p.char_end - max(p.char_start - 60, 0) + 60) AS context
FROM current_data_points p
JOIN documents d ON d.id = p.document_id
WHERE p.grounded = 1
LIMIT 5
`, ""},
	{"grounding", `SELECT document_title, data_points, grounded
FROM current_documents
WHERE data_points > 0
ORDER BY grounded * 1.0 / data_points
`, `SELECT document_title, count(*) AS data_points, sum(grounded) AS grounded
FROM current_data_points
GROUP BY document_id
ORDER BY grounded * 1.0 / count(*)
`},
	{"runs", `SELECT id, kind, status, extractor, model, prompt_version, documents_ok, documents_failed,
       data_points, ungrounded, prompt_tokens, completion_tokens, cost_usd
FROM runs
ORDER BY id DESC
`, ""},
}

// schemaBefore turns a database back into the schema before migration
// 0005 (undoing 0005, 0007, 0008 and 0010): the views with the correlated
// max(id) subquery, no current_extraction, no maintained counts, no
// indexes for the README's queries, no statistics.
const schemaBefore = `
DROP VIEW current_perspectives;
DROP TABLE current_view_counts;
DROP INDEX theses_conviction;
DROP VIEW current_sources;
DROP VIEW current_documents;
DROP VIEW current_data_points;
DROP VIEW current_views;
DROP VIEW current_theses;
DROP VIEW current_extractions;
DROP TRIGGER extractions_current_bd;
DROP TRIGGER extractions_current_au;
DROP TABLE current_extraction;
DROP TABLE current_source_counts;
DROP INDEX data_points_unit_num;
DROP INDEX data_points_unit_high;
DROP INDEX data_points_page;
DROP TABLE IF EXISTS sqlite_stat1;
DROP TABLE IF EXISTS sqlite_stat4;
CREATE VIEW current_extractions AS
SELECT e.*
FROM extractions e
WHERE e.status = 'ok'
  AND e.id = (SELECT max(e2.id) FROM extractions e2
              WHERE e2.document_id = e.document_id AND e2.status = 'ok');
CREATE VIEW current_theses AS
SELECT t.id AS thesis_id, t.document_id, d.title AS document_title, d.source, d.published,
       t.title, t.statement, t.subject, t.stance, t.confidence, t.conviction, t.horizon,
       ce.run_id, ce.id AS extraction_id, ce.extractor, ce.model
FROM current_extractions ce
JOIN theses t ON t.extraction_id = ce.id
JOIN documents d ON d.id = t.document_id;
CREATE VIEW current_views AS
SELECT v.id AS view_id, v.thesis_id, v.document_id, d.title AS document_title, d.source, d.published,
       t.title AS thesis_title, v.perspective, v.stance, v.confidence, v.conviction, v.horizon,
       v.summary, v.as_of, ce.run_id, ce.id AS extraction_id
FROM current_extractions ce
JOIN views v ON v.extraction_id = ce.id
JOIN theses t ON t.id = v.thesis_id
JOIN documents d ON d.id = v.document_id;
CREATE VIEW current_data_points AS
SELECT p.id AS data_point_id, p.thesis_id, p.document_id, d.title AS document_title, d.source, d.published,
       t.title AS thesis_title, t.stance AS thesis_stance,
       p.indicator, p.value, p.value_num, p.value_low, p.value_high, p.unit,
       p.source AS data_source, p.implication, p.perspective, p.quote,
       p.char_start, p.char_end, p.grounded, ce.run_id, ce.id AS extraction_id, p.page
FROM current_extractions ce
JOIN data_points p ON p.extraction_id = ce.id
JOIN theses t ON t.id = p.thesis_id
JOIN documents d ON d.id = p.document_id;
`

// BenchmarkREADMEQueries runs every README example query on the large
// database, after migrations 0005 and 0007 (schema=0005) and on a copy
// turned back into the schema before them (schema=0004), for the first
// 1,000 rows (what `thesisdb query` prints by default) and for the whole
// result. Compare with `benchstat -col /schema`. THESISDB_BENCH_PAGES=1
// runs them on a copy whose data points have pages, as PDFs' have.
func BenchmarkREADMEQueries(b *testing.B) {
	points := benchdb.Points(b)
	after := queryDB(b, points)
	before := strings.TrimSuffix(after, ".sqlite") + "-0004.sqlite"
	if fa, err := os.Stat(after); err == nil {
		if fb, err := os.Stat(before); err == nil && fb.ModTime().Before(fa.ModTime()) {
			os.Remove(before) // made from an older state of the database
		}
	}
	if _, err := os.Stat(before); err != nil {
		copyFile(b, before+".tmp", after)
		raw, err := sql.Open("sqlite3", before+".tmp")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := raw.Exec(schemaBefore); err != nil {
			b.Fatal(err)
		}
		raw.Close()
		if err := os.Rename(before+".tmp", before); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	readers := map[string]*store.Reader{}
	for name, path := range map[string]string{"0004": before, "0005": after} {
		r, err := store.OpenReader(path)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		readers[name] = r
	}
	for _, q := range readmeQueries {
		for _, rows := range []string{"first1000", "all"} {
			for _, sch := range []string{"0004", "0005"} {
				text := q.sql
				if sch == "0004" && q.before != "" {
					text = q.before
				}
				lim := store.Limits{MaxBytes: -1}
				if rows == "first1000" {
					lim.MaxRows = 1000
				}
				b.Run(fmt.Sprintf("query=%s/rows=%s/schema=%s", q.name, rows, sch), func(b *testing.B) {
					n := 0
					for range b.N {
						sum, err := readers[sch].Stream(ctx, text, lim, func([]string) error { return nil }, func([]any) error { return nil })
						if err != nil {
							b.Fatal(err)
						}
						n = sum.Rows
					}
					// The synthetic notes are text: they have no pages.
					if n == 0 && q.name != "pages" {
						b.Fatal("no rows")
					}
					b.ReportMetric(float64(n), "rows")
				})
			}
		}
	}
}

// BenchmarkIngestNotes ingests 10,000 small synthetic notes (5 data points
// each) with the rules extractor through the pipeline: into an empty
// database (db=empty), into a copy of the large database (db=large), and,
// as the ceiling, the same rows inserted by plain prepared statements in
// one transaction (db=empty/path=sqlite-one-tx), and the same extractions
// saved through the store's writer alone (db=empty/path=store). It
// reports documents per second and the bytes written per byte the
// database grew (written-B/stored-B; Linux only). THESISDB_BENCH_BATCH
// sets the writer's transaction bounds and THESISDB_BENCH_FTS runs FTS4
// commands before each ingest, to compare settings in one run.
func BenchmarkIngestNotes(b *testing.B) {
	const notes, points = 10_000, 5
	dir := b.TempDir()
	paths, size, err := synth.WriteNotes(filepath.Join(dir, "notes"), 10_000_000, notes, points)
	if err != nil {
		b.Fatal(err)
	}
	items := make([]pipeline.Item, len(paths))
	for i, p := range paths {
		items[i] = pipeline.Item{Source: p}
	}
	ctx := context.Background()
	measure := func(b *testing.B, prepare func(string), ingest func(string)) {
		b.SetBytes(size)
		var written, stored int64
		var cpu time.Duration
		for i := range b.N {
			b.StopTimer()
			path := filepath.Join(b.TempDir(), fmt.Sprintf("b%d.sqlite", i))
			prepare(path)
			benchFTS(b, path)
			size0 := fileSize(path)
			w0, c0 := processWrites(), processCPU()
			b.StartTimer()
			ingest(path)
			b.StopTimer()
			written += processWrites() - w0
			cpu += processCPU() - c0
			stored += fileSize(path) - size0
			os.Remove(path)
			b.StartTimer()
		}
		b.ReportMetric(float64(b.N*notes)/b.Elapsed().Seconds(), "docs/s")
		// On a shared machine the CPU time spent is steadier than the
		// wall time.
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*notes), "cpu-µs/doc")
		if written > 0 && stored > 0 {
			b.ReportMetric(float64(written)/float64(stored), "written-B/stored-B")
		}
	}
	pipelineIngest := func(path string) {
		db, err := store.OpenWith(ctx, path, benchWriteOptions(b))
		if err != nil {
			b.Fatal(err)
		}
		run, err := db.StartRun(ctx, store.RunSpec{Kind: "ingest", Extractor: "rules", PromptVersion: "notes"})
		if err != nil {
			b.Fatal(err)
		}
		p := &pipeline.Pipeline{Store: db, Extractor: rules.New(), Concurrency: 4}
		if sum := p.Run(ctx, run, items, nil); sum.OK != notes {
			b.Fatalf("summary = %+v", sum)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
	empty := func(path string) {
		db, err := store.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
	// The documents and extractions the pipeline stores, made beforehand
	// for the paths that only write.
	var docs []*schema.Document
	var xs []*schema.Extraction
	extracted := func(b *testing.B) {
		if docs != nil {
			return
		}
		docs = make([]*schema.Document, len(paths))
		xs = make([]*schema.Extraction, len(paths))
		for i, p := range paths {
			raw, err := extract.Read(ctx, p, nil)
			if err != nil {
				b.Fatal(err)
			}
			if docs[i], err = raw.Decode(ctx); err != nil {
				b.Fatal(err)
			}
			res, err := rules.New().Extract(ctx, docs[i])
			if err != nil {
				b.Fatal(err)
			}
			xs[i] = res.Extraction
			extract.Ground(docs[i].Text, xs[i])
			pipeline.FillMetadata(docs[i], xs[i])
		}
	}
	b.Run("db=empty/path=pipeline", func(b *testing.B) { measure(b, empty, pipelineIngest) })
	b.Run("db=empty/path=sqlite-one-tx", func(b *testing.B) {
		extracted(b)
		measure(b, empty, func(path string) { insertOneTx(b, path, docs, xs) })
	})
	// The store's write path alone: the same extractions, made beforehand,
	// through the writer's grouped transactions, with nothing else wanting
	// the CPU. Its share of the ceiling is the writer's; the pipeline's
	// share also pays for reading and extracting on the same cores.
	b.Run("db=empty/path=store", func(b *testing.B) {
		extracted(b)
		measure(b, empty, func(path string) { storeOnly(b, path, docs, xs) })
	})
	if os.Getenv("THESISDB_BENCH_LARGE") != "" || os.Getenv("THESISDB_BENCH_DIR") != "" {
		large := largeDB(b, benchdb.Points(b))
		b.Run(fmt.Sprintf("db=large-%d/path=pipeline", benchdb.Points(b)), func(b *testing.B) {
			measure(b, func(path string) { copyFile(b, path, large) }, pipelineIngest)
		})
	}
}

// storeOnly saves docs and their extractions through the store's writer,
// as the pipeline does once it has extracted them.
func storeOnly(b *testing.B, path string, docs []*schema.Document, xs []*schema.Extraction) {
	ctx := context.Background()
	db, err := store.OpenWith(ctx, path, benchWriteOptions(b))
	if err != nil {
		b.Fatal(err)
	}
	run, err := db.StartRun(ctx, store.RunSpec{Kind: "ingest", Extractor: "rules", PromptVersion: "notes"})
	if err != nil {
		b.Fatal(err)
	}
	errs := make(chan error, len(docs))
	for i, d := range docs {
		db.SaveDocumentAsync(ctx, run, d, store.Outcome{Extraction: xs[i]}, func(_ int64, err error) { errs <- err })
	}
	for range docs {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
}

// insertOneTx writes what the pipeline would for docs and their
// extractions with plain prepared statements in one transaction: the
// ceiling of the write path for these rows, triggers and settings.
func insertOneTx(b *testing.B, path string, docs []*schema.Document, xs []*schema.Extraction) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=on&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// The write connection's settings (store.Open).
	if _, err := db.Exec(fmt.Sprintf("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -%d", 64<<10)); err != nil {
		b.Fatal(err)
	}
	var hasCurrent, ftsTriggers bool
	db.QueryRow(`SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'current_extraction'`).Scan(&hasCurrent)
	// Without the insert triggers (migration 0009) the rows are added to
	// the full-text indexes in one statement each before commit, as the
	// write path does.
	db.QueryRow(`SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'data_points_fts_ai'`).Scan(&ftsTriggers)
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	must := func(res sql.Result, err error) int64 {
		if err != nil {
			b.Fatal(err)
		}
		id, _ := res.LastInsertId()
		return id
	}
	prep := func(q string) *sql.Stmt {
		s, err := tx.Prepare(q)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	run := must(tx.Exec(`INSERT INTO runs (kind, extractor, prompt_version, schema_version) VALUES ('ingest', 'rules', 'notes', ?)`, schema.Version))
	docStmt := prep(`INSERT INTO documents (sha256, kind, source, title, author, published, text, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	extStmt := prep(`INSERT INTO extractions (run_id, document_id, status, extractor, prompt_version, schema_version, result) VALUES (?, ?, 'ok', 'rules', 'notes', ?, ?)`)
	thStmt := prep(`INSERT INTO theses (extraction_id, document_id, ordinal, title, statement, subject, stance, confidence, conviction, horizon) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	vStmt := prep(`INSERT INTO views (thesis_id, extraction_id, document_id, perspective, stance, confidence, conviction, horizon, summary, as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	dpStmt := prep(`INSERT INTO data_points (thesis_id, extraction_id, document_id, ordinal, indicator, value, value_num, value_low, value_high, unit,
		source, implication, perspective, quote, char_start, char_end, grounded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	var curStmt *sql.Stmt
	if hasCurrent {
		curStmt = prep(`INSERT INTO current_extraction (document_id, extraction_id, run_id, data_points, grounded) VALUES (?, ?, ?, ?, ?)`)
	}
	for i, d := range docs {
		x := xs[i]
		docID := must(docStmt.Exec(d.SHA256, d.Kind, d.Source, d.Title, d.Author, d.Published, d.Text, d.Bytes))
		js, err := json.Marshal(x)
		if err != nil {
			b.Fatal(err)
		}
		extID := must(extStmt.Exec(run, docID, schema.Version, string(js)))
		points, grounded := 0, 0
		for ti, t := range x.Theses {
			thID := must(thStmt.Exec(extID, docID, ti, t.Title, t.Statement, t.Subject, string(t.Stance), t.Confidence, t.Conviction, t.Horizon))
			for _, v := range t.Views {
				must(vStmt.Exec(thID, extID, docID, v.Perspective, string(v.Stance), v.Confidence, v.Conviction, v.Horizon, v.Summary, v.AsOf))
			}
			for j, p := range t.DataPoints {
				q, ok := schema.ParseQuantity(p.Value)
				var unit any
				if ok {
					unit = q.Unit
				}
				var start, end any
				g := 0
				if p.Ground != nil && p.Ground.Method != "" {
					start, end = p.Ground.Start, p.Ground.End
				}
				if p.Ground != nil && p.Ground.Grounded {
					g = 1
				}
				must(dpStmt.Exec(thID, extID, docID, j, p.Indicator, p.Value, q.Num, q.Low, q.High, unit, p.Source, p.Implication,
					p.Perspective, p.Quote, start, end, g))
				points++
				grounded += g
			}
		}
		if curStmt != nil {
			must(curStmt.Exec(docID, extID, run, points, grounded))
		}
	}
	if !ftsTriggers {
		must(tx.Exec(`INSERT INTO documents_fts (docid, title, text) SELECT id, title, text FROM documents`))
		must(tx.Exec(`INSERT INTO data_points_fts (docid, indicator, value, source, implication, quote)
			SELECT id, indicator, value, source, implication, quote FROM data_points`))
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func fileSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// processWrites returns the bytes this process has written so far
// (wchar in /proc/self/io: every write(2), WAL and checkpoints included),
// or 0 where that is not known.
func processWrites() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

func TestBenchmarkQueriesAreTheREADMEs(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip("no README")
	}
	blocks := strings.Split(string(readme), "```sql\n")[1:]
	if len(blocks) != len(readmeQueries) {
		t.Fatalf("README has %d sql examples, the benchmark %d", len(blocks), len(readmeQueries))
	}
	for i, blk := range blocks {
		if q := blk[:strings.Index(blk, "```")]; q != readmeQueries[i].sql {
			t.Errorf("README example %d differs from benchmark query %s:\n%s", i+1, readmeQueries[i].name, q)
		}
	}
}
