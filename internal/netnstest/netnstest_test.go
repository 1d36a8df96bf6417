package netnstest_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/netnstest"
)

// The test binary doubles as the program run on a host: with
// NETNSTEST_SERVE=addr it serves HTTP there and answers with its own
// address as the host sees it; with NETNSTEST_GET=url it fetches url and
// prints the body.
func TestMain(m *testing.M) {
	if addr := os.Getenv("NETNSTEST_SERVE"); addr != "" {
		serve(addr)
		return
	}
	if url := os.Getenv("NETNSTEST_GET"); url != "" {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_, _ = io.Copy(os.Stdout, resp.Body)
		return
	}
	code := m.Run()
	netnstest.Report()
	os.Exit(code)
}

func serve(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("listening")
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		fmt.Fprintf(w, "hello %s", host)
	}))
}

// startServer runs the test binary as an HTTP server on h and waits until
// it listens.
func startServer(t *testing.T, h *netnstest.Host) string {
	t.Helper()
	addr := net.JoinHostPort(h.Addr.String(), "8080")
	cmd := h.Command(context.Background(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NETNSTEST_SERVE="+addr)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "listening\n" {
		t.Fatalf("server on %s: %q, %v", h.Name, line, err)
	}
	return addr
}

func get(url string) (string, error) {
	resp, err := (&http.Client{Timeout: time.Second}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Hosts reach each other and the root namespace over the bridge, each
// with its own address, and a host whose link is down is cut off until it
// comes back.
func TestHostsTalkOverTheNetwork(t *testing.T) {
	netnstest.Require(t)
	nw := netnstest.New(t)
	a, b := nw.AddHost(), nw.AddHost()
	if a.Addr == b.Addr || a.Addr == nw.Gateway() {
		t.Fatalf("addresses not distinct: %s %s gateway %s", a.Addr, b.Addr, nw.Gateway())
	}
	addr := startServer(t, a)

	// From the root namespace: the server sees the gateway's address.
	body, err := get("http://" + addr + "/")
	if err != nil || body != "hello "+nw.Gateway().String() {
		t.Fatalf("root → a: %q, %v", body, err)
	}

	// From host b: the server sees b's address, not loopback.
	cmd := b.Command(context.Background(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NETNSTEST_GET=http://"+addr+"/")
	outb, err := cmd.Output()
	if err != nil || string(outb) != "hello "+b.Addr.String() {
		t.Fatalf("b → a: %q, %v", outb, err)
	}

	// The server's loopback is its own: nothing listens on the root's.
	cmd = b.Command(context.Background(), "ip", "-o", "-4", "addr", "show", "dev", "eth0")
	if out, err := cmd.Output(); err != nil || !strings.Contains(string(out), b.Addr.String()+"/24") {
		t.Fatalf("b's eth0: %q, %v", out, err)
	}

	if err := a.LinkDown(); err != nil {
		t.Fatal(err)
	}
	if body, err := get("http://" + addr + "/"); err == nil {
		t.Fatalf("a reachable with its link down: %q", body)
	}
	if err := a.LinkUp(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		body, err := get("http://" + addr + "/")
		if err == nil && body == "hello "+nw.Gateway().String() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a not back after LinkUp: %q, %v", body, err)
		}
		time.Sleep(10 * time.Millisecond) // a retry's pause, not a wait for an event
	}
}

// Two networks of one process get distinct subnets and names.
func TestNetworksDoNotOverlap(t *testing.T) {
	netnstest.Require(t)
	n1, n2 := netnstest.New(t), netnstest.New(t)
	h1, h2 := n1.AddHost(), n2.AddHost()
	if n1.Gateway() == n2.Gateway() || h1.Name == h2.Name {
		t.Fatalf("networks overlap: %s/%s %s/%s", n1.Gateway(), h1.Name, n2.Gateway(), h2.Name)
	}
}

// A namespace left by a test process that was killed is deleted by the
// next New.
func TestOrphansAreReaped(t *testing.T) {
	netnstest.Require(t)
	pid := deadPID(t)
	name := fmt.Sprintf("bn%dz", pid)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	netnstest.New(t)
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), name) {
		t.Fatalf("orphan %s still there:\n%s", name, out)
	}
}

// deadPID returns a PID below 100000 that no process has, and no process
// whose PID ends in its digits.
func deadPID(t *testing.T) int {
	for pid := 99999; pid > 1000; pid-- {
		alive := false
		for p := pid; p < 4194304; p += 100000 {
			if syscall.Kill(p, 0) == nil {
				alive = true
				break
			}
		}
		if !alive {
			return pid
		}
	}
	t.Fatal("no free PID")
	return 0
}

// A partition cuts a host off from one address of the root namespace
// only, both ways, and lifts cleanly: the host still reaches the gateway.
func TestPartitionCutsOnePeer(t *testing.T) {
	netnstest.Require(t)
	nw := netnstest.New(t)
	peer := nw.AddAddr()
	if peer == nw.Gateway() {
		t.Fatalf("AddAddr = the gateway %s", peer)
	}
	h := nw.AddHost()
	if h.Addr == peer {
		t.Fatalf("host and AddAddr share %s", peer)
	}
	addr := startServer(t, h)
	// The root namespace reaching h from peer's address, and from the
	// gateway's.
	from := func(src string) (string, error) {
		c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{
			LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}).DialContext}}
		resp, err := c.Get("http://" + addr + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if body, err := from(peer.String()); err != nil || body != "hello "+peer.String() {
		t.Fatalf("from %s before the partition: %q, %v", peer, body, err)
	}
	if err := h.Partition(peer, true); err != nil {
		t.Fatal(err)
	}
	if body, err := from(peer.String()); err == nil {
		t.Fatalf("from %s during the partition: %q, want no answer", peer, body)
	}
	if body, err := from(nw.Gateway().String()); err != nil || body != "hello "+nw.Gateway().String() {
		t.Fatalf("from the gateway during the partition: %q, %v; want an answer", body, err)
	}
	if err := h.Partition(peer, false); err != nil {
		t.Fatal(err)
	}
	if body, err := from(peer.String()); err != nil || body != "hello "+peer.String() {
		t.Fatalf("from %s after the partition: %q, %v", peer, body, err)
	}
}

// A partition still in force when the test ends is lifted with the
// network: no rule of it is left in the root namespace.
func TestPartitionLiftedAtCleanup(t *testing.T) {
	netnstest.Require(t)
	var peer netip.Addr
	t.Run("cut", func(t *testing.T) {
		nw := netnstest.New(t)
		peer = nw.AddAddr()
		if err := nw.AddHost().Partition(peer, true); err != nil {
			t.Fatal(err)
		}
	})
	out, err := exec.Command("ip", "rule", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "from "+peer.String()+" ") {
		t.Errorf("a partition's rule outlived its network:\n%s", out)
	}
}
