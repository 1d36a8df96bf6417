package flagclient

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Reconnection timing. The delay doubles from minBackoff after each failure,
// up to maxBackoff or the poll interval, whichever is smaller, with jitter so
// that a fleet of clients does not reconnect in step after a server restart.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
	// stableStream is how long a stream must have lasted for its end to
	// reset the backoff; a stream that keeps dying at once keeps backing off.
	stableStream = 10 * time.Second
	// requestTimeout bounds a poll.
	requestTimeout = 30 * time.Second
)

// run keeps the snapshot current until ctx ends: it streams, and whenever the
// stream cannot be established it polls once and waits before trying again,
// so a server without streaming (or a proxy that breaks it) is still polled
// every PollInterval.
func (c *Client) run(ctx context.Context) {
	defer close(c.done)
	b := backoff{max: min(maxBackoff, c.poll)}
	for {
		started := time.Now()
		established, err := c.stream(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := b.next()
		switch {
		case established:
			if time.Since(started) >= stableStream {
				b.reset()
				wait = b.next()
			}
			c.log.Info("flag stream ended; reconnecting", "err", err, "in", wait)
		case errors.Is(err, errStreamUnsupported):
			c.log.Debug("flag stream unsupported; polling", "err", err, "every", c.poll)
			wait = c.poll
			c.timedPoll(ctx)
		default:
			c.log.Warn("flag stream unavailable; polling meanwhile", "err", err, "retry_in", wait)
			c.timedPoll(ctx)
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

func (c *Client) timedPoll(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	c.pollOnce(pctx)
}

// sleep waits d or until ctx ends, and reports whether it waited the full d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// backoff is exponential backoff with jitter: the n-th delay is drawn from
// [d/2, d] where d = minBackoff·2ⁿ, capped at max.
type backoff struct {
	max     time.Duration
	attempt int
}

func (b *backoff) next() time.Duration {
	d := b.max
	if b.attempt < 30 { // beyond that the shift overflows; max applies anyway
		d = min(minBackoff<<b.attempt, b.max)
	}
	b.attempt++
	half := d / 2
	return half + rand.N(half+1)
}

func (b *backoff) reset() { b.attempt = 0 }
