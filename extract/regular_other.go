//go:build !unix

package extract

// oNonblock is 0 where opening a named pipe is not a blocking open(2).
const oNonblock = 0
