//go:build !unix

package pipeline

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
