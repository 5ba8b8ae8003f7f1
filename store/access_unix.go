//go:build unix

package store

import "syscall"

// accessible reports whether this process may access path as mode asks
// (read 4, write 2, search 1), by the permissions of the user running thesisdb.
func accessible(path string, mode uint32) bool {
	return syscall.Access(path, mode) == nil
}
