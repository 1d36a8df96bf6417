package router

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// watchAfter is how long a request may wait for or stream its response
// before the fast path starts watching its client for a hang-up. Quick
// requests never pay for the watch.
const watchAfter = 100 * time.Millisecond

// clientWatch notices a client that hangs up while its request is with the
// upstream, so that the upstream connection is cut rather than left working
// for nobody (a long poll, a quiet event stream) and Drain is not kept
// waiting for it; or while its request waits in line for a busy app, so
// that it leaves the line instead of reaching the app for nobody. net/http
// does this with a background read on every request; the fast path starts
// one only for requests still running (or waiting) after watchAfter, since
// a goroutine hand-off per request is what it avoids.
type clientWatch struct {
	cr    *connReader
	timer *time.Timer

	mu       sync.Mutex
	state    watchState
	upstream net.Conn      // cut when the client is gone; nil while queued
	abort    chan struct{} // closed when the client is gone; nil unless queued
	done     chan struct{}

	stopping atomic.Bool // the read ends because stop asked
	gone     atomic.Bool // the client hung up
}

type watchState uint8

const (
	watchOff watchState = iota
	watchArmed
	watchRunning
)

// arm starts the countdown for a request whose upstream connection is up.
func (w *clientWatch) arm(up net.Conn) {
	w.mu.Lock()
	w.state, w.upstream, w.abort = watchArmed, up, nil
	w.gone.Store(false)
	if w.timer == nil {
		w.timer = time.AfterFunc(watchAfter, w.fire)
	} else {
		w.timer.Reset(watchAfter)
	}
	w.mu.Unlock()
}

// armQueued watches the client of a request that has waited watchAfter for
// a slot at a busy app, at once; abort is closed if the client hangs up.
func (w *clientWatch) armQueued(abort chan struct{}) {
	w.mu.Lock()
	w.state, w.upstream, w.abort = watchArmed, nil, abort
	w.gone.Store(false)
	w.mu.Unlock()
	go w.fire()
}

// fire runs on the timer's goroutine, or on armQueued's: it reads from the
// client until the client sends something, hangs up, or stop interrupts the
// read.
func (w *clientWatch) fire() {
	w.mu.Lock()
	if w.state != watchArmed {
		w.mu.Unlock()
		return
	}
	w.state = watchRunning
	w.done = make(chan struct{})
	done, up, abort := w.done, w.upstream, w.abort
	// The connection may still carry the idle deadline of its wait for
	// this request; the watch must not mistake that for a hang-up.
	w.cr.nc.SetReadDeadline(time.Time{})
	w.mu.Unlock()
	defer close(done)
	n, err := w.cr.nc.Read(w.cr.stash[:])
	if n == 1 {
		w.cr.has = true // the start of a pipelined request: kept for the next read
		return
	}
	if err != nil && !w.stopping.Load() {
		w.gone.Store(true)
		if up != nil {
			up.SetDeadline(aLongTimeAgo)
		}
		if abort != nil {
			close(abort)
		}
	}
}

// stop ends the watch of the current request; once it returns nothing reads
// from the client but the connection's own loop.
func (w *clientWatch) stop() {
	w.mu.Lock()
	state := w.state
	w.state = watchOff
	if state == watchArmed && w.timer != nil {
		w.timer.Stop() // a fire already queued finds the watch off
	}
	if state != watchRunning {
		w.mu.Unlock()
		return
	}
	w.stopping.Store(true)
	w.cr.nc.SetReadDeadline(aLongTimeAgo)
	done := w.done
	w.mu.Unlock()
	<-done
	w.stopping.Store(false)
}

// connReader is what a fast-path connection's read buffer reads from: the
// connection, after any byte the watch read first.
type connReader struct {
	nc    net.Conn
	rd    io.Reader // nc's reads, raw where possible (newRawIO)
	stash [1]byte
	has   bool
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.has && len(p) > 0 {
		p[0], r.has = r.stash[0], false
		return 1, nil
	}
	return r.rd.Read(p)
}
