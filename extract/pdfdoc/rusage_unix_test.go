//go:build unix

package pdfdoc

import "syscall"

// childCPU is the CPU time, in seconds, used by the finished child
// processes of this one (the OCR programs, for BenchmarkOCRPage).
func childCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
