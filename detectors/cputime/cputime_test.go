package cputime

import (
	"runtime"
	"testing"
	"time"
)

// TestProcessCountsWork: spinning for 50 ms of wall time adds CPU time (on
// unix, where it is measured).
func TestProcessCountsWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("CPU time is not measured on " + runtime.GOOS)
	}
	before := Process()
	x := 0
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		x++
	}
	if d := Process() - before; d < 10*time.Millisecond {
		t.Fatalf("50 ms of spinning added %v of CPU time (x=%d)", d, x)
	}
}
