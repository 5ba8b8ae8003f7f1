package store

/*
#include <stdlib.h>

// sqlite3_complete is SQLite's own statement splitter (the sqlite3 shell
// uses it); the SQLite that go-sqlite3 compiles in provides it.
int sqlite3_complete(const char *sql);
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// MaxSQLBytes bounds the text of one query.
const MaxSQLBytes = 1 << 20

// ErrMultipleStatements is returned for SQL holding more than one
// statement where exactly one is run.
var ErrMultipleStatements = errors.New("more than one SQL statement")

// ErrNoStatement is returned for SQL that is empty or only comments.
var ErrNoStatement = errors.New("no SQL statement (the text is empty or only comments)")

// statements splits q into its statements the way SQLite's tokenizer does
// (semicolons inside strings, quoted names, comments and trigger bodies do
// not end a statement) and drops the empty ones: whitespace, comments and
// stray semicolons. Each statement keeps its terminating semicolon, if any.
func statements(ctx context.Context, q string) ([]string, error) {
	if i := strings.IndexByte(q, 0); i >= 0 {
		return nil, fmt.Errorf("the SQL contains a NUL byte at offset %d", i)
	}
	if len(q) > MaxSQLBytes {
		return nil, fmt.Errorf("the SQL is %d bytes, more than the %d allowed", len(q), MaxSQLBytes)
	}
	if strings.IndexByte(q, ';') < 0 {
		if blankSQL(q) {
			return nil, nil
		}
		return []string{q}, nil
	}
	// One C copy of the text; each candidate end is tested by cutting it
	// there with a NUL and asking sqlite3_complete whether the text from
	// the current statement's start ends a statement.
	buf := C.CString(q)
	defer C.free(unsafe.Pointer(buf))
	b := unsafe.Slice((*byte)(unsafe.Pointer(buf)), len(q)+1)
	var out []string
	start := 0
	for i := 0; i < len(q); i++ {
		if q[i] != ';' {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		saved := b[i+1]
		b[i+1] = 0
		done := C.sqlite3_complete((*C.char)(unsafe.Pointer(&b[start]))) != 0
		b[i+1] = saved
		if !done {
			continue
		}
		if s := q[start : i+1]; !blankSQL(s) {
			out = append(out, s)
		}
		start = i + 1
	}
	if s := q[start:]; !blankSQL(s) {
		out = append(out, s)
	}
	return out, nil
}

// oneStatement returns the single statement q holds; trailing (or
// leading) whitespace, comments and semicolons are dropped.
func oneStatement(ctx context.Context, q string) (string, error) {
	stmts, err := statements(ctx, q)
	if err != nil {
		return "", err
	}
	switch len(stmts) {
	case 0:
		return "", ErrNoStatement
	case 1:
		return stmts[0], nil
	}
	return "", fmt.Errorf("%w: the SQL holds %d statements (the second starts %q); run one at a time",
		ErrMultipleStatements, len(stmts), preview(stmts[1]))
}

// preview is the start of a statement for an error message, on one line.
func preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// blankSQL reports whether s holds only whitespace, comments and
// semicolons, as SQLite's tokenizer reads them. s starts where a statement
// may start, so no string or quoted name is open.
func blankSQL(s string) bool {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ';':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return true
			}
			i += j + 1
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			// An unterminated block comment runs to the end of the text.
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return true
			}
			i += 2 + j + 2
		default:
			return false
		}
	}
	return true
}
