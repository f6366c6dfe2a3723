package smtprelay

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestGoPoolReusesGoroutines: functions run one after another share one
// goroutine; functions that overlap get goroutines of their own; idle
// goroutines end after the idle time and at stop.
func TestGoPoolReusesGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	p := newGoPool(300 * time.Millisecond)
	// A function handed over after another ended runs on its goroutine.
	first, second := make(chan string, 1), make(chan string, 1)
	p.run(func() { first <- goid() })
	g1 := <-first
	select {
	case p.work <- func() { second <- goid() }: // taken only by an idle goroutine
	case <-time.After(5 * time.Second):
		t.Fatal("no goroutine waits for work after its function ended")
	}
	if g2 := <-second; g2 != g1 {
		t.Errorf("second function ran on goroutine %s, want %s (reused)", g2, g1)
	}
	// run hands work to that idle goroutine: one after another, 20
	// functions share few goroutines (one, unless the machine is so busy
	// that the goroutine is not back waiting within 5 ms).
	var ids sync.Map
	for i := 0; i < 20; i++ {
		done := make(chan struct{})
		p.run(func() {
			ids.Store(goid(), true)
			close(done)
		})
		<-done
		time.Sleep(5 * time.Millisecond)
	}
	n := 0
	ids.Range(func(any, any) bool { n++; return true })
	if n > 10 {
		t.Errorf("20 functions one after another ran on %d goroutines, want them reused", n)
	}

	// Overlapping functions: each runs at once, none waits for another.
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(5)
	for i := 0; i < 5; i++ {
		p.run(func() { started.Done(); <-release })
	}
	started.Wait() // would hang if run queued a function behind a busy one
	close(release)

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > base {
		t.Errorf("%d goroutines left after the idle time, want %d", g, base)
	}

	// After stop, idle goroutines end at once and run still runs f.
	p = newGoPool(time.Hour)
	done := make(chan struct{})
	p.run(func() { close(done) })
	<-done
	p.stop()
	ran := make(chan struct{})
	p.run(func() { close(ran) })
	<-ran
	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > base {
		t.Errorf("%d goroutines left after stop, want %d", g, base)
	}
}

// goid returns the current goroutine's id (from its stack header).
func goid() string {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := buf[:n]
	// "goroutine 123 [running]:..."
	for i := len("goroutine "); i < len(b); i++ {
		if b[i] == ' ' {
			return string(b[len("goroutine "):i])
		}
	}
	return string(b)
}
