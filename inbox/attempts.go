package inbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Poison files. A file whose parsing kills the process (a fatal error
// that recover cannot catch, the kernel's OOM killer) would otherwise be
// recovered from .processing/ and kill the watcher again at every start.
// So, before a claimed file is processed, an attempt record naming it and
// counting the attempts is written in .processing/.attempts/; it is
// removed once the file is filed or put back. A record found at start
// therefore means the process died while working on that file. Such a
// file is retried once, alone (nothing else in flight, so that a second
// death is its own and not a neighbour's); when it was already retried,
// it is set aside in failed/ with a note instead.
//
// Records are not fsynced. Every death a file can cause (a fatal error,
// the OOM killer, kill -9) leaves the kernel's page cache, so the record
// is there at the next start; a power loss can lose at most the latest
// count, which costs one more retry and never sets a file aside wrongly.
// Syncing each record would make a watch of small files about twice as
// slow, for a guarantee the store's own commits (WAL, synchronous=NORMAL)
// do not give either.

// attemptsDir is the folder of .processing/ that holds attempt records.
const attemptsDir = ".attempts"

// maxAttempts is how many times a file is started before a death while
// processing it sets it aside: the first attempt and one retry.
const maxAttempts = 2

// ErrQuarantined is the reason given for a file that was being processed
// each time thesisdb stopped, maxAttempts times.
var ErrQuarantined = errors.New("thesisdb stopped twice while processing this file (crash or kill); it was set aside so the inbox can go on")

// attempt is the record of a claimed file being processed. Name, size and
// modification time (and the SHA-256 once computed) identify the file: a
// record that does not match the file in .processing/ is not its own.
type attempt struct {
	Name     string    `json:"name"` // relative to the inbox, slash-separated
	Size     int64     `json:"size"`
	ModTime  time.Time `json:"mtime"`
	SHA256   string    `json:"sha256,omitempty"`
	Attempts int       `json:"attempts"` // times processing started
	Started  time.Time `json:"started"`  // of the latest attempt
	PID      int       `json:"pid"`      // of the latest attempt's process
}

// attemptPath returns where the attempt record of the claimed file rel
// lives: one flat folder, the name a hash of rel so that any depth and
// length of name fits.
func (w *Watcher) attemptPath(rel string) string {
	s := sha256.Sum256([]byte(filepath.ToSlash(rel)))
	return filepath.Join(w.processing, attemptsDir, hex.EncodeToString(s[:16])+".json")
}

// readAttempt returns how many times processing of the claimed file rel
// (at path) started before, and the SHA-256 recorded with them: 0 when it
// has no record or the record describes another file. An unreadable
// record counts as one attempt: it exists, so processing started.
func (w *Watcher) readAttempt(path, rel string) (n int, sha string) {
	b, err := os.ReadFile(w.attemptPath(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, ""
	}
	var a attempt
	if err == nil {
		err = json.Unmarshal(b, &a)
	}
	if err != nil || a.Attempts < 1 {
		w.logger().Warn("unreadable attempt record; counting one attempt", "path", path, "err", err)
		return 1, ""
	}
	st, err := os.Lstat(path)
	if err != nil || a.Name != filepath.ToSlash(rel) || a.Size != st.Size() || !a.ModTime.Equal(st.ModTime()) {
		return 0, "" // a record of another file of that name
	}
	return a.Attempts, a.SHA256
}

// recordAttempt notes that processing of the claimed file rel (at path)
// starts for the n-th time. The first record is one small write to a new
// file (a death before it completes leaves an empty record, which counts
// one attempt: right); a retry's replaces the old record atomically, so a
// death leaves the old record or the new one, and at worst a temporary
// file that sweepAttempts removes.
func (w *Watcher) recordAttempt(path, rel string, n int, sha string) error {
	st, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	b, err := json.Marshal(attempt{Name: filepath.ToSlash(rel), Size: st.Size(), ModTime: st.ModTime(), SHA256: sha,
		Attempts: n, Started: time.Now().UTC(), PID: os.Getpid()})
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	dst := w.attemptPath(rel)
	dir := filepath.Dir(dst)
	if n == 1 {
		err := os.WriteFile(dst, b, 0o644)
		if errors.Is(err, fs.ErrNotExist) {
			if err = os.MkdirAll(dir, 0o755); err == nil {
				err = os.WriteFile(dst, b, 0o644)
			}
		}
		if err != nil {
			return fmt.Errorf("record attempt of %s: %w", rel, err)
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("record attempt of %s: %w", rel, err)
	}
	return nil
}

// clearAttempt removes the attempt record of the claimed file rel, once
// the file is filed or put back: its processing ended without a crash.
func (w *Watcher) clearAttempt(rel string) {
	if err := os.Remove(w.attemptPath(rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		w.logger().Warn("cannot remove attempt record", "name", rel, "err", err)
	}
}

// sweepAttempts removes the attempt records of files no longer claimed
// (filed by hand, or whose record outlived a crash after filing) and the
// temporary files of records being written when the process died. live
// holds the record paths of the files in .processing/.
func (w *Watcher) sweepAttempts(live map[string]bool) {
	dir := filepath.Join(w.processing, attemptsDir)
	es, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range es {
		if p := filepath.Join(dir, e.Name()); !live[p] {
			os.Remove(p)
		}
	}
}

// quarantineNote is the part of NAME.error.txt that a set-aside file gets
// instead of the usual advice.
func quarantineNote(b *strings.Builder, dst, back string) {
	fmt.Fprintf(b, "Each time, the process (or its parser worker) died while it worked on this\n")
	fmt.Fprintf(b, "file: a parser crash, running out of memory, or a kill. Nothing was stored.\n")
	fmt.Fprintf(b, "Move it back into the inbox to try again; it then starts with a clean count:\n\n")
	fmt.Fprintf(b, "  mv %s %s/\n\n", shellQuote(dst), shellQuote(back))
	fmt.Fprintf(b, "If it stops thesisdb again, keep the file: it is a parser bug to report.\n")
}
