package pdfdoc

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// PdftotextAvailable reports whether poppler's pdftotext is on PATH.
func PdftotextAvailable() bool {
	_, err := exec.LookPath("pdftotext")
	return err == nil
}

// maxPdftotextOutput caps the text pdftotext may print for one file.
const maxPdftotextOutput = 256 << 20

// ErrPdftotextPassword means a PDF needs a password and pdftotext cannot
// be given it safely: pdftotext takes passwords only as command-line
// arguments, which every user of the machine can read (ps, /proc).
var ErrPdftotextPassword = errors.New("pdftotext cannot be given the password without exposing it on its command line")

// Pdftotext extracts the text of data with poppler's pdftotext, the
// optional external engine. It returns pages only; metadata stays empty.
// The password is never passed to pdftotext, since a command line is
// readable by everyone: a file that needs one fails with an error that
// wraps both ErrPdftotextPassword (when a password was set) and an
// *EncryptedError.
func Pdftotext(ctx context.Context, data []byte, password string) (*Document, error) {
	if err := sniff(data); err != nil {
		return nil, err
	}
	res, err := runTool(ctx, data, maxPdftotextOutput, nil, "pdftotext", "-q", "-enc", "UTF-8", "-", "-")
	if err != nil {
		if errors.Is(err, ErrTimeout) || errors.Is(err, errOutputLimit) {
			return nil, err
		}
		msg := res.stderr
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			switch ee.ExitCode() {
			case 1:
				if strings.Contains(msg, "password") || encryptInfo(data).present {
					ee := &EncryptedError{Method: encryptInfo(data).method, NeedsUserPassword: true, Reason: "pdftotext: " + msg}
					if password != "" {
						return nil, fmt.Errorf("%w: %w", ErrPdftotextPassword, ee)
					}
					return nil, ee
				}
				return nil, &CorruptError{Reason: "pdftotext: " + firstNonEmpty(msg, "cannot open the file")}
			case 3:
				return nil, &EncryptedError{Method: encryptInfo(data).method, Reason: "pdftotext: copying text is not permitted"}
			}
		}
		return nil, fmt.Errorf("pdftotext: %w: %s", err, msg)
	}
	doc := &Document{}
	pages := strings.Split(string(res.stdout), "\f")
	if n := len(pages); n > 1 && strings.TrimSpace(pages[n-1]) == "" {
		pages = pages[:n-1]
	}
	for _, p := range pages {
		doc.Pages = append(doc.Pages, strings.TrimSpace(p))
	}
	if strings.TrimSpace(doc.Text()) == "" {
		return nil, ErrNoText
	}
	return doc, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// Garbled reports whether text looks like a failed decoding rather than
// language: too few letters, or many replacement or control characters.
func Garbled(text string) bool {
	letters, odd, total := 0, 0, 0
	for _, r := range text {
		switch {
		case r == ' ' || r == '\n' || r == '\t':
			continue
		case r == '\uFFFD' || (r < 0x20) || (r >= 0x80 && r < 0xA0):
			odd++
		case isLetter(r):
			letters++
		}
		total++
	}
	if total == 0 {
		return true
	}
	return odd*10 > total || letters*2 < total
}
