package pdfdoc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/internal/hostile"
)

// fakePdftotext puts first on PATH a pdftotext that appends its argv to
// the returned file and, for an input that has /Encrypt, fails the way
// poppler does without the right password.
func fakePdftotext(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs a POSIX shell")
	}
	dir := t.TempDir()
	argv := filepath.Join(dir, "argv")
	script := `#!/bin/sh
for a in "$@"; do printf '%s\n' "$a" >> "` + argv + `"; done
in=$(cat)
case "$in" in
*/Encrypt*) echo "Command Line Error: Incorrect password" >&2; exit 1;;
esac
printf 'fake text\f'
`
	if err := os.WriteFile(filepath.Join(dir, "pdftotext"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argv
}

func TestPdftotextNeverGetsThePassword(t *testing.T) {
	argv := fakePdftotext(t)
	const secret = "s3cret-Pw"
	plain := hostile.Valid("hello")
	doc, err := Pdftotext(context.Background(), plain, secret)
	if err != nil || doc.Text() != "fake text" {
		t.Fatalf("plain file: %v, %+v", err, doc)
	}
	encrypted := bytes.Replace(plain, []byte("trailer\n<<"), []byte("trailer\n<< /Encrypt 99 0 R"), 1)
	_, err = Pdftotext(context.Background(), encrypted, secret)
	var ee *EncryptedError
	if !errors.Is(err, ErrPdftotextPassword) || !errors.As(err, &ee) || !ee.NeedsUserPassword {
		t.Errorf("encrypted file with a password set: err = %v, want ErrPdftotextPassword and an EncryptedError", err)
	}
	// Without a password the error is the plain EncryptedError.
	if _, err := Pdftotext(context.Background(), encrypted, ""); errors.Is(err, ErrPdftotextPassword) || !errors.As(err, &ee) {
		t.Errorf("encrypted file without a password: err = %v", err)
	}
	got, err := os.ReadFile(argv)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), "-enc\n"); n != 3 {
		t.Fatalf("pdftotext ran %d times, want 3:\n%s", n, got)
	}
	if strings.Contains(string(got), secret) || strings.Contains(string(got), "-upw") || strings.Contains(string(got), "-opw") {
		t.Errorf("the password reached pdftotext's command line:\n%s", got)
	}
}
