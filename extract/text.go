package extract

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/thesisdb/thesisdb/extract/internal/sniff"
	"github.com/thesisdb/thesisdb/schema"
)

func init() {
	register("text", loadText, ".txt", ".text")
	register("markdown", loadMarkdown, ".md", ".markdown")
}

func loadText(_ context.Context, data []byte, doc *schema.Document, _ *Options) error {
	text, warn, err := DecodeText(data)
	if err != nil {
		return err
	}
	if warn != "" {
		doc.Warnings = append(doc.Warnings, warn)
	}
	doc.Text = text
	return nil
}

var frontMatterRe = regexp.MustCompile(`(?s)\A---\n(.*?)\n---\n`)

func loadMarkdown(ctx context.Context, data []byte, doc *schema.Document, o *Options) error {
	if err := loadText(ctx, data, doc, o); err != nil {
		return err
	}
	// YAML front matter: take title, author and date; keep the body.
	if m := frontMatterRe.FindStringSubmatch(doc.Text); m != nil {
		for _, line := range strings.Split(m[1], "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			v = strings.Trim(strings.TrimSpace(v), `"'`)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "title":
				doc.Title = v
			case "author", "by":
				doc.Author = v
			case "date", "published", "updated":
				doc.Published = v
			}
		}
		doc.Text = doc.Text[len(m[0]):]
	}
	if doc.Title == "" {
		for _, line := range strings.Split(doc.Text, "\n") {
			if h, ok := strings.CutPrefix(strings.TrimSpace(line), "# "); ok {
				doc.Title = strings.TrimSpace(h)
				break
			}
		}
	}
	return nil
}

var (
	utf8BOM    = []byte{0xEF, 0xBB, 0xBF}
	utf16LEBOM = []byte{0xFF, 0xFE}
	utf16BEBOM = []byte{0xFE, 0xFF}
)

// DecodeText turns the bytes of a plain-text file into a string with "\n"
// line endings: UTF-8 (with or without BOM), UTF-16 with a BOM, and
// otherwise Windows-1252, in which case warning says so. Binary content is
// refused with ErrBinary.
func DecodeText(data []byte) (text, warning string, err error) {
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		data = data[len(utf8BOM):]
	case bytes.HasPrefix(data, utf16LEBOM), bytes.HasPrefix(data, utf16BEBOM):
		dec := xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder()
		out, _, err := transform.Bytes(dec, data)
		if err != nil {
			return "", "", errorf(ErrBinary, "invalid UTF-16: %v", err)
		}
		data = out
	}
	if sniff.Binary(data) {
		return "", "", errorf(ErrBinary, "it contains NUL or control bytes (is it an image, archive or executable?)")
	}
	if utf8.Valid(data) {
		text = string(data)
	} else {
		out, err := charmap.Windows1252.NewDecoder().Bytes(data)
		if err != nil {
			return "", "", errorf(ErrBinary, "neither UTF-8 nor Windows-1252: %v", err)
		}
		text = string(out)
		warning = "not valid UTF-8: decoded as Windows-1252"
	}
	return CleanText(text), warning, nil
}

var blankRunRe = regexp.MustCompile(`\n{3,}`)

// CleanText normalises line endings to "\n", drops control characters
// other than tab and newline, trims trailing spaces and folds runs of
// blank lines to one.
func CleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\f' || r == '\v':
			return '\n'
		case r == utf8.RuneError, r == '\uFEFF', unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return blankRunRe.ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
}
