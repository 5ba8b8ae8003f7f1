// Package inbox is the long-lived watcher behind `thesisdb watch`: it takes
// every complete file that lands in a folder, runs it through the pipeline
// exactly once and files it under done/ or failed/.
//
// A file's life: it is seen (a file-system event or a rescan), it settles
// (size and modification time unchanged for Options.Settle), it is claimed
// by an atomic rename into INBOX/.processing/, processed (the store's
// transaction is the commit point), then moved to done/ — or to failed/
// beside a NAME.error.txt note — or, when the watcher stops first, back
// into the inbox. Files found in .processing/ at start were claimed by a
// watcher that died: those already stored are filed at once, the others
// are processed again. Since a document is stored whole or not at all and
// its SHA-256 is unique in the store, a crash at any instant loses no file
// and stores no document twice. A file that was being processed at two
// such deaths (a poison file, see attempts.go) is set aside in failed/
// instead of being retried forever.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/thesisdb/thesisdb/extract"
	"github.com/thesisdb/thesisdb/pipeline"
	"github.com/thesisdb/thesisdb/store"
)

// ProcessingDir is the inbox sub-folder that holds claimed files.
const ProcessingDir = ".processing"

// ErrLocked is returned when another watcher is running on the inbox.
var ErrLocked = errors.New("another thesisdb watch is already running on this inbox")

// Options configure a Watcher; zero durations take the defaults.
type Options struct {
	// DoneDir receives stored files (default INBOX/done).
	DoneDir string
	// FailedDir receives failed files, each beside NAME.error.txt
	// (default INBOX/failed).
	FailedDir string
	// DeleteDone removes stored files instead of moving them to DoneDir.
	DeleteDone bool
	// Recursive takes files in sub-folders too, tagging each document
	// with its folder's path relative to the inbox.
	Recursive bool
	// Settle is how long size and modification time must stay unchanged
	// before a file is taken (default 2s).
	Settle time.Duration
	// Rescan is the interval of the full rescans that back up file-system
	// events (default 60s).
	Rescan time.Duration
	// Poll, when positive, turns file-system events off and rescans at
	// this interval instead (network file systems deliver no events).
	Poll time.Duration
	// Once processes the files present at start, then returns.
	Once bool
	// Concurrency bounds the files processed at once (default: the
	// pipeline's Concurrency, else 4).
	Concurrency int
	// SummaryEvery is how often OnSummary is called while something
	// changed (0: never).
	SummaryEvery time.Duration
}

// Store is what the watcher needs of the pipeline's store beyond
// pipeline.Store: where it is, named in the notes left beside failed
// files (satisfied by *store.DB).
type Store interface {
	pipeline.Store
	Path() string
}

var _ Store = (*store.DB)(nil)

// Watcher ingests the files dropped into an inbox folder.
type Watcher struct {
	Dir      string             // the inbox
	Pipeline *pipeline.Pipeline // loads, extracts and stores each file
	RunID    int64              // the run documents are stored in
	Options
	// OnEvent is called once per file, from one goroutine at a time.
	OnEvent func(Event)
	// OnSummary is called every SummaryEvery with the totals so far.
	OnSummary func(Stats)
	Logger    *slog.Logger

	store                         Store // the pipeline's, set by Run
	abs, processing, done, failed string
	mv                            mover
	lock                          *os.File
}

// Event reports what became of one file. Its Item.Source is where the file
// was dropped (the inbox joined with Name).
type Event struct {
	pipeline.Event
	// Name is the file's path relative to the inbox, slash-separated.
	Name string
	// Dest is where the file went: under DoneDir or FailedDir, back in the
	// inbox when interrupted, or "" when deleted or left in .processing.
	Dest string
	// Recovered is set for a file found in .processing/ at start whose
	// content was already stored before the restart.
	Recovered bool
}

// Stats are the totals a periodic summary reports.
type Stats struct {
	pipeline.Summary
	Waiting  int // seen, settling or queued
	InFlight int // being processed
}

func (w *Watcher) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	if w.Pipeline != nil && w.Pipeline.Logger != nil {
		return w.Pipeline.Logger
	}
	return slog.Default()
}

// Lock checks the inbox, creates its .processing, done and failed folders
// and takes the lock that keeps a second watcher off the inbox (ErrLocked),
// so that a caller can fail before recording a run. Run calls it when it
// has not been called, and releases the lock when it returns.
func (w *Watcher) Lock() error {
	if w.lock != nil {
		return nil
	}
	if err := w.init(); err != nil {
		return err
	}
	lock, err := lockDir(w.processing)
	if err != nil {
		return fmt.Errorf("inbox %s: %w", w.Dir, err)
	}
	w.lock = lock
	return nil
}

