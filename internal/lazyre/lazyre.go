// Package lazyre compiles a package's regular expressions on first use
// rather than at process start: every thesisdb process links every
// package (a query, each document-parsing worker) but uses few of them.
package lazyre

import (
	"fmt"
	"regexp"
	"sync"
)

var (
	mu  sync.Mutex
	all []lazy
)

type lazy struct {
	expr string
	get  func() *regexp.Regexp
}

// New returns a function that compiles expr on its first call, panicking
// as regexp.MustCompile does if it is invalid, and returns the same
// Regexp after.
func New(expr string) func() *regexp.Regexp {
	f := sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
	mu.Lock()
	all = append(all, lazy{expr, f})
	mu.Unlock()
	return f
}

// CompileAll compiles every expression New has been given so far and
// returns how many there are, or the first that does not compile: a test
// calls it so that a bad expression fails there, not in use.
func CompileAll() (n int, err error) {
	mu.Lock()
	list := append([]lazy(nil), all...)
	mu.Unlock()
	for _, l := range list {
		if _, err := regexp.Compile(l.expr); err != nil {
			return 0, fmt.Errorf("lazyre: %w", err)
		}
		l.get()
	}
	return len(list), nil
}
