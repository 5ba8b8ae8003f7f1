package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/internal/rowfmt"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

func (a *app) textCommand() *cobra.Command {
	var asJSON, pages bool
	var ef extractFlags
	cmd := &cobra.Command{
		Use:   "text PATH|URL",
		Short: "Print the cleaned text a document loads to",
		Long: `Text loads one file or URL exactly as ingest would and prints the cleaned
text the extractors read, for checking loaders. With --json it prints
{"kind","title","author","published","text"}.

--pages marks where each page of a PDF starts with a line "--- page N ---"
before it (an empty page is its marker alone); with --json it adds
"pages": [{"page","char_start","char_end"}], in characters of "text" as
data_points.char_start counts them. Other documents have no pages: their
text is printed as it is, with a note on stderr.`,
		Example: `  thesisdb text samples/research-platform.html
  thesisdb text --json https://example.com/post.html | jq .title
  thesisdb text --pages samples/research-note-semis.pdf`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := ef.loadOptions(a.sandbox(1, int64(ef.docMemory)))
			if err != nil {
				return err
			}
			doc, err := extract.Load(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			if doc.Title == "" {
				doc.Title = extract.FirstLine(doc.Text)
			}
			for _, w := range doc.Warnings {
				a.log.Warn(w, "source", doc.Source)
			}
			if pages && len(doc.PageStarts) == 0 {
				a.log.Info("the document has no pages (only PDFs have): printed without page markers", "source", doc.Source)
			}
			if !asJSON {
				if pages && len(doc.PageStarts) > 0 {
					return writePaged(a.stdout, doc)
				}
				_, err := fmt.Fprintln(a.stdout, doc.Text)
				return err
			}
			out := struct {
				Kind      string     `json:"kind"`
				Title     string     `json:"title"`
				Author    string     `json:"author"`
				Published string     `json:"published"`
				Text      string     `json:"text"`
				Pages     []pageSpan `json:"pages,omitzero"`
			}{doc.Kind, doc.Title, doc.Author, doc.Published, doc.Text, nil}
			if pages {
				out.Pages = pageSpans(doc)
				if out.Pages == nil {
					out.Pages = []pageSpan{}
				}
			}
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print kind, title, author, published and text as JSON")
	cmd.Flags().BoolVar(&pages, "pages", false, `mark where each page of a PDF starts ("--- page N ---"; "pages" with --json)`)
	ef.registerLoad(cmd)
	return cmd
}

func (a *app) queryCommand() *cobra.Command {
	var file, format string
	var timeout time.Duration
	var maxRows int
	maxBytes := sizeFlag(store.DefaultMaxBytes)
	cmd := &cobra.Command{
		Use:   `query "SQL"`,
		Short: "Run a read-only SQL query",
		Long: `Query runs exactly one SQL statement against the database, read-only: the
connection is opened read-only and any attempt to write, ATTACH or set a
PRAGMA is refused with an error, never a changed database. Trailing
semicolons and comments are fine; a second statement is an error (run
them one at a time).

Rows are printed as they are read. --max-rows and --max-bytes cut the
result (a note on stderr says so; the output stays well formed); no single
value may be larger than --max-bytes (at least 64MiB): SQLite stops such
a query at once. --timeout interrupts the query. BLOB values are printed
base64-encoded (standard alphabet, padded) in every format; use hex(col)
for hex.

A user who may read the database but not write its folder can query it
when no process has it open; otherwise the error says which file is missing.

Start with the analyst views: current_theses, current_views and
current_data_points (the latest successful extraction of each document),
and the tables documents, runs, extractions, theses, views, data_points and
failures; documents_fts and data_points_fts are full-text indexes.
README.md documents every column.`,
		Example: `  thesisdb query "SELECT document_title, stance, conviction FROM current_theses ORDER BY conviction DESC"
  thesisdb query --format json "SELECT indicator, value, value_num, unit FROM current_data_points WHERE unit = 'bp'"
  thesisdb query --file report.sql --format csv > report.csv
  thesisdb query --max-rows 0 --max-bytes 1GiB --format csv "SELECT id, text FROM documents" > texts.csv`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := queryText(args, file, a)
			if err != nil {
				return err
			}
			format, err := formatFor(a.stdout, format)
			if err != nil {
				return err
			}
			if maxRows < 0 {
				return errors.New("--max-rows must be 0 (all) or more")
			}
			if timeout <= 0 {
				return errors.New("--timeout must be positive")
			}
			lim := store.Limits{MaxRows: maxRows, MaxBytes: int64(maxBytes)}
			// This process only reads: SQLite's own memory is capped too,
			// so that a query building many large values fails fast.
			defer store.LimitSQLiteMemory(store.LimitSQLiteMemory(lim.QueryMemory()))
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			r, err := store.OpenReader(a.dbPath)
			if err != nil {
				return err
			}
			defer r.Close()
			if r.Immutable() {
				a.log.Debug("database opened immutable: its folder is not writable and no process has it open", "db", a.dbPath)
			}
			out := bufio.NewWriterSize(a.stdout, 64<<10)
			rw := rowfmt.NewWriter(out, format)
			sum, err := r.Stream(ctx, q, lim, rw.Header, rw.Row)
			if err != nil {
				out.Flush()
				switch {
				case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded:
					return fmt.Errorf("query stopped after --timeout %s (%s printed): %w", timeout, plural(sum.Rows, "row"), err)
				case errors.Is(err, store.ErrQueryMemory):
					return fmt.Errorf("query stopped: SQLite needed more than %s of memory, the most a query may use (twice the largest value plus 64MiB: raise --max-bytes): %w",
						sizeFlag(lim.QueryMemory()), err)
				case errors.Is(err, store.ErrTooBig):
					return fmt.Errorf("query stopped: a value would be larger than %s, the most one value may hold (--max-bytes, at least %s): %w",
						max(maxBytes, store.DefaultMaxBytes), sizeFlag(store.DefaultMaxBytes), err)
				}
				return err
			}
			if err := rw.Close(); err != nil {
				return err
			}
			if err := out.Flush(); err != nil {
				return err
			}
			switch {
			case sum.CutRows:
				fmt.Fprintf(a.stderr, "results cut at %s: raise --max-rows (0 for all) or add LIMIT\n", plural(maxRows, "row"))
			case sum.CutBytes:
				fmt.Fprintf(a.stderr, "results cut after %s (%s of values): the next row would pass --max-bytes %s; raise it or add LIMIT\n",
					plural(sum.Rows, "row"), sizeFlag(sum.Bytes), maxBytes)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "read the SQL from a file (- for stdin)")
	cmd.Flags().StringVar(&format, "format", "", "table, csv, json or jsonl (default: table on a terminal, csv otherwise); BLOBs print as base64")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "interrupt the query after this long")
	cmd.Flags().IntVar(&maxRows, "max-rows", 1000, "print at most this many rows (0: all)")
	cmd.Flags().Var(&maxBytes, "max-bytes", "print at most this many bytes of values (text and BLOB lengths), e.g. 500KB, 64MiB, 1GiB; also the largest single value SQLite may build (at least 64MiB)")
	return cmd
}

// sizeFlag is a byte count given as a number with an optional unit:
// B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
type sizeFlag int64

func (b *sizeFlag) Set(s string) error {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult, ok := map[string]float64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30}[strings.ToUpper(unit)]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || num == "" {
		return fmt.Errorf("%q: want a size such as 1000000, 500KB, 64MiB or 1GiB", s)
	}
	n := f * mult
	if n < 1 || n > 1<<40 {
		return fmt.Errorf("%q: want a size from 1 byte to 1TiB", s)
	}
	*b = sizeFlag(n)
	return nil
}

func (b sizeFlag) String() string {
	switch n := int64(b); {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	default:
		return strconv.FormatInt(n, 10) + "B"
	}
}

func (*sizeFlag) Type() string { return "size" }

func queryText(args []string, file string, a *app) (string, error) {
	switch {
	case file != "" && len(args) > 0:
		return "", errors.New("give the SQL as an argument or with --file, not both")
	case file == "-":
		return readSQL(a.stdin, "stdin")
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		return readSQL(f, file)
	case len(args) == 1:
		return args[0], nil
	}
	return "", errors.New(`no SQL given: thesisdb query "SELECT ..." (see --help for the tables)`)
}

// readSQL reads SQL text, refusing more than store.MaxSQLBytes.
func readSQL(r io.Reader, name string) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, store.MaxSQLBytes+1))
	if err != nil {
		return "", fmt.Errorf("read SQL from %s: %w", name, err)
	}
	if len(data) > store.MaxSQLBytes {
		return "", fmt.Errorf("read SQL from %s: more than %s", name, sizeFlag(store.MaxSQLBytes))
	}
	return string(data), nil
}

