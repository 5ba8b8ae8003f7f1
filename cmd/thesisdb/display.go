package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Status lines show file names, titles and error messages that come from
// untrusted documents. A raw newline, escape sequence or direction override
// in them would forge or scramble lines on the user's terminal, so they are
// escaped in human output; JSON output escapes by itself.

// needsEscape reports whether r cannot be shown as is on a status line:
// control, formatting (bidirectional overrides, zero-width), line and
// paragraph separators, private-use or unassigned characters.
func needsEscape(r rune) bool {
	return r != ' ' && !unicode.IsGraphic(r)
}

func clean(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		}
		if needsEscape(r) {
			return false
		}
	}
	return true
}

// displayName returns a file name or URL for a status line: as it is when
// every character is printable, else Go-quoted ("note\n.txt") so that the
// escapes cannot be mistaken for the name's own characters.
func displayName(s string) string {
	if clean(s) {
		return s
	}
	return strconv.Quote(s)
}

// displayText returns free text (an error message, a warning) with each
// character that needsEscape written as its Go escape (\n, \x1b, \u202e)
// and invalid UTF-8 as \xNN; printable text is unchanged.
func displayText(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case needsEscape(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
