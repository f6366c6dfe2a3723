package main

import (
	"runtime"
	"testing"
)

// The gateway runs on all CPUs but one, at least one, unless GOMAXPROCS
// is set; serve may run more than once in a process and gets the same.
func TestTuneProcs(t *testing.T) {
	for cpus, want := range map[int]int{1: 1, 2: 1, 3: 2, 8: 7, 64: 63} {
		if got := gatewayProcs(cpus); got != want {
			t.Errorf("gatewayProcs(%d) = %d, want %d", cpus, got, want)
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	unset := func(string) string { return "" }
	want := gatewayProcs(startProcs)
	for range 3 {
		if got := tuneProcs(unset); got != want {
			t.Fatalf("tuneProcs = %d, want %d (of %d)", got, want, startProcs)
		}
	}
	runtime.GOMAXPROCS(startProcs)
	set := func(k string) string {
		if k == "GOMAXPROCS" {
			return "3"
		}
		return ""
	}
	if got := tuneProcs(set); got != startProcs {
		t.Errorf("with GOMAXPROCS set, tuneProcs changed it to %d (was %d)", got, startProcs)
	}
}
