// Package fakecmd puts stand-ins for external programs first on PATH, so
// tests can see exactly how thesisdb runs them.
package fakecmd

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Pdftotext puts first on PATH a pdftotext that appends its argv to the
// returned file, one argument a line, and, for an input that has
// /Encrypt, fails the way poppler does without the right password;
// otherwise it prints "fake text".
func Pdftotext(t testing.TB) string {
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
