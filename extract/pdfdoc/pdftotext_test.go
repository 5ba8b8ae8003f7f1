package pdfdoc

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/thesisdb/thesisdb/internal/fakecmd"
	"github.com/thesisdb/thesisdb/internal/hostile"
)

func TestPdftotextNeverGetsThePassword(t *testing.T) {
	argv := fakecmd.Pdftotext(t)
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
