package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/schema"
	"github.com/thesisdb/thesisdb/store"
)

func (a *app) ingestCommand() *cobra.Command {
	var ef extractFlags
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "ingest PATH|URL...",
		Short: "Load documents, extract their theses and store them",
		Long: `Ingest loads each file, directory (recursively) or http(s) URL, extracts the
investment theses and stores document and extraction in the database.

Supported files: ` + strings.Join(extract.Extensions(), " ") + `. In directories, files of
other types, named pipes, sockets, devices and symbolic links to folders are
skipped with a note each, and names starting with a dot are counted and
skipped; symbolic links to files are followed. A named pipe, socket or
device named as an argument fails with what it is, unopened; a symbolic
link named as an argument is followed. User name and password in a URL are
used for the fetch but never stored or printed.

Content already stored (same SHA-256) is reported as duplicate and not
extracted again unless --force. One status line per document goes to
stderr (control characters in names escaped), then a summary; the exit
status is 1 when any document failed. Failed documents are stored with
their error (see the extractions and load_failures tables).`,
		Example: `  thesisdb ingest samples/
  thesisdb ingest --extractor rules notes/*.md
  thesisdb ingest https://example.com/research/note.html
  OPENAI_API_KEY=... thesisdb ingest --model gpt-4o-mini --concurrency 8 inbox/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			items, err := a.expandSources(args)
			if err != nil {
				return err
			}
			if len(items) == 0 {
				return fmt.Errorf("no documents to ingest in %s", displayText(strings.Join(args, " ")))
			}
			db, err := store.Open(ctx, a.dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			sources := make([]string, len(args))
			for i, arg := range args {
				sources[i] = extract.StripUserinfo(arg) // runs.params is stored
			}
			p, runID, err := a.startRun(ctx, db, &ef, "ingest", map[string]any{"sources": sources})
			if err != nil {
				return err
			}
			enc := json.NewEncoder(a.stdout)
			sum := p.Run(ctx, runID, items, func(e pipeline.Event) {
				a.printEvent(e)
				if jsonOut {
					enc.Encode(eventJSON(e))
				}
			})
			return a.finishRun(ctx, db, runID, sum)
		},
	}
	ef.register(cmd)
	cmd.Flags().BoolVar(&jsonOut, "json", false, "also print one JSON object per document on stdout")
	return cmd
}

// expandSources turns arguments into items: URLs as they are, files as
// they are, directories walked recursively for supported files.
//
// Symbolic links: one named as an argument is followed, to a file or a
// folder. In a folder walk a link to a regular file is taken like the file
// (under the link's path); links to folders are not followed, so that a
// link cannot make the walk loop or leave the tree, and each is logged.
// Everything a walk leaves out is logged: files of other types, named
// pipes, sockets and devices (never opened: a pipe would block), broken
// links, unreadable folders; hidden entries (dotfiles) are counted.
func (a *app) expandSources(args []string) ([]pipeline.Item, error) {
	var items []pipeline.Item
	for _, arg := range args {
		if extract.IsURL(arg) {
			items = append(items, pipeline.Item{Source: arg})
			continue
		}
		st, err := os.Stat(arg)
		if err != nil || !st.IsDir() {
			// A file, or an error: the pipeline records it as a failed
			// document with its reason (a named pipe is refused unopened).
			items = append(items, pipeline.Item{Source: arg})
			continue
		}
		found, err := a.walkFolder(arg)
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			items = append(items, pipeline.Item{Source: f})
		}
	}
	return items, nil
}

// walkFolder lists the supported regular files under dir, sorted, logging
// what it skips and why.
func (a *app) walkFolder(dir string) ([]string, error) {
	root := dir
	if lst, err := os.Lstat(dir); err == nil && lst.Mode()&fs.ModeSymlink != 0 {
		// A link named as an argument is followed: walk the folder it
		// points to, under the link's name.
		root = dir + string(os.PathSeparator)
	}
	var found []string
	hidden := 0
	skip := func(path, why string, args ...any) {
		a.log.Warn("skipping "+why, append([]any{"path", path}, args...)...)
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			skip(path, "unreadable path", "err", err)
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if path == root {
			return nil
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") {
			hidden++
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(path)
			switch {
			case err != nil:
				skip(path, "broken symbolic link", "err", err)
				return nil
			case st.IsDir():
				skip(path, "symbolic link to a folder (not followed in a folder walk; name the folder itself to ingest it)")
				return nil
			case !st.Mode().IsRegular():
				skip(path, "symbolic link to "+extract.FileType(st.Mode())+", not a regular file")
				return nil
			}
		} else if !d.Type().IsRegular() {
			skip(path, extract.FileType(d.Type())+", not a regular file")
			return nil
		}
		if extract.KindOf(name) == "" {
			a.log.Info("skipping file of unsupported type", "path", path, "supported", strings.Join(extract.Extensions(), " "))
			return nil
		}
		found = append(found, path)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if hidden > 0 {
		a.log.Info("skipped names starting with a dot", "folder", dir, "count", hidden)
	}
	sort.Strings(found)
	return found, nil
}

// startRun builds the pipeline from the extraction flags and records a run.
func (a *app) startRun(ctx context.Context, db *store.DB, ef *extractFlags, kind string, params map[string]any) (*pipeline.Pipeline, int64, error) {
	if params == nil {
		params = map[string]any{}
	}
	ex, err := ef.extractor(a.log)
	if err != nil {
		if errors.Is(err, extract.ErrAbortRun) {
			// The server cannot serve any document (unreachable, key
			// refused, context too small): the run fails before any.
			if id, rerr := db.StartRun(ctx, store.RunSpec{Kind: kind, Extractor: "llm", Model: ef.llm.model,
				SchemaVersion: schema.Version, Params: params}); rerr == nil {
				if rerr = db.SetRunStatus(context.WithoutCancel(ctx), id, store.RunFailed); rerr == nil {
					err = fmt.Errorf("run %d failed before any document: %w", id, err)
				}
			}
		}
		return nil, 0, err
	}
	info := ex.Info()
	params["concurrency"] = ef.concurrency
	params["force"] = ef.force
	params["drop_ungrounded"] = ef.dropUngrounded
	runID, err := db.StartRun(ctx, store.RunSpec{Kind: kind, Extractor: info.Extractor, Model: info.Model,
		PromptVersion: info.PromptVersion, PromptHash: info.PromptHash, SchemaVersion: schema.Version, Params: params})
	if err != nil {
		return nil, 0, err
	}
	return a.newPipeline(db, ex, ef), runID, nil
}

// newPipeline builds the pipeline the extraction flags describe.
func (a *app) newPipeline(db *store.DB, ex extract.Extractor, ef *extractFlags) *pipeline.Pipeline {
	load, _ := ef.loadOptions(a.sandbox(ef.concurrency, int64(ef.docMemory))) // checked when the extractor was built
	return &pipeline.Pipeline{
		Store: db, Extractor: ex, Load: load, Concurrency: ef.concurrency,
		Force: ef.force, DropUngrounded: ef.dropUngrounded, Logger: a.log,
	}
}

// finishRun marks the run done or interrupted, prints the summary and
// returns exit status 1 when any document failed.
func (a *app) finishRun(ctx context.Context, db *store.DB, runID int64, sum pipeline.Summary) error {
	status := store.RunDone
	switch {
	case sum.Aborted != nil:
		status = store.RunFailed
	case ctx.Err() != nil:
		status = store.RunInterrupted
	}
	if err := db.SetRunStatus(context.WithoutCancel(ctx), runID, status); err != nil {
		return err
	}
	a.printSummary(runID, sum, status)
	switch {
	case sum.Aborted != nil:
		return fmt.Errorf("run %d stopped: %w (documents not yet stored are picked up by the next run)", runID, sum.Aborted)
	case status == store.RunInterrupted:
		return exitError{130}
	case sum.Failed > 0:
		return exitError{1}
	}
	return nil
}

func (a *app) printEvent(e pipeline.Event) {
	w := a.stderr
	item := displayName(e.Item.String())
	switch e.Status {
	case pipeline.OK:
		extra := ""
		if e.Ungrounded > 0 {
			extra = fmt.Sprintf(", %d ungrounded", e.Ungrounded)
		}
		if e.Dropped > 0 {
			extra += fmt.Sprintf(", %d dropped as ungrounded", e.Dropped)
		}
		fmt.Fprintf(w, "ok         %s  %q: %s%s\n", item, e.Title, plural(e.DataPoints, "data point"), extra)
	case pipeline.Duplicate:
		fmt.Fprintf(w, "duplicate  %s  same content as document %d (use --force to extract again)\n", item, e.DocumentID)
	case pipeline.Cached:
		fmt.Fprintf(w, "cached     %s  already extracted with this extractor, model and prompt\n", item)
	case pipeline.Interrupted:
		fmt.Fprintf(w, "stopped    %s  interrupted before it was stored\n", item)
	default:
		fmt.Fprintf(w, "failed     %s  %s\n", item, displayText(fmt.Sprint(e.Err)))
	}
	for _, warn := range e.LoadWarning {
		fmt.Fprintf(w, "           warning: %s\n", displayText(warn))
	}
}

func (a *app) printSummary(runID int64, s pipeline.Summary, status string) {
	total := s.OK + s.Failed + s.Duplicate + s.Cached + s.Interrupted
	fmt.Fprintf(a.stderr, "\nrun %d %s: %s — %d ok, %d failed, %d duplicate", runID, status, plural(total, "document"), s.OK, s.Failed, s.Duplicate)
	if s.Cached > 0 {
		fmt.Fprintf(a.stderr, ", %d cached", s.Cached)
	}
	if s.Interrupted > 0 {
		fmt.Fprintf(a.stderr, ", %d interrupted", s.Interrupted)
	}
	fmt.Fprintf(a.stderr, "; %s stored", plural(s.DataPoints, "data point"))
	if s.Ungrounded > 0 {
		fmt.Fprintf(a.stderr, " (%d ungrounded)", s.Ungrounded)
	}
	if s.NoTheses > 0 {
		fmt.Fprintf(a.stderr, "; %s without any thesis", plural(s.NoTheses, "document"))
	}
	if u := s.Usage; u.Requests > 0 || u.PromptTokens > 0 {
		fmt.Fprintf(a.stderr, "; tokens: %d prompt (%d cached), %d completion", u.PromptTokens, u.CachedPromptTokens, u.CompletionTokens)
		if u.CostUnknown {
			fmt.Fprint(a.stderr, "; cost unknown (no price for this model)")
		} else {
			fmt.Fprintf(a.stderr, "; est. cost $%.4f", u.CostUSD)
		}
	}
	fmt.Fprintf(a.stderr, "; %.1fs\n", s.Elapsed.Seconds())
	if s.Failed > 0 {
		fmt.Fprintf(a.stderr, "see the errors with: thesisdb query \"SELECT source, error FROM failures WHERE run_id = %d\"\n", runID)
	}
}

// eventJSON is the --json form of an event.
func eventJSON(e pipeline.Event) map[string]any {
	m := map[string]any{
		"source": e.Item.String(), "status": e.Status, "document_id": e.DocumentID, "title": e.Title,
		"data_points": e.DataPoints, "ungrounded": e.Ungrounded, "duration_ms": e.Duration.Milliseconds(),
		"usage": e.Usage,
	}
	if e.Err != nil {
		m["error"] = e.Err.Error()
	}
	return m
}