func (w *Watcher) unlock() {
	if w.lock != nil {
		w.lock.Close()
		w.lock = nil
	}
}

func (w *Watcher) init() error {
	abs, err := filepath.Abs(w.Dir)
	if err != nil {
		return fmt.Errorf("inbox %s: %w", w.Dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("inbox %s is not a folder", w.Dir)
	}
	w.abs = abs
	w.processing = filepath.Join(abs, ProcessingDir)
	w.mv.journal = w.processing
	dirOr := func(d, def string) (string, error) {
		if d == "" {
			return filepath.Join(abs, def), nil
		}
		return filepath.Abs(d)
	}
	if w.done, err = dirOr(w.DoneDir, "done"); err != nil {
		return err
	}
	if w.failed, err = dirOr(w.FailedDir, "failed"); err != nil {
		return err
	}
	for _, d := range []string{w.done, w.failed} {
		if rel, err := filepath.Rel(d, abs); err == nil && (rel == "." || !strings.HasPrefix(rel, "..")) {
			return fmt.Errorf("inbox: %s cannot be the inbox or a folder above it", d)
		}
	}
	dirs := []string{w.processing, w.failed}
	if !w.DeleteDone {
		dirs = append(dirs, w.done)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
	}
	if w.Settle <= 0 {
		w.Settle = 2 * time.Second
	}
	if w.Rescan <= 0 {
		w.Rescan = time.Minute
	}
	if w.Concurrency <= 0 && w.Pipeline != nil {
		w.Concurrency = w.Pipeline.Concurrency
	}
	if w.Concurrency <= 0 {
		w.Concurrency = 4
	}
	return nil
}

// Run watches the inbox until ctx is cancelled (or, with Once, until the
// files present at start are done) and returns the totals. On cancellation
// it takes no more files and waits for the ones in flight: each is either
// stored and filed, or released back into the inbox. An extractor error
// that every file would meet (extract.ErrAbortRun: no quota, a refused
// key) stops the watch the same way, with the summary's Aborted set,
// rather than retrying the files in a loop.
func (w *Watcher) Run(ctx context.Context) (pipeline.Summary, error) {
	start := time.Now()
	ctx, abort := context.WithCancel(ctx)
	defer abort()
	if w.Pipeline == nil || w.Pipeline.Store == nil {
		return pipeline.Summary{}, errors.New("inbox: no pipeline or store")
	}
	st, ok := w.Pipeline.Store.(Store)
	if !ok {
		return pipeline.Summary{}, fmt.Errorf("inbox: the pipeline's store (%T) does not say where it is (no Path method)", w.Pipeline.Store)
	}
	w.store = st
	if err := w.Lock(); err != nil {
		return pipeline.Summary{}, err
	}
	defer w.unlock()

	l := &loop{w: w, pending: map[string]*seen{}, busy: map[string]bool{}, watched: map[string]bool{}}
	l.timer = time.NewTimer(time.Hour)
	l.timer.Stop()
	if n := w.mv.sweep(); n > 0 {
		w.logger().Info("removed partial copies left by a stop mid-move", "files", n)
	}
	if err := l.recoverClaimed(); err != nil {
		return pipeline.Summary{}, err
	}
	if !w.Once && w.Poll <= 0 {
		fsw, err := fsnotify.NewWatcher()
		if err != nil {
			w.logger().Warn("no file-system events; relying on rescans", "every", w.Rescan, "err", err)
		} else {
			l.fsw = fsw
			defer fsw.Close()
		}
	}
	l.scan(w.abs)

	jobs := make(chan job)
	results := make(chan result)
	var wg sync.WaitGroup
	for range w.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- w.handle(ctx, j)
			}
		}()
	}

	var rescan, summary <-chan time.Time
	if !w.Once {
		every := w.Rescan
		if w.Poll > 0 {
			every = w.Poll
		}
		t := time.NewTicker(every)
		defer t.Stop()
		rescan = t.C
	}
	if w.SummaryEvery > 0 && w.OnSummary != nil {
		t := time.NewTicker(w.SummaryEvery)
		defer t.Stop()
		summary = t.C
	}
	var fsEvents <-chan fsnotify.Event
	var fsErrors <-chan error
	if l.fsw != nil {
		fsEvents, fsErrors = l.fsw.Events, l.fsw.Errors
	}
	var lastSummary Stats
	done := ctx.Done()
