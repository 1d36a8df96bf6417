package router

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// colorAfter is the live color after k alternating switches from blue.
func colorAfter(k int64) Color {
	if k%2 == 0 {
		return Blue
	}
	return Green
}

// TestSwitchUnderLoad: 50 switches under load from 8 clients, half of them
// keeping connections alive. Run as well with a concurrency limit below the
// number of clients, so that requests are queued in the router across the
// switches and drains.
func TestSwitchUnderLoad(t *testing.T) {
	t.Run("no limit", func(t *testing.T) { testSwitchUnderLoad(t, Options{}) })
	t.Run("limit 2", func(t *testing.T) { testSwitchUnderLoad(t, Options{Concurrency: 2}) })
}

func testSwitchUnderLoad(t *testing.T, opts Options) {
	// drained[i] is set once Drain returned for that color after a switch
	// away from it; any request reaching it then escaped the in-flight count.
	var drained [2]atomic.Bool
	var escaped atomic.Int64
	guard := func(c Color) http.Handler {
		i, _ := c.slot()
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if drained[i].Load() {
				escaped.Add(1)
			}
			_, _ = io.WriteString(w, string(c))
		})
	}
	r, blue, green := newPair(t, opts, guard(Blue), guard(Green))
	addrOf := map[Color]string{Blue: blue.addr, Green: green.addr}
	base := serve(t, r)
	const clients, switches = 8, 50

	// begun is raised before Switch(k) and finished after it returns, so a
	// request that starts after finished==k and ends before begun moves past
	// k ran entirely under switch k and must be answered by colorAfter(k).
	var begun, finished atomic.Int64
	verified := make([]atomic.Int64, clients) // last k each client saw answered right
	var requests, failures, reused atomic.Int64
	var mu sync.Mutex
	var problems []string
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}

	ctx, stop := context.WithTimeout(context.Background(), 40*time.Second) // bounds the load loop
	defer stop()
	var wg sync.WaitGroup
	// peakQueued samples the router's queues, to show that the limited run
	// did queue requests across the switches (not a synchronisation).
	var peakQueued atomic.Int64
	wg.Go(func() {
		for ctx.Err() == nil {
			if q := r.Queued(blue.addr) + r.Queued(green.addr); q > peakQueued.Load() {
				peakQueued.Store(q)
			}
			time.Sleep(50 * time.Microsecond)
		}
	})
	for i := range clients {
		keepAlive := i%2 == 0
		c := newClient(keepAlive)
		wg.Go(func() {
			for ctx.Err() == nil {
				k := finished.Load()
				got, err := fetchColor(ctx, c, base, &reused)
				if ctx.Err() != nil {
					return
				}
				requests.Add(1)
				if err != nil {
					failures.Add(1)
					report("client %d (keep-alive %v): %v", i, keepAlive, err)
					continue
				}
				if begun.Load() != k {
					continue // a switch overlapped this request: either color is right
				}
				if got != colorAfter(k) {
					failures.Add(1)
					report("client %d (keep-alive %v): after switch #%d to %s, request answered by %s", i, keepAlive, k, colorAfter(k), got)
					continue
				}
				verified[i].Store(k)
			}
		})
	}
	for k := int64(1); k <= switches; k++ {
		from, to := colorAfter(k-1), colorAfter(k)
		i, _ := to.slot()
		drained[i].Store(false)
		begun.Store(k)
		if err := r.Switch(to); err != nil {
			t.Fatalf("Switch #%d: %v", k, err)
		}
		finished.Store(k)
		drainCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := r.Drain(drainCtx, addrOf[from])
		cancel()
		if err != nil {
			t.Fatalf("Drain(%s) after switch #%d: %v", from, k, err)
		}
		i, _ = from.slot()
		drained[i].Store(true)
		waitFor(t, fmt.Sprintf("every client's first request after switch #%d", k), 20*time.Second, func() bool {
			for i := range verified {
				if verified[i].Load() < k && failures.Load() == 0 {
					return false
				}
			}
			return true
		})
		if failures.Load() > 0 {
			break
		}
	}
	stop()
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed or went to the wrong color during %d switches:\n%v", n, requests.Load(), switches, problems)
	}
	if n := escaped.Load(); n > 0 {
		t.Errorf("%d requests reached a color after Drain said nothing was in flight to it", n)
	}
	if reused.Load() == 0 {
		t.Errorf("no request reused a kept-alive connection; the keep-alive half of the test proved nothing")
	}
	if opts.Concurrency > 0 && peakQueued.Load() == 0 {
		t.Errorf("no request was ever queued under a limit of %d for %d clients; the limited run proved nothing", opts.Concurrency, clients)
	}
	t.Logf("%d requests (%d on reused connections, at most %d queued) across %d switches, none failed",
		requests.Load(), reused.Load(), peakQueued.Load(), switches)
}

// fetchColor GETs base and returns the color that answered; any non-200 is
// an error. It counts requests sent on a reused connection.
func fetchColor(ctx context.Context, c *http.Client, base string, reused *atomic.Int64) (Color, error) {
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if i.Reused {
			reused.Add(1)
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), "GET", base+"/", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return Color(resp.Header.Get("X-Color")), nil
}

func TestKeepAliveConnectionSurvivesSwitch(t *testing.T) {
	r, _, _ := newPair(t, Options{}, nil, nil)
	base := serve(t, r)
	c := newClient(true)
	fetch := func() (Color, bool) {
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req := mustRequest(t, "GET", base+"/")
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		_, color, _ := get(t, c, req)
		return Color(color), reused
	}
	if got, _ := fetch(); got != Blue {
		t.Fatalf("first request answered by %s, want blue", got)
	}
	if err := r.Switch(Green); err != nil {
		t.Fatal(err)
	}
	got, reused := fetch()
	if got != Green || !reused {
		t.Errorf("request after Switch(green): answered by %s on reused conn %v, want green on the same kept-alive conn", got, reused)
	}
}
