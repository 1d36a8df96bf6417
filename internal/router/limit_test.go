package router

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// holdingApp is an upstream whose /hold requests wait for the test to let
// them go, so a test controls how many the app works on at once.
type holdingApp struct {
	mu      sync.Mutex
	active  int // requests in the handler now
	peak    int // most requests in the handler at once
	arrived chan string
	release chan struct{}
	freed   sync.Once
}

func newHoldingApp() *holdingApp {
	return &holdingApp{arrived: make(chan string, 100), release: make(chan struct{})}
}

// free lets every held request go, now and from now on. Tests also call it
// in a cleanup that runs before the upstream's, so that a failing test ends
// instead of waiting forever for its handlers.
func (a *holdingApp) free() { a.freed.Do(func() { close(a.release) }) }

func (a *holdingApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := r.URL.Query().Get("n")
	switch r.URL.Path {
	case "/hold":
		a.mu.Lock()
		a.active++
		a.peak = max(a.peak, a.active)
		a.mu.Unlock()
		a.arrived <- n
		<-a.release
		a.mu.Lock()
		a.active--
		a.mu.Unlock()
		_, _ = io.WriteString(w, "held "+n)
	case "/stream":
		// An SSE stream that stays open until the test ends it: its head
		// arrives at once, its end never does while the test runs.
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "data: open\n\n")
		w.(http.Flusher).Flush()
		<-a.release
	default:
		_, _ = io.WriteString(w, "quick")
	}
}

// fetch GETs url and sends "STATUS BODY", or the error's text, to out: for
// requests a test starts in the background and checks later.
func fetch(c *http.Client, url string, out chan<- string) {
	resp, err := c.Get(url)
	if err != nil {
		out <- err.Error()
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		out <- err.Error()
		return
	}
	out <- fmt.Sprintf("%d %s", resp.StatusCode, body)
}

// TestConcurrencyLimitQueuesInOrder: with a limit of 2, the app never works
// on more than 2 requests at once; the others wait in the router and reach
// the app in the order they came, and every one of them succeeds.
func TestConcurrencyLimitQueuesInOrder(t *testing.T) {
	bothFronts(t, testConcurrencyLimitQueuesInOrder)
}

func testConcurrencyLimitQueuesInOrder(t *testing.T, serve front) {
	app := newHoldingApp()
	r, blue, _ := newPair(t, Options{Concurrency: 2}, app, nil)
	base := serve(t, r)
	t.Cleanup(app.free) // before the servers close: nothing may still be held
	c := newClient(true)

	const n = 6
	results := make(chan string, n)
	send := func(i int) { fetch(c, fmt.Sprintf("%s/hold?n=%d", base, i), results) }
	for i := range 2 {
		go send(i)
		<-app.arrived
	}
	// The rest queue one after the other, each sent once the one before
	// it is in line, so their order is known.
	for i := 2; i < n; i++ {
		go send(i)
		waitFor(t, fmt.Sprintf("request %d to queue", i), 5*time.Second, func() bool {
			return r.Queued(blue.addr) == int64(i-1)
		})
	}
	if got := r.InFlight(blue.addr); got != n {
		t.Errorf("InFlight = %d with %d requests held or queued, want %d", got, n, n)
	}
	// Let one request finish at a time: each frees one slot, which must go
	// to the request first in line.
	for i := 2; i < n; i++ {
		app.release <- struct{}{}
		if got, want := <-app.arrived, strconv.Itoa(i); got != want {
			t.Errorf("a freed slot went to request %s, want %s (first in line)", got, want)
		}
	}
	app.free()
	for range n {
		if got := <-results; !strings.HasPrefix(got, "200 held ") {
			t.Errorf("queued request = %q, want 200 held …", got)
		}
	}
	app.mu.Lock()
	defer app.mu.Unlock()
	if app.peak != 2 {
		t.Errorf("the app worked on %d requests at once, want at most (and, here, exactly) 2", app.peak)
	}
	if q := r.Queued(blue.addr); q != 0 {
		t.Errorf("Queued = %d once all answered, want 0", q)
	}
}

// TestConcurrencyLimitAnswers503AfterQueueTimeout: a request that finds no
// slot in time gets a 503 that says why, the held one still succeeds, and
// the slot it held is free again afterwards.
func TestConcurrencyLimitAnswers503AfterQueueTimeout(t *testing.T) {
	bothFronts(t, testConcurrencyLimitAnswers503AfterQueueTimeout)
}

