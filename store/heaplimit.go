package store

/*
#include <stdint.h>

// From the SQLite that go-sqlite3 compiles in.
int64_t sqlite3_hard_heap_limit64(int64_t n);
*/
import "C"

import "errors"

// ErrQueryMemory is returned when SQLite needs more memory for a query
// than LimitSQLiteMemory allows.
var ErrQueryMemory = errors.New("the query needs more memory than allowed")

// QueryMemory is the SQLite memory a process that only runs one query
// with these limits should allow: room for two values of the largest size
// plus page cache and sorting.
func (l Limits) QueryMemory() int64 {
	return 2*int64(l.valueLimit()) + 64<<20
}

// LimitSQLiteMemory caps the memory SQLite may allocate in this whole
// process (sqlite3_hard_heap_limit64); an allocation past it fails the
// statement with "out of memory" instead of growing. It is for processes
// that only query, such as `thesisdb query`: it also applies to writers.
// It returns the previous limit (0: none), to restore.
func LimitSQLiteMemory(n int64) int64 {
	return int64(C.sqlite3_hard_heap_limit64(C.int64_t(n)))
}