loop:
	for {
		if w.Once && len(l.pending) == 0 && len(l.queue) == 0 && l.inflight == 0 {
			break
		}
		var send chan job
		var head job
		// A suspect runs alone: nothing else starts while it is in
		// flight, and it starts only when nothing else is.
		if len(l.queue) > 0 && !l.alone && (!l.queue[0].suspect() || l.inflight == 0) {
			send, head = jobs, l.queue[0]
		}
		select {
		case <-done:
			break loop
		case send <- head:
			l.queue = l.queue[1:]
			l.inflight++
			l.alone = head.suspect()
		case r := <-results:
			l.finished(r)
			if errors.Is(r.ev.Err, extract.ErrAbortRun) {
				l.sum.Aborted = r.ev.Err
				w.logger().Error("stopping the watch: every file would fail the same way; fix the cause and start it again", "err", r.ev.Err)
				abort()
				break loop
			}
		case ev, ok := <-fsEvents:
			if !ok {
				fsEvents = nil
				continue
			}
			l.onEvent(ev)
		case err, ok := <-fsErrors:
			if !ok {
				fsErrors = nil
				continue
			}
			// An overflow or a lost watch: events are only hints, the
			// folder is the truth.
			w.logger().Warn("file-system events lost; rescanning", "err", err)
			l.scan(w.abs)
		case <-l.timer.C:
			l.armed = time.Time{}
			l.settle(time.Now())
		case <-rescan:
			l.scan(w.abs)
		case <-summary:
			if s := l.stats(); s != lastSummary { // quiet while idle
				lastSummary = s
				s.Elapsed = time.Since(start)
				w.OnSummary(s)
			}
		}
	}
	close(jobs)
	go func() { wg.Wait(); close(results) }()
	for r := range results {
		l.finished(r)
	}
	removeEmptyDirs(w.processing)
	l.sum.Elapsed = time.Since(start)
	return l.sum, nil
}

// seen is what a file looked like when last examined.
type seen struct {
	size  int64
	mtime time.Time
	since time.Time // when size and mtime were first seen as they are
}

// job is a file to process: one in the inbox, or one recovered from
// .processing/.
type job struct {
	path      string
	rel       string // relative to the inbox, or to .processing when recovered
	recovered bool
	// attempts is how many times processing of a recovered file started
	// before (its attempt record), and sha the SHA-256 recorded with them.
	attempts int
	sha      string
}

// suspect reports whether the process died while processing the job's
// file: it is retried alone, so that another death is its own.
func (j job) suspect() bool { return j.recovered && j.attempts > 0 }

type result struct {
	job
	ev   Event
	skip bool // nothing happened (the file vanished before it was claimed)
}

// loop is the state of Run's single goroutine.
type loop struct {
	w        *Watcher
	fsw      *fsnotify.Watcher
	pending  map[string]*seen // settling, by absolute path
	queue    []job            // settled, waiting for a worker
	busy     map[string]bool  // queued or in flight
	inflight int
	alone    bool // a suspect is in flight
	watched  map[string]bool
	timer    *time.Timer
	armed    time.Time // when timer fires; zero when stopped
	sum      pipeline.Summary
}

func (l *loop) stats() Stats {
	return Stats{Summary: l.sum, Waiting: len(l.pending) + len(l.queue), InFlight: l.inflight}
}

func (l *loop) finished(r result) {
	l.inflight--
	if r.suspect() {
		l.alone = false
	}
	delete(l.busy, r.path)
	if r.skip {
		return
	}
	l.sum.Add(r.ev.Event)
	if l.w.OnEvent != nil {
		l.w.OnEvent(r.ev)
	}
}

// recoverClaimed queues every file left in .processing/ by a watcher that
// stopped without filing it, with the attempts its record counts.
func (l *loop) recoverClaimed() error {
	var found []job
	live := map[string]bool{}
	err := filepath.WalkDir(l.w.processing, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("recover claimed files: %w", err)
		}
		if path == l.w.processing {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") { // the lock, our temporary files
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(l.w.processing, path)
		if err != nil {
			return err
		}
		j := job{path: path, rel: rel, recovered: true}
		j.attempts, j.sha = l.w.readAttempt(path, rel)
		live[l.w.attemptPath(rel)] = true
		found = append(found, j)
		return nil
	})
	if err != nil {
		return err
	}
	l.w.sweepAttempts(live)
	if len(found) > 0 {
		suspects := 0
		for _, j := range found {
			if j.suspect() {
				suspects++
			}
		}
		l.w.logger().Info("recovering files claimed before a stop", "files", len(found), "died_while_processing", suspects, "folder", l.w.processing)
	}
	for _, j := range found {
		l.busy[j.path] = true
	}
	l.queue = append(found, l.queue...)
	return nil
}

