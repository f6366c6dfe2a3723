// Package cputime reads the CPU time the process has used, for benchmarks
// that report work per CPU second as well as per wall second: on a shared
// machine the wall clock also counts time other processes had the CPU.
// The benchmarks of detectors and of gateway (which builds on detectors)
// use it; nothing outside tests does.
package cputime

import "time"

// Process returns the user plus system CPU time of the process so far, or
// 0 where it is not measured (then benchmarks report no CPU figure).
func Process() time.Duration { return process() }
