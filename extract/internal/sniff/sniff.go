// Package sniff tells text from binary data for the loaders.
package sniff

import "bytes"

// Binary reports whether data holds NUL bytes or more than 5% control
// characters in its first 8 KiB: images, archives, executables rather than
// text.
func Binary(data []byte) bool {
	head := data
	if len(head) > 8192 {
		head = head[:8192]
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	ctl := 0
	for _, c := range head {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1b {
			ctl++
		}
	}
	return ctl*20 > len(head)
}