// skipDir reports whether a folder under the inbox is not watched: hidden
// folders (.processing among them), the done and failed folders, and any
// sub-folder when not recursive.
func (l *loop) skipDir(path string) bool {
	if path == l.w.abs {
		return false
	}
	if !l.w.Recursive || strings.HasPrefix(filepath.Base(path), ".") {
		return true
	}
	return path == l.w.done || path == l.w.failed
}

// scan walks the inbox (or a new folder in it), watching its folders and
// examining its files.
func (l *loop) scan(root string) {
	now := time.Now()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			l.w.logger().Warn("skipping unreadable path", "path", path, "err", err)
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if l.skipDir(path) {
				return filepath.SkipDir
			}
			l.watch(path)
			return nil
		}
		if d.Type().IsRegular() {
			l.observe(path, now)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.w.logger().Warn("scan failed", "path", root, "err", err)
	}
	l.settle(now)
}

func (l *loop) watch(dir string) {
	if l.fsw == nil || l.watched[dir] {
		return
	}
	if err := l.fsw.Add(dir); err != nil {
		l.w.logger().Warn("cannot watch folder; relying on rescans", "path", dir, "err", err)
		return
	}
	l.watched[dir] = true
}

// onEvent treats a file-system event as a hint to look at a path.
func (l *loop) onEvent(ev fsnotify.Event) {
	path := ev.Name
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		delete(l.pending, path)
		if l.watched[path] {
			delete(l.watched, path)
			l.fsw.Remove(path)
		}
		return
	}
	st, err := os.Lstat(path)
	if err != nil {
		delete(l.pending, path)
		return
	}
	now := time.Now()
	if st.IsDir() {
		if !l.skipDir(path) && !l.watched[path] {
			l.scan(path) // files may have landed before the watch
		}
		return
	}
	if dir := filepath.Dir(path); dir != l.w.abs && l.skipDir(dir) {
		return
	}
	if st.Mode().IsRegular() {
		l.observe(path, now)
		l.settle(now)
	}
}

// observe records a file's size and modification time, restarting its
// settling period when either changed.
func (l *loop) observe(path string, now time.Time) {
	if Ignored(filepath.Base(path)) || l.busy[path] {
		return
	}
	st, err := os.Lstat(path)
	if err != nil || !st.Mode().IsRegular() {
		delete(l.pending, path)
		return
	}
	s := l.pending[path]
	if s == nil || s.size != st.Size() || !s.mtime.Equal(st.ModTime()) {
		l.pending[path] = &seen{size: st.Size(), mtime: st.ModTime(), since: now}
	}
}

// settle queues the files that have been stable for Settle, re-examining
// each at its deadline, and arms the timer for the next deadline.
func (l *loop) settle(now time.Time) {
	var ready []string
	var next time.Time
	for path, s := range l.pending {
		due := s.since.Add(l.w.Settle)
		if due.After(now) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		st, err := os.Lstat(path)
		switch {
		case err != nil || !st.Mode().IsRegular():
			delete(l.pending, path)
		case st.Size() != s.size || !st.ModTime().Equal(s.mtime):
			*s = seen{size: st.Size(), mtime: st.ModTime(), since: now}
			if due := now.Add(l.w.Settle); next.IsZero() || due.Before(next) {
				next = due
			}
		default:
			ready = append(ready, path)
			delete(l.pending, path)
		}
	}
	sort.Strings(ready)
	for _, path := range ready {
		rel, err := filepath.Rel(l.w.abs, path)
		if err != nil {
			continue
		}
		l.busy[path] = true
		l.queue = append(l.queue, job{path: path, rel: rel})
	}
	if !next.IsZero() && (l.armed.IsZero() || next.Before(l.armed)) {
		l.armed = next
		l.timer.Reset(time.Until(next))
	}
}

