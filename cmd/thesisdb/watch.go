package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/inbox"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/scrape"
	"github.com/thesisdb/thesisdb/store"
)

func (a *app) watchCommand() *cobra.Command {
	var ef extractFlags
	var o inbox.Options
	var jsonOut bool
	var sf scrapeFlags
	cmd := &cobra.Command{
		Use:   "watch INBOX",
		Short: "Ingest every file dropped into a folder, exactly once",
		Long: `Watch runs until stopped and ingests every file that lands in the INBOX
folder or its sub-folders: first the files already there, then each new one.

A file is taken once its size and modification time have not changed for
--settle; hidden and temporary names (.*, *.tmp, *.part, *.partial,
*.crdownload, *.filepart, ~$*, Thumbs.db, .DS_Store) are left alone, so
copy under such a name and rename into place, or just copy. The file is
claimed by moving it into INBOX/.processing/, stored, then moved to
INBOX/done/ (duplicates too). A file that fails — unreadable, empty, of an
unsupported type (supported: ` + strings.Join(extract.Extensions(), " ") + `),
or whose extraction failed — goes to INBOX/failed/ beside NAME.error.txt,
which says why and how to retry. Names already taken get a -1, -2...
suffix; nothing is ever overwritten. A sub-folder's path is recorded as the
document's tag (documents.tags).

The database transaction is the commit point: if watch is killed at any
moment, the next start files what was stored and processes the rest again,
so no file is lost and no document stored twice. A file that was being
processed when watch died is retried once, alone; if watch dies again, the
file is set aside in INBOX/failed/ with a note (a poison file), and the
inbox goes on. Only one watch runs per inbox. On Ctrl-C or SIGTERM it stops
taking files, lets the ones in flight finish or puts them back into the
inbox, and exits 0.

File-system events are only hints: the folder is also rescanned every
--rescan. On network shares (SMB, NFS) that deliver no events, use --poll.

With --sources FILE the same process also scrapes the file's sources, each
on its schedule (its every = ..., else once a minute; see thesisdb scrape),
into the same run: one process for an analyst's desk.`,
		Example: `  thesisdb watch ~/research-inbox
  thesisdb --db team.sqlite watch --concurrency 8 --summary-every 15m /srv/inbox
  thesisdb watch --poll 30s /mnt/share/inbox
  thesisdb watch --once inbox/    # process what is there, then exit (cron)
  thesisdb watch ~/research-inbox --sources ~/sources.toml --contact me@example.com`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if o.Settle <= 0 || o.Rescan <= 0 || o.Poll < 0 || o.SummaryEvery < 0 {
				return errors.New("--settle and --rescan must be positive, --poll and --summary-every not negative")
			}
			var sources []*scrape.Source
			var fe *scrape.Fetcher
			if sf.sourcesFile != "" {
				var err error
				if sources, fe, err = sf.load(&ef, a.log); err != nil {
					return err
				}
			}
			o.Concurrency = ef.concurrency
			w := &inbox.Watcher{Dir: args[0], Options: o, Logger: a.log}
			if err := w.Lock(); err != nil { // before recording a run
				return err
			}
			db, err := store.Open(ctx, a.dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			p, runID, err := a.startRun(ctx, db, &ef, "watch", map[string]any{
				"inbox": args[0], "settle": o.Settle.String(), "rescan": o.Rescan.String(), "poll": o.Poll.String(),
				"recursive": o.Recursive, "once": o.Once, "delete_done": o.DeleteDone,
				"done_dir": o.DoneDir, "failed_dir": o.FailedDir,
			})
			if err != nil {
				return err
			}
			w.Pipeline, w.RunID = p, runID
			w.Options.Concurrency = ef.concurrency // the LLM server's slots, when it said
			enc := json.NewEncoder(a.stdout)
			w.OnEvent = func(e inbox.Event) {
				a.printWatchEvent(w, e)
				if jsonOut {
					m := eventJSON(e.Event)
					m["name"], m["dest"], m["recovered"] = e.Name, e.Dest, e.Recovered
					enc.Encode(m)
				}
			}
			w.OnSummary = func(s inbox.Stats) { a.printWatchStats(runID, s) }
			how := "file-system events, rescan every " + o.Rescan.String()
			if o.Poll > 0 {
				how = "polling every " + o.Poll.String()
			}
			if o.Once {
				how = "once"
			}
			a.log.Info("watching", "inbox", args[0], "run", runID, "mode", how, "settle", o.Settle, "concurrency", w.Options.Concurrency)
			var scraped chan scrape.Summary
			wctx, stopScrape := context.WithCancel(ctx)
			defer stopScrape()
			if len(sources) > 0 {
				sc := &scrape.Scraper{Store: db, Pipeline: p, Fetcher: fe, Revisit: sf.revisit, Logger: a.log, OnEvent: a.printScrapeEvent}
				scraped = make(chan scrape.Summary, 1)
				go func() { scraped <- a.scrapeLoop(wctx, sc, runID, sources, !o.Once) }()
			}
			sum, err := w.Run(ctx)
			if scraped != nil {
				if err != nil {
					stopScrape()
				}
				ss := <-scraped // with --once, the one pass ends by itself
				sum.Merge(ss.Pipeline)
				sum.Failed += ss.Failed()
			}
			if err != nil {
				db.SetRunStatus(context.WithoutCancel(ctx), runID, store.RunFailed)
				return err
			}
			// Stopping is how a watch ends: the run is done, not interrupted.
			err = a.finishRun(context.WithoutCancel(ctx), db, runID, sum)
			var ee exitError
			if !o.Once && errors.As(err, &ee) && ee.code == 1 {
				return nil // failures are filed and noted; a stop is not an error
			}
			return err
		},
	}
	ef.register(cmd)
	fs := cmd.Flags()
	fs.DurationVar(&o.Settle, "settle", 2*time.Second, "take a file once its size and modification time are unchanged this long")
	fs.DurationVar(&o.Rescan, "rescan", time.Minute, "rescan the inbox this often, in case file-system events were missed")
	fs.DurationVar(&o.Poll, "poll", 0, "ignore file-system events and rescan this often (network shares)")
	fs.BoolVar(&o.Recursive, "recursive", true, "take files in sub-folders too, tagged with the folder's path")
	fs.StringVar(&o.DoneDir, "done-dir", "", "move stored files here (default INBOX/done)")
	fs.StringVar(&o.FailedDir, "failed-dir", "", "move failed files and their NAME.error.txt here (default INBOX/failed)")
	fs.BoolVar(&o.DeleteDone, "delete-done", false, "delete stored files instead of moving them to the done folder")
	fs.BoolVar(&o.Once, "once", false, "process the files present, then exit (status 1 if any failed)")
	fs.DurationVar(&o.SummaryEvery, "summary-every", 5*time.Minute, "log the totals this often while something changes (0: never)")
	fs.BoolVar(&jsonOut, "json", false, "also print one JSON object per file on stdout")
	sf.register(cmd, false)
	return cmd
}

