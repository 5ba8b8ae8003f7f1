package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/store"
	"github.com/thesisdb/thesisdb/web"
)

func (a *app) serveCommand() *cobra.Command {
	var addr, token, reviewer string
	var review bool
	var timeout time.Duration
	var maxRows int
	maxBytes := sizeFlag(store.DefaultMaxBytes)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Browse documents, theses and data points in a web browser",
		Long: `Serve starts a web server for reading the database: the documents (full-text
search, filters, sorting), each document's theses, views and data points
beside its text with every quote highlighted, the runs, the diff of two
runs, the failures, and a read-only SQL page. Every page's data is also
JSON under /api/ (see README.md).

It reads through a read-only connection. It binds to loopback by default;
any other address needs an access token (--token or THESISDB_TOKEN), which
every request must carry (open the page once with ?token=TOKEN; scripts
send Authorization: Bearer TOKEN). --review lets analysts record reviews
of data points (right, wrong, corrected fields, missed ones added) under
--reviewer; thesisdb export --reviewed turns them into gold for eval.

The SQL page runs one statement under the guard of thesisdb query, with
--timeout, --max-rows and --max-bytes.`,
		Example: `  thesisdb serve                                   # http://127.0.0.1:8080/
  thesisdb serve --addr 127.0.0.1:0                # any free port; the URL is printed
  THESISDB_TOKEN=$(openssl rand -hex 16) thesisdb serve --addr 0.0.0.0:8080
  thesisdb serve --review                          # analysts may record reviews`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if token == "" {
				token = os.Getenv("THESISDB_TOKEN")
			}
			if err := web.CheckAddr(addr, token); err != nil {
				return err
			}
			if reviewer == "" {
				reviewer = cmp.Or(os.Getenv("THESISDB_REVIEWER"), os.Getenv("USER"), "analyst")
			}
			if maxRows < 1 {
				return errors.New("--max-rows must be at least 1")
			}
			if timeout <= 0 {
				return errors.New("--timeout must be positive")
			}
			ctx := cmd.Context()
			if _, err := os.Stat(a.dbPath); err != nil {
				return fmt.Errorf("open database %s: %w (run `thesisdb ingest` first, or pass --db)", a.dbPath, err)
			}
			// Bring the schema up to date when this user may; a reader
			// of a database it may not write serves it as it is.
			db, err := store.Open(ctx, a.dbPath)
			switch {
			case err != nil && review:
				return err
			case err != nil:
				a.log.Warn("serving the database as it is: it could not be opened for writing to bring its schema up to date", "err", err)
				db = nil
			default:
				if !review {
					if err := db.Close(); err != nil {
						return err
					}
					db = nil
				}
			}
			if db != nil {
				defer db.Close()
			}
			r, err := store.OpenReader(a.dbPath)
			if err != nil {
				return err
			}
			defer r.Close()
			r.SetMaxConns(8)
			lim := store.Limits{MaxRows: maxRows, MaxBytes: int64(maxBytes)}
			defer store.LimitSQLiteMemory(store.LimitSQLiteMemory(lim.QueryMemory() + 64<<20))
			srv, err := web.New(web.Config{Reader: r, DB: db, Review: review, Reviewer: reviewer, Token: token,
				QueryTimeout: timeout, MaxRows: maxRows, MaxBytes: int64(maxBytes), Log: a.log})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			url := "http://" + ln.Addr().String() + "/"
			mode := "read-only"
			if review {
				mode = "reviews enabled"
			}
			if token != "" {
				a.log.Info("serving; every request needs the token: open the URL once with ?token=TOKEN, or send Authorization: Bearer TOKEN", "url", url, "db", a.dbPath, "mode", mode)
			} else {
				a.log.Info("serving on loopback only", "url", url, "db", a.dbPath, "mode", mode)
			}
			fmt.Fprintln(a.stdout, url)
			if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on; other than loopback needs --token")
	cmd.Flags().StringVar(&token, "token", "", "access token every request must carry (env THESISDB_TOKEN); required off loopback")
	cmd.Flags().BoolVar(&review, "review", false, "let analysts record reviews of data points (writes the review tables)")
	cmd.Flags().StringVar(&reviewer, "reviewer", "", "name reviews are recorded under when a request names none (default $THESISDB_REVIEWER, else $USER)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "interrupt a query of the SQL page after this long")
	cmd.Flags().IntVar(&maxRows, "max-rows", 1000, "rows a query of the SQL page returns at most")
	cmd.Flags().Var(&maxBytes, "max-bytes", "bytes of values a query of the SQL page returns at most, e.g. 64MiB")
	return cmd
}