// handle claims, processes and files one job. It runs on a worker.
func (w *Watcher) handle(ctx context.Context, j job) result {
	claimed := j.path
	if !j.recovered {
		if ctx.Err() != nil {
			return result{job: j, skip: true}
		}
		dst, err := w.mv.move(j.path, filepath.Join(w.processing, j.rel))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				w.logger().Debug("file gone before it was taken", "path", j.path)
			} else {
				w.logger().Warn("cannot take file; will retry at the next scan", "path", j.path, "err", err)
			}
			return result{job: j, skip: true}
		}
		claimed = dst
		w.logger().Debug("taken", "path", j.path, "claimed", claimed)
	}
	tags := tagsOf(j.rel)
	ev := Event{Name: filepath.ToSlash(j.rel)}
	// The attempt record lives while the file is processed and filed: a
	// death in between leaves it for the next start to count. It is kept
	// under the claimed name, which differs from j.rel when that was taken.
	crel, err := filepath.Rel(w.processing, claimed)
	if err != nil {
		crel = j.rel
	}
	defer w.clearAttempt(crel)
	stored, attempts, sha := false, 0, ""
	if j.recovered {
		var st pipeline.Stored
		if st, err = w.Pipeline.Check(ctx, pipeline.Item{Source: claimed}); err == nil {
			sha = st.SHA256
			ev.Event, stored = alreadyStored(claimed, st)
		}
		if err != nil {
			w.logger().Warn("cannot check whether a recovered file is stored; processing it again", "path", claimed, "err", err)
		}
		ev.Recovered = stored
		if attempts = j.attempts; j.sha != "" && sha != "" && j.sha != sha {
			attempts = 0 // the record is of other content
		}
	}
	switch {
	case stored:
	case attempts >= maxAttempts:
		ev.Event = w.quarantine(ctx, claimed, j.rel, sha, attempts)
	default:
		if attempts > 0 {
			w.logger().Warn("retrying, alone, a file that was being processed when thesisdb stopped", "path", claimed, "attempt", attempts+1)
		}
		if err := w.recordAttempt(claimed, crel, attempts+1, sha); err != nil {
			w.logger().Warn("cannot record the attempt; a file that crashes thesisdb would be retried at every start", "path", claimed, "err", err)
		}
		ev.Event = w.Pipeline.Process(ctx, w.RunID, pipeline.Item{Source: claimed, Name: filepath.Join(w.abs, j.rel), Tags: tags})
	}
	ev.Item.Source = filepath.Join(w.Dir, j.rel)
	if j.recovered {
		ev.Item.Source = filepath.Join(w.Dir, ProcessingDir, j.rel)
	}
	ev.Item.Tags = tags
	w.file(claimed, j.rel, &ev)
	return result{job: j, ev: ev}
}

// quarantine sets aside a recovered file that was being processed each
// time the process died: it fails with ErrQuarantined, recorded in the
// store as a load failure, without being processed again.
func (w *Watcher) quarantine(ctx context.Context, claimed, rel, sha string, attempts int) pipeline.Event {
	source := filepath.Join(w.abs, rel)
	w.logger().Error("setting aside a file that was being processed each time thesisdb stopped",
		"path", claimed, "attempts", attempts, "sha256", sha)
	ev := pipeline.Event{Item: pipeline.Item{Source: claimed, Name: source}, Status: pipeline.Failed, Err: ErrQuarantined}
	if err := w.Pipeline.Store.RecordLoadFailure(context.WithoutCancel(ctx), w.RunID, source, sha, ErrQuarantined.Error()); err != nil {
		ev.Err = errors.Join(ErrQuarantined, err)
	}
	return ev
}

// tagsOf returns the folder of a file relative to the inbox as its tag.
func tagsOf(rel string) []string {
	dir := filepath.ToSlash(filepath.Dir(rel))
	if dir == "." || dir == "" {
		return nil
	}
	return []string{strings.ReplaceAll(dir, ",", " ")}
}

// file moves a processed file to where its outcome says.
func (w *Watcher) file(claimed, rel string, ev *Event) {
	var err error
	switch ev.Status {
	case pipeline.Interrupted:
		ev.Dest, err = w.mv.move(claimed, filepath.Join(w.abs, rel))
	case pipeline.Failed:
		ev.Dest, err = w.fail(claimed, rel, ev)
	default:
		if w.DeleteDone {
			err = os.Remove(claimed)
			break
		}
		ev.Dest, err = w.mv.move(claimed, filepath.Join(w.done, rel))
		if err == nil {
			w.clearStaleNote(rel)
		}
	}
	if err != nil {
		ev.Dest = ""
		w.logger().Error("cannot file processed document; it stays claimed and is filed on the next start",
			"path", claimed, "status", ev.Status, "err", err)
	}
}

