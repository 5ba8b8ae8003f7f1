//go:build unix

package extract

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// A named pipe with a supported extension is refused at once, with what it
// is, instead of waiting forever for a writer.
func TestNamedPipeIsRefusedNotOpened(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "note.txt")
	mkfifo(t, fifo)
	_, err := Load(context.Background(), fifo, nil)
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "named pipe") {
		t.Fatalf("err = %v, want ErrNotRegular naming a named pipe", err)
	}
	// The same through a symbolic link.
	link := filepath.Join(dir, "link.md")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), link, nil); !errors.Is(err, ErrNotRegular) {
		t.Errorf("symlink to a FIFO: err = %v, want ErrNotRegular", err)
	}
}

// The open itself never blocks: a path checked as a regular file and then
// swapped for a named pipe is refused by the check after opening.
func TestOpenAfterSwapToPipeDoesNotBlock(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "swapped.txt")
	mkfifo(t, fifo)
	f, _, err := openNoWait(fifo)
	if f != nil {
		f.Close()
	}
	if !errors.Is(err, ErrNotRegular) {
		t.Fatalf("err = %v, want ErrNotRegular", err)
	}
}

func TestSocketsDevicesAndFoldersAreRefused(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.txt")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix socket: %v", err)
	}
	defer l.Close()
	dev := filepath.Join(dir, "null.txt")
	if err := os.Symlink(os.DevNull, dev); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "folder.md")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{sock: "a socket", dev: "a character device", folder: "a directory"} {
		_, err := Read(context.Background(), path, nil)
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want ErrNotRegular saying %q", filepath.Base(path), err, want)
		}
	}
}

// A symbolic link to a regular file is followed: it loads as the file.
func TestSymlinkToRegularFileLoads(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.txt")
	if err := os.WriteFile(target, []byte("Spreads are 284 bps.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	doc, err := Load(context.Background(), link, nil)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Source != link || doc.Text != "Spreads are 284 bps." {
		t.Errorf("source %q text %q", doc.Source, doc.Text)
	}
}

// A file past the size limit is refused from its size, before reading.
func TestOversizedFileRefusedBeforeReading(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.txt")
	if err := os.WriteFile(path, []byte(strings.Repeat("x", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Read(context.Background(), path, &Options{MaxBytes: 10})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "100 bytes") {
		t.Errorf("err = %v, want ErrTooLarge stating the size", err)
	}
}
