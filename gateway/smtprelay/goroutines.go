package smtprelay

import (
	"sync"
	"time"
)

// goPool runs functions on goroutines that, when done, wait a while for
// the next one. A connection's goroutine and an inspection's go deep (the
// SMTP dialogue into the relay's handlers; the MIME walk into archives),
// and a new goroutine grows its stack again, copying it several times, on
// every message: about 2 % of the relay's CPU at 100 KB a message. Reused,
// the grown stack serves the next (the garbage collector still shrinks
// stacks that stay idle).
type goPool struct {
	work chan func() // unbuffered: a send succeeds only to an idle goroutine
	idle time.Duration

	stopOnce sync.Once
	done     chan struct{}
}

func newGoPool(idle time.Duration) *goPool {
	return &goPool{work: make(chan func()), idle: idle, done: make(chan struct{})}
}

// run runs f on an idle goroutine of the pool, or on a new one; it never
// waits for f.
func (p *goPool) run(f func()) {
	select {
	case p.work <- f:
	default:
		go p.loop(f)
	}
}

// loop runs f, then what run hands it, until it has been idle for p.idle
// or the pool is stopped.
func (p *goPool) loop(f func()) {
	var t *time.Timer
	for {
		f()
		f = nil // keep nothing alive while idle
		if t == nil {
			t = time.NewTimer(p.idle)
		} else {
			t.Reset(p.idle)
		}
		select {
		case f = <-p.work:
		case <-t.C:
			return
		case <-p.done:
			t.Stop()
			return
		}
	}
}

// stop ends the idle goroutines; functions run later get goroutines of
// their own, which end with them.
func (p *goPool) stop() { p.stopOnce.Do(func() { close(p.done) }) }