// fail files a failed document under FailedDir beside a note saying what
// went wrong and how to retry. The note is written first, in place: a
// crash before the move leaves the file claimed and a note (whole or not)
// that the retry overwrites, never a file without one nor a stray
// temporary file.
func (w *Watcher) fail(claimed, rel string, ev *Event) (string, error) {
	dst, err := free(filepath.Join(w.failed, rel))
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(dst+errorSuffix, []byte(w.note(dst, rel, ev)), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", dst+errorSuffix, err)
	}
	got, err := w.mv.move(claimed, dst)
	if err != nil {
		os.Remove(dst + errorSuffix)
		return "", err
	}
	if got != dst {
		os.Rename(dst+errorSuffix, got+errorSuffix)
	}
	return got, nil
}

// note is the text of NAME.error.txt.
func (w *Watcher) note(dst, rel string, ev *Event) string {
	var b strings.Builder
	reason := "unknown error"
	if ev.Err != nil {
		reason = ev.Err.Error()
	}
	fmt.Fprintf(&b, "thesisdb watch could not ingest %s\n", filepath.ToSlash(rel))
	fmt.Fprintf(&b, "when:   %s (run %d)\n", time.Now().UTC().Format(time.RFC3339), w.RunID)
	fmt.Fprintf(&b, "reason: %s\n\n", reason)
	db := shellQuote(w.store.Path())
	back := filepath.Join(w.abs, filepath.Dir(rel))
	if errors.Is(ev.Err, ErrQuarantined) {
		quarantineNote(&b, dst, back)
	} else if ev.DocumentID != 0 {
		fmt.Fprintf(&b, "The document is stored (document %d) with this failed extraction. Once the\n", ev.DocumentID)
		fmt.Fprintf(&b, "cause is fixed (model, server, limits), move the file back into the inbox:\n\n")
		fmt.Fprintf(&b, "  mv %s %s/\n\n", shellQuote(dst), shellQuote(back))
		fmt.Fprintf(&b, "or extract every failed document again:\n\n")
		fmt.Fprintf(&b, "  thesisdb --db %s reextract --failed\n", db)
	} else {
		fmt.Fprintf(&b, "Nothing was stored. To retry, fix the file (or the loader settings), then\n")
		fmt.Fprintf(&b, "either move it back into the inbox:\n\n")
		fmt.Fprintf(&b, "  mv %s %s/\n\n", shellQuote(dst), shellQuote(back))
		fmt.Fprintf(&b, "or ingest it directly:\n\n")
		fmt.Fprintf(&b, "  thesisdb --db %s ingest %s\n", db, shellQuote(dst))
	}
	fmt.Fprintf(&b, "\nEvery failure is also in the database:\n\n")
	fmt.Fprintf(&b, "  thesisdb --db %s query \"SELECT * FROM failures WHERE run_id = %d\"\n", db, w.RunID)
	return b.String()
}

// clearStaleNote removes failed/NAME.error.txt once NAME, moved back into
// the inbox to retry, has been stored.
func (w *Watcher) clearStaleNote(rel string) {
	f := filepath.Join(w.failed, rel)
	if !exists(f) && exists(f+errorSuffix) {
		os.Remove(f + errorSuffix)
	}
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// alreadyStored reports whether a recovered file's content is stored
// (the pipeline's duplicate check): the previous watcher died after the
// commit and before filing it. The event says ok (as a duplicate of
// itself) or, when the document has no successful extraction, failed with
// the stored reason.
func alreadyStored(path string, st pipeline.Stored) (pipeline.Event, bool) {
	ev := pipeline.Event{Item: pipeline.Item{Source: path}}
	if st.DocumentID == 0 {
		return ev, false
	}
	ev.DocumentID, ev.Status = st.DocumentID, pipeline.Duplicate
	if !st.Extracted {
		reason := st.LastError
		if reason == "" {
			reason = "the document has no extraction"
		}
		ev.Status = pipeline.Failed
		ev.Err = fmt.Errorf("stored before the restart with no successful extraction: %s", reason)
	}
	return ev, true
}

// removeEmptyDirs removes the empty folders under root, deepest first,
// keeping root.
func removeEmptyDirs(root string) {
	var dirs []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && path != root {
			dirs = append(dirs, path)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i]) // fails, harmlessly, unless empty
	}
}
