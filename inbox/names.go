package inbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Ignored reports whether a file name is one the watcher never takes:
// hidden names, the partial downloads and temporary files of browsers,
// editors and transfer tools, desktop metadata, and the watcher's own
// NAME.error.txt notes (so that moving a failed file back together with its
// note does not ingest the note).
func Ignored(name string) bool {
	l := strings.ToLower(name)
	switch {
	case name == "", strings.HasPrefix(name, "."), strings.HasPrefix(name, "~$"):
		return true
	case l == "thumbs.db", l == "desktop.ini":
		return true
	case strings.HasSuffix(l, errorSuffix):
		return true
	}
	switch filepath.Ext(l) {
	case ".tmp", ".part", ".partial", ".crdownload", ".filepart", ".download", ".swp":
		return true
	}
	return false
}

// errorSuffix is appended to a failed file's name for the note that says
// why it failed.
const errorSuffix = ".error.txt"

// suffixed returns path with "-n" before its extension ("a/b.pdf", 2 ->
// "a/b-2.pdf"); n == 0 returns path.
func suffixed(path string, n int) string {
	if n == 0 {
		return path
	}
	dir, base := filepath.Split(path)
	ext := filepath.Ext(base)
	if ext == base { // ".md" alone is a name, not an extension
		ext = ""
	}
	return dir + fmt.Sprintf("%s-%d%s", strings.TrimSuffix(base, ext), n, ext)
}

// maxSuffix bounds the search for a free name.
const maxSuffix = 10000

// mover moves files without ever replacing one. Its mutex serialises the
// choice of a free name where the platform has no atomic no-replace rename.
type mover struct {
	mu sync.Mutex
	// journal, when set, is a folder where each cross-device copy in
	// progress is noted, so that sweep can remove what a crash left.
	journal string
}

// move renames src to dst, or to dst with the first free "-n" suffix when
// dst exists, creating dst's folder. Across file systems it copies, syncs
// and then removes src. It returns where the file went.
func (m *mover) move(src, dst string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("move %s: %w", src, err)
	}
	for n := 0; n < maxSuffix; n++ {
		cand := suffixed(dst, n)
		err := m.renameNoReplace(src, cand)
		switch {
		case err == nil:
			return cand, nil
		case errors.Is(err, fs.ErrExist):
			continue
		case isCrossDevice(err):
			return m.copyMove(src, dst)
		default:
			return "", fmt.Errorf("move %s to %s: %w", src, cand, err)
		}
	}
	return "", fmt.Errorf("move %s: no free name like %s", src, dst)
}

// free returns dst, or dst with the first "-n" suffix that does not exist.
func free(dst string) (string, error) {
	for n := 0; n < maxSuffix; n++ {
		if cand := suffixed(dst, n); !exists(cand) {
			return cand, nil
		}
	}
	return "", fmt.Errorf("no free name like %s", dst)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

func (m *mover) renameNoReplace(src, dst string) error {
	if err := renameNoReplace(src, dst); !errors.Is(err, errNoAtomicNoReplace) {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if exists(dst) {
		return fs.ErrExist
	}
	return os.Rename(src, dst)
}

// partialCopyPrefix starts the name of a cross-device move's temporary
// copy, and journalPrefix the name of the note that records it.
const (
	partialCopyPrefix = ".thesisdb-move-"
	journalPrefix     = ".move-"
)

// copyMove moves src to a free name like dst on another file system: copy
// to a hidden temporary name beside dst, sync, rename into place, remove
// src. A crash leaves at worst a copy in both places, never none, and a
// partial copy that the journal names for sweep.
func (m *mover) copyMove(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("move %s: %w", src, err)
	}
	defer in.Close()
	name := filepath.Join(filepath.Dir(dst), partialCopyPrefix+strconv.FormatUint(rand.Uint64(), 36))
	if m.journal != "" {
		note, err := os.CreateTemp(m.journal, journalPrefix+"*")
		if err != nil {
			return "", fmt.Errorf("move %s: %w", src, err)
		}
		_, err = note.WriteString(name)
		if cerr := note.Close(); err == nil {
			err = cerr
		}
		defer os.Remove(note.Name())
		if err != nil {
			return "", fmt.Errorf("move %s: %w", src, err)
		}
	}
	tmp, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("move %s: %w", src, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return "", fmt.Errorf("move %s: copy: %w", src, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("move %s: sync: %w", src, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("move %s: %w", src, err)
	}
	if st, err := in.Stat(); err == nil {
		os.Chtimes(tmp.Name(), st.ModTime(), st.ModTime())
	}
	for n := 0; n < maxSuffix; n++ {
		cand := suffixed(dst, n)
		err := m.renameNoReplace(tmp.Name(), cand)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("move %s to %s: %w", src, cand, err)
		}
		if err := os.Remove(src); err != nil {
			return cand, fmt.Errorf("move %s: copied to %s but could not remove the original: %w", src, cand, err)
		}
		return cand, nil
	}
	return "", fmt.Errorf("move %s: no free name like %s", src, dst)
}

// sweep removes the partial copies of cross-device moves that a stop
// mid-copy left, as the journal names them, and the journal's notes. It
// returns how many copies it removed.
func (m *mover) sweep() int {
	notes, _ := filepath.Glob(filepath.Join(m.journal, journalPrefix+"*"))
	removed := 0
	for _, note := range notes {
		b, err := os.ReadFile(note)
		if err != nil {
			continue
		}
		if p := string(b); strings.HasPrefix(filepath.Base(p), partialCopyPrefix) && os.Remove(p) == nil {
			removed++
		}
		os.Remove(note)
	}
	return removed
}
