//go:build unix

package inbox

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDoneDirOnAnotherFileSystem files into a folder on another file
// system (tmpfs), where a rename cannot move: the file is copied, synced,
// put in place and removed from the inbox, and no journal note or partial
// copy is left.
func TestDoneDirOnAnotherFileSystem(t *testing.T) {
	other, err := os.MkdirTemp("/dev/shm", "thesisdb-done-")
	if err != nil {
		t.Skip("no /dev/shm")
	}
	defer os.RemoveAll(other)
	h := newHarness(t, Options{DoneDir: other, Recursive: true})
	if sameDevice(t, h.dir, other) {
		t.Skip("/dev/shm is on the same file system as the test's temporary folder")
	}
	h.write("a.md", "First note")
	h.write("sub/b.md", "Second note")
	h.once()
	assertFiles(t, other, "a.md", "sub/b.md")
	assertFiles(t, h.dir) // nothing left in the inbox: no original, note or partial copy
	if b, _ := os.ReadFile(filepath.Join(other, "sub", "b.md")); string(b) != "Second note" {
		t.Errorf("copied content %q", b)
	}
	if e := h.waitEvent("sub/b.md"); e.Dest != filepath.Join(other, "sub", "b.md") {
		t.Errorf("dest %q", e.Dest)
	}
}

func sameDevice(t *testing.T, a, b string) bool {
	t.Helper()
	var sa, sb syscall.Stat_t
	if err := syscall.Stat(a, &sa); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(b, &sb); err != nil {
		t.Fatal(err)
	}
	return sa.Dev == sb.Dev
}
