//go:build unix

package verifier

import (
	"syscall"
	"time"
)

// cpuTime is the process's user plus system CPU time (benchmarks report
// CPU per item, which other load on a shared machine changes less than
// wall time).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