func testConcurrencyLimitAnswers503AfterQueueTimeout(t *testing.T, serve front) {
	app := newHoldingApp()
	var observed []int
	var mu sync.Mutex
	r, _, _ := newPair(t, Options{Concurrency: 1, QueueTimeout: 50 * time.Millisecond,
		Observe: func(_ Color, status int, _ time.Duration) {
			mu.Lock()
			observed = append(observed, status)
			mu.Unlock()
		}}, app, nil)
	base := serve(t, r)
	t.Cleanup(app.free) // before the servers close: nothing may still be held
	c := newClient(true)

	held := make(chan string, 1)
	go fetch(c, base+"/hold?n=first", held)
	<-app.arrived

	resp, err := c.Get(base + "/quick")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "bascule: the release on blue is busy: it is already working on 1 requests, and this one waited 50ms for its turn\n"
	if resp.StatusCode != http.StatusServiceUnavailable || string(body) != want {
		t.Errorf("request over the limit = %d %q, want 503 %q", resp.StatusCode, body, want)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("503 Content-Type = %q", ct)
	}

	app.free()
	if got := <-held; got != "200 held first" {
		t.Errorf("held request = %q, want 200 held first", got)
	}
	if code, _, body := get(t, c, mustRequest(t, "GET", base+"/quick")); code != http.StatusOK || body != "quick" {
		t.Errorf("request after the held one = %d %q, want 200 quick: its slot was not given back", code, body)
	}
	// Observe runs after the answer is written: wait for all three.
	waitFor(t, "three observed requests", 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(observed) == 3
	})
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(observed)
	if fmt.Sprint(observed) != "[200 200 503]" {
		t.Errorf("Observe saw statuses %v, want 200, 200 and 503", observed)
	}
}

// TestConcurrencyLimitFreesSlotOnceStreamBegins: a stream (SSE) holds its
// slot only until its head arrives, so a limit of 1 does not lock every
// other request out while it stays open.
func TestConcurrencyLimitFreesSlotOnceStreamBegins(t *testing.T) {
	bothFronts(t, testConcurrencyLimitFreesSlotOnceStreamBegins)
}

func testConcurrencyLimitFreesSlotOnceStreamBegins(t *testing.T, serve front) {
	app := newHoldingApp()
	r, _, _ := newPair(t, Options{Concurrency: 1, QueueTimeout: 5 * time.Second}, app, nil)
	base := serve(t, r)
	t.Cleanup(app.free) // before the servers close: nothing may still be held

	resp, err := newClient(true).Get(base + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: open\n" {
		t.Fatalf("stream's first line = %q, %v", line, err)
	}
	if code, _, body := get(t, newClient(true), mustRequest(t, "GET", base+"/quick")); code != http.StatusOK || body != "quick" {
		t.Errorf("request beside an open stream = %d %q, want 200 quick", code, body)
	}
}

// TestConcurrencyLimitDropsQueuedRequestOfGoneClient: a client that hangs
// up while its request waits in line leaves the line; the request never
// reaches the app, which is busy enough already.
func TestConcurrencyLimitDropsQueuedRequestOfGoneClient(t *testing.T) {
	bothFronts(t, testConcurrencyLimitDropsQueuedRequestOfGoneClient)
}

func testConcurrencyLimitDropsQueuedRequestOfGoneClient(t *testing.T, serve front) {
	app := newHoldingApp()
	var quick sync.Map // ?n= of each /quick request the app saw
	r, blue, _ := newPair(t, Options{Concurrency: 1, QueueTimeout: 10 * time.Second},
		http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path == "/quick" {
				quick.Store(req.URL.Query().Get("n"), true)
			}
			app.ServeHTTP(w, req)
		}), nil)
	base := serve(t, r)
	t.Cleanup(app.free) // before the servers close: nothing may still be held
	c := newClient(true)

	held := make(chan string, 1)
	go fetch(c, base+"/hold?n=first", held)
	<-app.arrived

	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "GET /quick?n=gone HTTP/1.1\r\nHost: shop.example\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the request to queue", 5*time.Second, func() bool { return r.Queued(blue.addr) == 1 })
	conn.Close()
	waitFor(t, "the gone client's request to leave the line", 5*time.Second, func() bool { return r.Queued(blue.addr) == 0 })

	app.free()
	if got := <-held; got != "200 held first" {
		t.Fatalf("held request = %q, want 200 held first", got)
	}
	// First in line after the held one, had the gone request stayed.
	if code, _, body := get(t, c, mustRequest(t, "GET", base+"/quick?n=after")); code != http.StatusOK || body != "quick" {
		t.Fatalf("request after = %d %q, want 200 quick", code, body)
	}
	if _, ok := quick.Load("gone"); ok {
		t.Error("the request of a client that hung up while queued reached the app")
	}
}
