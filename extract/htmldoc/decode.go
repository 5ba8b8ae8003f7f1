package htmldoc

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"

	"github.com/thesisdb/thesisdb/internal/lazyre"
)

// metaCharsetRe finds a charset declared in a <meta> tag, for pages that
// declare it past the first 1024 bytes the HTML standard's prescan reads.
var metaCharsetRe = lazyre.New(`(?i)<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_:.\-]+)`)

// decode converts a page's bytes to UTF-8: a byte-order mark wins, then
// bytes that are valid UTF-8 are taken as such (a page's declaration is
// often wrong in that direction, never the other), then the charset of the
// Content-Type header, then a <meta> declaration, and Windows-1252 last.
// It returns the name of the encoding used and a warning when it had to
// overrule or guess.
func decode(data []byte, contentType string) (out []byte, name, warning string, err error) {
	e, name, certain := charset.DetermineEncoding(data, contentType)
	hasBOM := certain && (bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) ||
		bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}))
	switch {
	case hasBOM:
		// The BOM decides.
	case utf8.Valid(data):
		if certain && name != "utf-8" && hasHighBytes(data) {
			warning = fmt.Sprintf("declared charset %s, but the page is valid UTF-8: decoded as UTF-8", name)
		}
		return data, "utf-8", warning, nil
	case certain:
		// The header's charset.
	default:
		head := data
		if len(head) > 64<<10 {
			head = head[:64<<10]
		}
		if m := metaCharsetRe().FindSubmatch(head); m != nil {
			if me, mn := charset.Lookup(string(m[1])); me != nil {
				e, name = me, mn
				break
			}
		}
		if name == "utf-8" {
			// Declared or guessed UTF-8, but it is not: the usual culprit.
			e, name = charset.Lookup("windows-1252")
			warning = "not valid UTF-8: decoded as Windows-1252"
		}
	}
	if name == "utf-8" || e == encoding.Nop {
		data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
		if utf8.Valid(data) {
			return data, "utf-8", warning, nil
		}
		return bytes.ToValidUTF8(data, []byte("\uFFFD")), "utf-8", "invalid UTF-8 sequences dropped", nil
	}
	out, err = e.NewDecoder().Bytes(data)
	if err != nil {
		return nil, name, "", fmt.Errorf("decode %s: %w", name, err)
	}
	return bytes.TrimPrefix(out, []byte("\uFEFF")), name, warning, nil
}

func hasHighBytes(data []byte) bool {
	for _, c := range data {
		if c >= 0x80 {
			return true
		}
	}
	return false
}
