//go:build !unix

package pdfdoc

// childCPU is unknown outside Unix.
func childCPU() float64 { return 0 }
