package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// HealthCheck says how to decide that an instance is healthy. Its zero
// value checks "/" every second with a five-second timeout, and one good
// answer is enough.
type HealthCheck struct {
	// Path is the URL path to GET; "/" if empty.
	Path string
	// Interval is the pause between two checks; 1s if zero.
	Interval time.Duration
	// Timeout bounds one check; 5s if zero.
	Timeout time.Duration
	// HealthyThreshold is how many consecutive good answers make the
	// instance healthy; 1 if zero.
	HealthyThreshold int
}

func (hc HealthCheck) withDefaults() HealthCheck {
	if hc.Path == "" {
		hc.Path = "/"
	}
	if hc.Interval <= 0 {
		hc.Interval = time.Second
	}
	if hc.Timeout <= 0 {
		hc.Timeout = 5 * time.Second
	}
	if hc.HealthyThreshold <= 0 {
		hc.HealthyThreshold = 1
	}
	return hc
}

// prober sends health checks to one address over one keep-alive
// connection pool, so repeated checks do not pile up sockets in TIME_WAIT.
type prober struct {
	url    string
	hc     HealthCheck
	client *http.Client
}

func newProber(addr string, hc HealthCheck) *prober {
	return &prober{
		url: "http://" + addr + hc.Path,
		hc:  hc,
		client: &http.Client{
			// A zero Transport ignores HTTP_PROXY: health checks must go
			// straight to the slot.
			Transport: &http.Transport{MaxIdleConnsPerHost: 1},
			// A redirect is an answer: the app is up. Following it could
			// leave the slot (e.g. to a login page elsewhere).
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

func (p *prober) close() { p.client.CloseIdleConnections() }

// probe sends one GET and returns nil for a 2xx or 3xx answer.
func (p *prober) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.hc.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return fmt.Errorf("health check GET %s: %w", p.hc.Path, err)
	}
	req.Header.Set("User-Agent", "bascule-health")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("health check GET %s: %w", p.hc.Path, err)
	}
	// Drain a little so the connection can be reused for the next check.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		return &statusError{path: p.hc.Path, status: resp.Status}
	}
	return nil
}

// statusError is a check that got an answer, but a bad one.
type statusError struct{ path, status string }

func (e *statusError) Error() string {
	return fmt.Sprintf("health check GET %s: %s", e.path, e.status)
}

// Probe runs one health check against addr ("127.0.0.1:PORT"). It returns
// nil for a 2xx or 3xx answer (redirects are not followed), else an error
// that names the path and the status or the connection error.
func Probe(ctx context.Context, addr string, hc HealthCheck) error {
	p := newProber(addr, hc.withDefaults())
	defer p.close()
	return p.probe(ctx)
}

// WaitHealthy polls http://addr+Path until HealthyThreshold consecutive
// 2xx/3xx answers, or ctx ends. It returns early with an error matching
// ErrExited if exited is closed, since a dead process will not become
// healthy; a nil exited channel is never closed. The error on ctx end wraps
// ctx.Err() and reads like "health check GET /healthz: 500 Internal Server
// Error after 12 tries".
func WaitHealthy(ctx context.Context, addr string, hc HealthCheck, exited <-chan struct{}) error {
	hc = hc.withDefaults()
	p := newProber(addr, hc)
	defer p.close()
	var tries, good int
	var last error
	for {
		// A dead process is checked first: it ends the wait even while
		// probes still happen to succeed (a forked child holding the port).
		select {
		case <-exited:
			return fmt.Errorf("health check GET %s: %w before becoming healthy (%d tries)", hc.Path, ErrExited, tries)
		default:
		}
		if ctx.Err() != nil {
			return waitError(ctx, hc, tries, good, last)
		}
		tries++
		err := p.probe(ctx)
		switch {
		case err == nil:
			if good++; good >= hc.HealthyThreshold {
				return nil
			}
			last = nil
		case ctx.Err() == nil:
			// A check cut short by ctx says nothing about the app: keep
			// the previous answer for the message.
			good, last = 0, err
		}
		pause(ctx, hc.Interval, exited)
	}
}

// pause waits d, or less when ctx ends or exited is closed; the caller's
// loop then tells which.
func pause(ctx context.Context, d time.Duration, exited <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-exited:
	}
}

// WaitAllHealthy is WaitHealthy for a slot of several instances: it
// returns nil once every address in addrs is healthy, and else the first
// failure, naming its address when there are several. exited[i], if
// present and not nil, is closed when the instance at addrs[i] dies.
// A slot is ready only when all its instances are: one that never becomes
// healthy is a broken release, not a spare.
func WaitAllHealthy(ctx context.Context, addrs []string, hc HealthCheck, exited []<-chan struct{}) error {
	if len(addrs) == 1 {
		return WaitHealthy(ctx, addrs[0], hc, exitedAt(exited, 0))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(addrs))
	for i, a := range addrs {
		go func() {
			err := WaitHealthy(ctx, a, hc, exitedAt(exited, i))
			if err != nil {
				err = fmt.Errorf("instance %s: %w", a, err)
			}
			errs <- err
		}()
	}
	var first error
	for range addrs {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel() // the others' answers no longer matter
		}
	}
	return first
}

func exitedAt(exited []<-chan struct{}, i int) <-chan struct{} {
	if i < len(exited) {
		return exited[i]
	}
	return nil
}

// waitError describes why WaitHealthy gave up when ctx ended.
func waitError(ctx context.Context, hc HealthCheck, tries, good int, last error) error {
	var se *statusError
	switch {
	case last == nil:
		return fmt.Errorf("health check GET %s: %d of %d consecutive good answers after %d tries: %w",
			hc.Path, good, hc.HealthyThreshold, tries, ctx.Err())
	case errors.As(last, &se):
		return fmt.Errorf("health check GET %s: %s after %d tries: %w", hc.Path, se.status, tries, ctx.Err())
	default:
		return fmt.Errorf("%w after %d tries: %w", last, tries, ctx.Err())
	}
}
