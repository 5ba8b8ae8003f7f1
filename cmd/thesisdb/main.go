// Command thesisdb turns investment research (HTML pages, PDFs, text,
// Markdown, URLs) into a SQLite database of theses, views and data points
// that analysts query with plain SQL.
//
// Run `thesisdb --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/extract/worker"
)

// exitError carries an exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := app.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if app.pool != nil {
		app.pool.Close()
	}
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintln(stderr, "thesisdb:", err)
		return 1
	}
}

// app holds what every command shares: streams, global flags, the logger.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	dbPath         string
	logLevel       string
	log            *slog.Logger
	pool           *worker.Pool // parses documents; started on first use
}

// sandbox returns the worker processes that parse documents for this
// command: at most one per CPU, and no more than the documents in flight.
func (a *app) sandbox(concurrency int, memory int64) *worker.Pool {
	if a.pool == nil {
		a.pool = &worker.Pool{Size: max(1, min(concurrency, runtime.NumCPU())), Memory: memory}
	}
	return a.pool
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "thesisdb",
		Short: "Turn investment research into a SQL database",
		Long: `thesisdb reads research documents (HTML pages, PDFs, text, Markdown, URLs),
extracts each investment thesis — stance, confidence, conviction, horizon,
views per perspective and every key data point as (indicator, value, source,
implication) — validates it against a JSON Schema and stores it in SQLite,
where you query it with plain SQL.

Without an LLM configured it uses the offline rules extractor. Set
OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (Ollama, llama-server, vLLM,
LM Studio) to extract with a model.`,
		Example: `  thesisdb ingest samples/
  thesisdb query "SELECT title, stance, conviction FROM current_theses"
  thesisdb query --format json "SELECT indicator, value FROM current_data_points WHERE unit = 'bp'"
  thesisdb export > theses.jsonl`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(a.logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: lvl, ReplaceAttr: dropTime}))
			slog.SetDefault(a.log)
			return nil
		},
	}
	defaultDB := os.Getenv("THESISDB_DB")
	if defaultDB == "" {
		defaultDB = "thesisdb.sqlite"
	}
	root.PersistentFlags().StringVar(&a.dbPath, "db", defaultDB, "SQLite database file (env THESISDB_DB)")
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "diagnostics on stderr: debug, info, warn or error")
	root.AddCommand(
		a.ingestCommand(),
		a.watchCommand(),
		a.textCommand(),
		a.queryCommand(),
		a.exportCommand(),
		a.schemaCommand(),
		a.runsCommand(),
		a.reextractCommand(),
		a.scrapeCommand(),
		a.diffCommand(),
		a.evalCommand(),
		a.serveCommand(),
	)
	return root
}

// dropTime removes the timestamp from log lines: a person reads them as
// they happen, and a service manager stamps them anyway.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// plural returns "1 document" or "2 documents".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}