func (a *app) exportCommand() *cobra.Command {
	var out string
	var runID int64
	var reviewed bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write every document's current extraction as JSON Lines",
		Long: `Export writes one JSON object per document with a successful extraction:
{"document": {...}, "run": {...}, "extraction": {...}}, where extraction is
exactly the JSON Schema's document (thesisdb schema). This is the
interchange format thesisdb eval reads as gold.

--reviewed writes gold from the analysts' reviews (thesisdb serve --review)
instead: one record per reviewed document, its extraction as the analysts
hold it — every correction applied, the data points marked wrong left out,
the ones they added put in, the ones nobody reviewed kept as extracted —
with "review" counting what they did. Score a new run against it with
thesisdb eval --gold.`,
		Example: `  thesisdb export > theses.jsonl
  thesisdb export --run 3 -o run3.jsonl
  mkdir -p gold && thesisdb export --reviewed -o gold/reviewed.jsonl && thesisdb eval --gold gold/ --run 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reviewed && runID != 0 {
				return errors.New("--reviewed exports the extraction each document's reviews are of: it takes no --run")
			}
			db, err := store.Open(cmd.Context(), a.dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			w := a.stdout
			var f *os.File
			if out != "" && out != "-" {
				if f, err = os.Create(out); err != nil {
					return fmt.Errorf("--output: %w", err)
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriter(w)
			enc := json.NewEncoder(bw)
			n := 0
			if reviewed {
				err = db.ReviewedGold(cmd.Context(), func(r store.ReviewedRecord) error {
					n++
					return enc.Encode(r)
				})
			} else {
				err = db.Export(cmd.Context(), runID, func(r store.ExportRecord) error {
					n++
					return enc.Encode(r)
				})
			}
			if err != nil {
				return err
			}
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if f != nil {
				if err := f.Close(); err != nil {
					return fmt.Errorf("--output: %w", err)
				}
			}
			if reviewed && n == 0 {
				a.log.Warn("no document has been reviewed: nothing exported (review with thesisdb serve --review)")
				return nil
			}
			a.log.Info("exported", "documents", n, "reviewed", reviewed)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	cmd.Flags().Int64Var(&runID, "run", 0, "export this run's extractions instead of the current ones")
	cmd.Flags().BoolVar(&reviewed, "reviewed", false, "export gold from the analysts' reviews (the format thesisdb eval --gold reads)")
	return cmd
}

func (a *app) schemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the extraction JSON Schema",
		Long: `Schema prints the JSON Schema (draft 2020-12) every extraction is validated
against. It is also the strict structured-output schema sent to the LLM.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := a.stdout.Write(schema.JSON)
			return err
		},
	}
}

