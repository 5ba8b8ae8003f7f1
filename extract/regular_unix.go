//go:build unix

package extract

import "syscall"

// oNonblock keeps open(2) from waiting for a writer when the path turned
// into a named pipe after it was checked; reads of a regular file ignore it.
const oNonblock = syscall.O_NONBLOCK
