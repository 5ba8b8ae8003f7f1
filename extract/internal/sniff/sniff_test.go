package sniff

import (
	"strings"
	"testing"
)

func TestBinary(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want bool
	}{
		{"prose", "Spreads are 284 bps.\r\n\tIndented.\f", false},
		{"empty", "", false},
		{"NUL", "PK\x03\x04\x00\x00", true},
		{"control bytes", strings.Repeat("ab\x01\x02", 10), true},
		{"a few controls in much text", strings.Repeat("a", 100) + "\x01", false},
		{"NUL after 8 KiB is not looked at", strings.Repeat("a", 9000) + "\x00", false},
	} {
		if got := Binary([]byte(tc.data)); got != tc.want {
			t.Errorf("%s: Binary = %v, want %v", tc.name, got, tc.want)
		}
	}
}
