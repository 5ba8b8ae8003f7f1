package extract

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadDoesNotDecode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.txt")
	data := []byte("\x00\x01 not text")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := Read(context.Background(), p, nil)
	if err != nil {
		t.Fatalf("Read = %v; reading must not decode", err)
	}
	sum := sha256.Sum256(data)
	if raw.SHA256 != hex.EncodeToString(sum[:]) || raw.Kind != "text" || raw.Source != p {
		t.Errorf("raw = %+v", raw)
	}
	if _, err := raw.Decode(context.Background()); !errors.Is(err, ErrBinary) {
		t.Errorf("Decode = %v, want ErrBinary", err)
	}
}

func TestDecodeText(t *testing.T) {
	utf16le := []byte{0xFF, 0xFE}
	for _, r := range "Yield 4.2%\r\nCafé" {
		utf16le = append(utf16le, byte(r), byte(r>>8))
	}
	for _, tc := range []struct {
		name, in, want string
		warn           bool
		err            error
	}{
		{"utf-8", "Yield 4.2%\nCafé", "Yield 4.2%\nCafé", false, nil},
		{"utf-8 BOM and CRLF", "\xEF\xBB\xBFYield 4.2%\r\nCafé\r", "Yield 4.2%\nCafé\n", false, nil},
		{"utf-16 LE BOM", string(utf16le), "Yield 4.2%\nCafé", false, nil},
		{"windows-1252", "Caf\xe9 \x93quoted\x94 \x80100", "Café “quoted” €100", true, nil},
		{"blank lines folded, trailing spaces trimmed", "a  \n\n\n\nb\t", "a\n\nb", false, nil},
		{"binary", "\x7fELF\x02\x01\x01\x00\x00", "", false, ErrBinary},
	} {
		got, warn, err := DecodeText([]byte(tc.in))
		if !errors.Is(err, tc.err) || got != tc.want || (warn != "") != tc.warn {
			t.Errorf("%s: DecodeText = %q, %q, %v; want %q, warning %v, %v", tc.name, got, warn, err, tc.want, tc.warn, tc.err)
		}
	}
}

func TestTitleLine(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		// A research platform's badges come before the heading.
		{"Bearish\nsector\nactive\n\nRefining Margins Normalise Lower\n\nNew refineries will push spreads down.", "Refining Margins Normalise Lower"},
		{"\n\n  Copper's Supply Squeeze  \nbody", "Copper's Supply Squeeze"},
		// No heading-like line among the first five: the first line.
		{"a\nb\nc\nd\ne\nTwo words", "a"},
		{"Copper\n" + strings.Repeat("long prose ", 20), "Copper"},
		{"", ""},
	} {
		if got := TitleLine(c.text); got != c.want {
			t.Errorf("TitleLine(%.40q) = %q, want %q", c.text, got, c.want)
		}
	}
}