// printWatchEvent logs a file's outcome with printEvent, plus where the file
// went when that is not evident.
func (a *app) printWatchEvent(w *inbox.Watcher, e inbox.Event) {
	if e.Recovered && e.Status == pipeline.Duplicate {
		fmt.Fprintf(a.stderr, "recovered  %s  already stored as document %d (claimed before a stop); filed as done\n", displayName(e.Item.String()), e.DocumentID)
	} else {
		a.printEvent(e.Event)
	}
	switch {
	case e.Status == pipeline.Interrupted && e.Dest != "":
		fmt.Fprintf(a.stderr, "           put back into the inbox as %s\n", displayName(e.Dest))
	case e.Status == pipeline.Failed && e.Dest != "":
		fmt.Fprintf(a.stderr, "           moved to %s (reason and how to retry: %s)\n", displayName(e.Dest), displayName(filepath.Base(e.Dest)+".error.txt"))
	case e.Dest != "" && filepath.Base(e.Dest) != filepath.Base(e.Name):
		fmt.Fprintf(a.stderr, "           filed as %s (the name was taken)\n", displayName(e.Dest))
	}
}

// printWatchStats logs the periodic summary of a watch.
func (a *app) printWatchStats(runID int64, s inbox.Stats) {
	fmt.Fprintf(a.stderr, "watch run %d, up %s: %d ok, %d failed, %d duplicate; %s stored; %d in progress, %d waiting\n",
		runID, s.Elapsed.Round(time.Second), s.OK, s.Failed, s.Duplicate, plural(s.DataPoints, "data point"), s.InFlight, s.Waiting)
}
