package fleet

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// cutter is a TCP proxy to the control plane that a test can cut, as a
// network partition would: open connections go silent (not closed), new
// ones are held unanswered.
type cutter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	isCut  bool
	conns  []net.Conn
}

func startCutter(t *testing.T, controlURL string) *cutter {
	t.Helper()
	u, err := url.Parse(controlURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, target: u.Host}
	t.Cleanup(func() {
		ln.Close()
		c.mu.Lock()
		for _, cn := range c.conns {
			cn.Close()
		}
		c.mu.Unlock()
	})
	go c.accept()
	return c
}

func (c *cutter) url() string { return "http://" + c.ln.Addr().String() }

func (c *cutter) accept() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		c.conns = append(c.conns, in)
		cut := c.isCut
		c.mu.Unlock()
		if cut {
			continue // held open, never answered
		}
		out, err := net.DialTimeout("tcp", c.target, time.Second)
		if err != nil {
			in.Close()
			continue
		}
		c.mu.Lock()
		c.conns = append(c.conns, out)
		c.mu.Unlock()
		go c.pipe(out, in)
		go c.pipe(in, out)
	}
}

// pipe copies while not cut; once cut, what arrives is dropped.
func (c *cutter) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			c.mu.Lock()
			cut := c.isCut
			c.mu.Unlock()
			if !cut {
				dst.Write(buf[:n])
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.isCut = true
}

// restore lets new connections through and closes the silenced ones, as
// their peers' timeouts would in time.
func (c *cutter) restore() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.isCut = false
	for _, cn := range c.conns {
		cn.Close()
	}
	c.conns = nil
}

func get(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("GET through %s: %v", addr, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
