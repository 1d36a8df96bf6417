package router

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bascule/bascule/feature"
)

// benchUpstream answers every request with a short body, like a health page.
func benchUpstream(b *testing.B) string {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok")
	}))
	b.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// benchRouter returns the base URL of a router (preview on, as in
// production) in front of one upstream, served by its fast path, or by
// net/http alone when viaNetHTTP is set.
func benchRouter(b *testing.B, viaNetHTTP bool) string {
	b.Helper()
	r := New(Options{PreviewToken: "tok", PreviewHosts: []string{"preview.example.com"}})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: benchUpstream(b)}})
	if viaNetHTTP {
		srv := httptest.NewServer(r)
		b.Cleanup(srv.Close)
		return srv.URL
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := NewServer("", r)
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// benchGet does one GET and drains the body so the connection is reused.
func benchGet(b *testing.B, c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

func BenchmarkProxy(b *testing.B) {
	url := benchRouter(b, false) + "/"
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	for b.Loop() {
		benchGet(b, c, url)
	}
}

// BenchmarkProxyTwoInstances is BenchmarkProxyParallel with the live
// color on two instances: the cost of choosing one and recording answers.
func BenchmarkProxyTwoInstances(b *testing.B) {
	r := New(Options{})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: JoinAddrs([]string{benchUpstream(b), benchUpstream(b)})}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := NewServer("", r)
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String() + "/"
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGet(b, c, url)
		}
	})
}

func BenchmarkProxyParallel(b *testing.B) {
	url := benchRouter(b, false) + "/"
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchGet(b, c, url)
		}
	})
}

// BenchmarkProxyNetHTTP is BenchmarkProxy through net/http's server and
// ReverseProxy, the path requests the fast path hands over take.
func BenchmarkProxyNetHTTP(b *testing.B) {
	url := benchRouter(b, true) + "/"
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	for b.Loop() {
		benchGet(b, c, url)
	}
}

// BenchmarkDirect is the baseline: the same client and upstream without
// the router, so the router's own cost is Proxy minus Direct.
func BenchmarkDirect(b *testing.B) {
	url := "http://" + benchUpstream(b) + "/"
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	for b.Loop() {
		benchGet(b, c, url)
	}
}

// discardWriter is a ResponseWriter that keeps nothing, to measure the
// router's handler alone.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkServeHTTP measures Router.ServeHTTP alone (routing, preview
// matching, ReverseProxy, transport) with no client or server around it.
func BenchmarkServeHTTP(b *testing.B) {
	r := New(Options{PreviewToken: "tok"})
	r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: benchUpstream(b)}})
	req := httptest.NewRequest("GET", "http://app.example/", nil)
	req.Header.Set("Cookie", "session=abc; theme=dark")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		r.ServeHTTP(w, req)
	}
}

// Flush makes discardWriter an http.Flusher, as the real server's writer is.
func (w *discardWriter) Flush() {}

// BenchmarkProxySplit is BenchmarkProxy with requests that carry a cohort
// cookie, as browsers do during a progressive go-live, through a router
// with no split (atomic: one color live) and with a 50 % split in progress
// (each request's cookie bucketed with the flags' function): the cost of a
// progressive go-live is split minus atomic.
//
// The new-users case sends no cookie, as the benchmark harness's clients
// do: every request is a first visit that gets a cohort and a Set-Cookie.
func BenchmarkProxySplit(b *testing.B) {
	for _, bc := range []struct {
		name          string
		split, cookie bool
	}{{"atomic", false, true}, {"split", true, true}, {"atomic-new-users", false, false}, {"split-new-users", true, false}} {
		split := bc.split
		b.Run(bc.name, func(b *testing.B) {
			r := New(Options{PreviewToken: "tok", PreviewHosts: []string{"preview.example.com"}, Bucket: feature.Bucket})
			r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: benchUpstream(b), Green: benchUpstream(b)}})
			if split {
				if err := r.SetSplit(&Split{To: Green, Weight: Buckets / 2, Salt: "bench"}); err != nil {
					b.Fatal(err)
				}
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := NewServer("", r)
			go srv.Serve(ln)
			b.Cleanup(func() { srv.Close() })
			reqs := make([]*http.Request, 64)
			for i := range reqs {
				reqs[i], _ = http.NewRequest("GET", "http://"+ln.Addr().String()+"/", nil)
				if bc.cookie {
					reqs[i].Header.Set("Cookie", fmt.Sprintf("session=abc; bascule_cohort=user-%d", i))
				}
			}
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				resp, err := c.Do(reqs[i%len(reqs)])
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				i++
			}
		})
	}
}

// BenchmarkAcquire is the routing decision alone, without the network: a
// color of one instance, as before colors had several, and of two.
func BenchmarkAcquire(b *testing.B) {
	for _, up := range []string{"127.0.0.1:1", "127.0.0.1:1,127.0.0.1:2"} {
		b.Run(fmt.Sprintf("instances=%d", strings.Count(up, ",")+1), func(b *testing.B) {
			r := New(Options{})
			r.Install(Table{Live: Blue, Upstreams: map[Color]string{Blue: up}})
			var h requestHead
			b.ReportAllocs()
			for b.Loop() {
				u, _, _ := r.acquire(r.edge.Load(), false, &h)
				u.release()
			}
		})
	}
}
