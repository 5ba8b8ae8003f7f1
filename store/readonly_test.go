//go:build linux

package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/thesisdb/thesisdb/schema"
)

// readAsEnv names the database the helper test queries, as another user.
const readAsEnv = "THESISDB_TEST_READ_DB"

// TestHelperReadOnlyQuery is not a test: readAs runs the test binary with
// it as an unprivileged user, to query a database the way that user can.
func TestHelperReadOnlyQuery(t *testing.T) {
	path := os.Getenv(readAsEnv)
	if path == "" {
		t.Skip("helper for TestReaderReadOnlyFolder")
	}
	r, err := OpenReader(path)
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return
	}
	defer r.Close()
	res, err := r.Query(context.Background(), "SELECT count(*) FROM documents", 0)
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return
	}
	fmt.Printf("count=%v immutable=%v\n", res.Rows[0][0], r.Immutable())
}

// otherUser is nobody's uid and gid.
const otherUser = 65534

// readAs queries the database at path as an unprivileged user and returns
// the helper's answer. It needs root (to change user); the test binary is
// copied where that user may run it.
func readAs(t *testing.T, bin, path string) string {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^TestHelperReadOnlyQuery$", "-test.count=1")
	cmd.Env = append(os.Environ(), readAsEnv+"="+path)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: otherUser, Gid: otherUser}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as uid %d: %v\n%s", otherUser, err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "count=") || strings.HasPrefix(line, "error: ") {
			return line
		}
	}
	t.Fatalf("helper printed no answer:\n%s", out)
	return ""
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReaderReadOnlyFolder queries, as a user who may read the database
// but not write its folder, a database nobody has open (opened immutable),
// one a writer has open (through its -wal and -shm), and the cases SQLite
// cannot read, which must say what is missing.
func TestReaderReadOnlyFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the reader as another user (root ignores permissions itself)")
	}
	ctx := context.Background()
	base := t.TempDir()
	for p := base; p != filepath.Dir(p) && strings.HasPrefix(p, os.TempDir()) && p != os.TempDir(); p = filepath.Dir(p) {
		chmod(t, p, 0o755) // t.TempDir's folders are private
	}
	bin := filepath.Join(base, "reader.test")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, self, bin, 0o755)

	dir := filepath.Join(base, "db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "t.sqlite")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	run := startRun(t, db, "p1")
	for i := 1; i <= 2; i++ {
		if _, err := db.SaveDocument(ctx, run, testDoc(i), Outcome{Extraction: testExtraction(schema.Bullish)}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	for _, f := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + f); err == nil {
			t.Fatalf("%s left after close", f)
		}
	}
	chmod(t, path, 0o644)
	chmod(t, dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })

	// The bug: SQLite wanted to create the -shm in the read-only folder,
	// reported as "attempt to write a readonly database". Nobody has the
	// database open, so it is read immutable.
	if got := readAs(t, bin, path); got != "count=2 immutable=true" {
		t.Errorf("no writer: %s", got)
	}

	// A writer has it open: its -wal and -shm are there, and readable.
	chmod(t, dir, 0o755)
	w, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.SaveDocument(ctx, run, testDoc(3), Outcome{Extraction: testExtraction(schema.Bullish)}); err != nil {
		t.Fatal(err)
	}
	chmod(t, dir, 0o555)
	for _, f := range []string{"", "-wal", "-shm"} {
		chmod(t, path+f, 0o644)
	}
	if got := readAs(t, bin, path); got != "count=3 immutable=false" {
		t.Errorf("writer open, files readable: %s", got)
	}

	// The writer's -shm is private: say so, not "readonly database".
	chmod(t, path+"-shm", 0o600)
	if got := readAs(t, bin, path); !strings.Contains(got, "may not read "+path+"-shm") {
		t.Errorf("private -shm: %s", got)
	}
	chmod(t, path+"-shm", 0o644)

	// A -wal without its -shm (copied, or left by a crash) in a read-only
	// folder: SQLite must create the -shm and cannot.
	other := filepath.Join(base, "copy")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, path, filepath.Join(other, "t.sqlite"), 0o644)
	copyFile(t, path+"-wal", filepath.Join(other, "t.sqlite-wal"), 0o644)
	chmod(t, other, 0o555)
	t.Cleanup(func() { os.Chmod(other, 0o755) })
	got := readAs(t, bin, filepath.Join(other, "t.sqlite"))
	if !strings.Contains(got, "is not writable") || !strings.Contains(got, "-wal file but no -shm") {
		t.Errorf("-wal without -shm: %s", got)
	}
}

// TestExplainAccess checks the messages for what a read-only user lacks.
func TestExplainAccess(t *testing.T) {
	cause := errors.New("attempt to write a readonly database")
	for _, c := range []struct {
		a    access
		want string
	}{
		{access{dir: "/d", dbReadable: false}, "may not read the file"},
		{access{dir: "/d", dbReadable: true, shmExists: true, walExists: true, walReadable: true}, "may not read x.sqlite-shm"},
		{access{dir: "/d", dbReadable: true, shmExists: true, shmReadable: true, walExists: true}, "may not read x.sqlite-wal"},
		{access{dir: "/d", dbReadable: true, walExists: true, walReadable: true}, "the folder /d is not writable and the database has a -wal file but no -shm file"},
		{access{dir: "/d", dbReadable: true, shmExists: true, shmReadable: true}, "has a -shm file but no -wal file"},
		{access{dir: "/d", dbReadable: true, dirWritable: true}, "open database x.sqlite"},
	} {
		err := c.a.explain("x.sqlite", cause)
		if !strings.Contains(err.Error(), c.want) || !errors.Is(err, cause) {
			t.Errorf("%+v: %v, want %q", c.a, err, c.want)
		}
	}
	if !(access{dbReadable: true}).immutableSafe() || (access{dbReadable: true, walExists: true}).immutableSafe() ||
		(access{dbReadable: true, dirWritable: true}).immutableSafe() {
		t.Error("immutableSafe: want it only for a readable database in a read-only folder with no -wal or -shm")
	}
}