func (a *app) runsCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List ingest and re-extraction runs",
		Long: `Runs lists every run, newest first: when it ran, with which extractor,
model and prompt version, how many documents succeeded or failed (and, in
no_theses, how many of those that succeeded hold no thesis), tokens and
estimated cost.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := formatFor(a.stdout, format)
			if err != nil {
				return err
			}
			db, err := store.Open(cmd.Context(), a.dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			runs, err := db.Runs(cmd.Context())
			if err != nil {
				return err
			}
			noTheses, err := db.NoThesisCounts(cmd.Context())
			if err != nil {
				return err
			}
			cols := []string{"id", "kind", "status", "started_at", "extractor", "model", "prompt_version", "ok", "failed", "skipped", "data_points", "ungrounded", "no_theses", "prompt_tokens", "completion_tokens", "cost_usd"}
			rows := make([][]any, len(runs))
			for i, r := range runs {
				var cost any = r.Usage.CostUSD
				if r.Usage.CostUnknown {
					cost = nil // no price for the model
				}
				rows[i] = []any{r.ID, r.Kind, r.Status, r.StartedAt, r.Extractor, r.Model, r.PromptVersion, r.DocumentsOK, r.DocumentsFailed,
					r.DocumentsSkipped, r.DataPoints, r.Ungrounded, noTheses[r.ID], r.Usage.PromptTokens, r.Usage.CompletionTokens, cost}
			}
			return writeRows(a.stdout, format, cols, rows)
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "table, csv, json or jsonl (default: table on a terminal, csv otherwise)")
	return cmd
}
