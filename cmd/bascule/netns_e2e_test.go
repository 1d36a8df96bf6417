//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/store"
)

// hosts is a small network of machines made of Linux network namespaces:
// a bridge in this namespace (the "apps" host at .1, the control plane at
// .2, both on the bridge) and one namespace per router host, each joined
// to the bridge by a veth pair. The addresses exist only on these virtual
// links; no packet leaves the machine.
type hosts struct {
	t      *testing.T
	prefix string // names of links and namespaces start with it
	bridge string
}

const netPrefix = "10.231.77." // a /24 no interface here uses

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newHosts builds the bridge, or skips the test (loudly) where it cannot:
// it needs root and iproute2 (mandatory with CI=true).
func newHosts(t *testing.T) *hosts {
	t.Helper()
	netnstest.Require(t) // a loud skip without root or iproute2, a failure with CI=true
	h := &hosts{t: t, prefix: fmt.Sprintf("bsc%d", os.Getpid()%100000)}
	h.bridge = h.prefix + "br"
	t.Cleanup(h.teardown)
	sh(t, "ip", "link", "add", h.bridge, "type", "bridge")
	sh(t, "ip", "addr", "add", netPrefix+"1/24", "dev", h.bridge)
	sh(t, "ip", "addr", "add", netPrefix+"2/24", "dev", h.bridge)
	sh(t, "ip", "link", "set", h.bridge, "up")
	return h
}

// host adds namespace i, reachable at netPrefix+(10+i), and returns its name.
func (h *hosts) host(i int) (ns, addr string) {
	t := h.t
	ns = fmt.Sprintf("%sn%d", h.prefix, i)
	veth, peer := fmt.Sprintf("%sv%d", h.prefix, i), fmt.Sprintf("%sp%d", h.prefix, i)
	addr = fmt.Sprintf("%s%d", netPrefix, 10+i)
	sh(t, "ip", "netns", "add", ns)
	sh(t, "ip", "link", "add", veth, "type", "veth", "peer", "name", peer)
	sh(t, "ip", "link", "set", peer, "netns", ns)
	sh(t, "ip", "link", "set", veth, "master", h.bridge)
	sh(t, "ip", "link", "set", veth, "up")
	sh(t, "ip", "netns", "exec", ns, "ip", "addr", "add", addr+"/24", "dev", peer)
	sh(t, "ip", "netns", "exec", ns, "ip", "link", "set", peer, "up")
	sh(t, "ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
	return ns, addr
}

// partition cuts the link between the control plane and the router host
// ns at addr both ways, or restores it: in ns, a blackhole route to the
// control plane's address; here, a rule that drops what the control
// plane's address sends to addr. Users (from this host's first address)
// still reach the router.
func (h *hosts) partition(ns, addr string, cut bool) {
	op := "add"
	if !cut {
		op = "del"
	}
	sh(h.t, "ip", "netns", "exec", ns, "ip", "route", op, "blackhole", netPrefix+"2/32")
	sh(h.t, "ip", "rule", op, "from", netPrefix+"2", "to", addr, "blackhole")
}

func (h *hosts) teardown() {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for line := range strings.SplitSeq(string(out), "\n") {
		if name, _, _ := strings.Cut(line, " "); strings.HasPrefix(name, h.prefix) {
			exec.Command("ip", "netns", "del", name).Run()
		}
	}
	// The host sides of the veth pairs go with their namespaces, but not
	// always at once: delete them too.
	out, _ = exec.Command("ip", "-o", "link", "show", "master", h.bridge).Output()
	for line := range strings.SplitSeq(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			exec.Command("ip", "link", "del", name).Run()
		}
	}
	exec.Command("ip", "link", "del", h.bridge).Run()
}

// appOn is a timed app listening on addr (the apps' host).
func appOn(t *testing.T, name, addr string) *timedApp {
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	a := newTimedApp(t, name)
	a.srv.Close()
	srv := httptest.NewUnstartedServer(a.srv.Config.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	a.srv = srv
	return a
}

// TestFleetAcrossNetworkNamespaces: the fleet test with each router on a
// host of its own (a network namespace), the apps and the control plane on
// another, under steady load: go-live and rollback cycles with no failure
// and no request to the old color after a call returns; then one router
// cut off from the control plane (its own routing, not a proxy) is named
// as lagging, keeps serving its last table, and converges once the link
// is back.
func TestFleetAcrossNetworkNamespaces(t *testing.T) {
	h := newHosts(t)
	blue, green := appOn(t, "v1", netPrefix+"1"), appOn(t, "v2", netPrefix+"1")
	in := newStaticInstance(t, blue.staticApp, green.staticApp, "drain_timeout: 5s\n")
	in.control = fmt.Sprintf("%s2:%s", netPrefix, portOf(t, in.control))
	yaml, _ := os.ReadFile(in.config)
	yaml = []byte(strings.Replace(string(yaml), "control: 127.0.0.1:", "control: "+netPrefix+"2:", 1))
	os.WriteFile(in.config, yaml, 0o644)
	in.cl = &client.Client{BaseURL: "http://" + in.control, Token: adminToken}
	in.start()
	in.liveWith("v1")
	in.addRelease("v2", "")
	if d := in.deploy("v2"); d.State != store.StateReady {
		t.Fatalf("deploy v2 = %s (%s)", d.State, d.Error)
	}
	_, token, err := in.cl.CreateToken(context.Background(), "edge", store.RoleRouter, "")
	if err != nil {
		t.Fatal(err)
	}
	var routers []*routerProc
	var nss []string
	for i := 1; i <= 3; i++ {
		ns, addr := h.host(i)
		nss = append(nss, ns)
		p := &routerProc{t: t, id: fmt.Sprintf("r%d", i), listen: addr + ":8080", dir: t.TempDir(),
			control: "http://" + in.control, token: token}
		p.startIn(ns)
		t.Cleanup(p.stop)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("router %s said:\n%s", p.id, p.out)
			}
		})
		routers = append(routers, p)
	}
	waitFor(t, 20*time.Second, "three routers on three hosts in step", func() bool { return confirmed(t, in.cl, "r1", "r2", "r3") })
	addrs := addrsOf(routers)
	l := startFleetLoad(t, 1000, addrs)
	apps := map[string]*timedApp{"v1": blue, "v2": green}
	ctx := context.Background()
	began, sentBefore := time.Now(), l.total.Load()
	time.Sleep(time.Second) // steady load first; nothing to await
	calls, spreads := switchCycles(t, in, l, addrs, apps, 4, "netns test")
	rate := float64(l.total.Load()-sentBefore) / time.Since(began).Seconds()
	t.Logf("load: %.0f requests a second through 3 routers on 3 hosts; %d sent, %d failed", rate, l.total.Load(), l.failed.Load())
	t.Logf("switch call (all 4 routers installed and drained): %s", summary(calls))
	t.Logf("call to every router answering from the new release: %s", summary(spreads))

	// r2's host loses its route to the control plane; users still reach it.
	r2host, _, _ := net.SplitHostPort(routers[1].listen)
	h.partition(nss[1], r2host, true)
	t.Cleanup(func() { exec.Command("ip", "rule", "del", "from", netPrefix+"2", "to", r2host, "blackhole").Run() })
	start := time.Now()
	_, err = in.cl.GoLive(ctx, "netns partition")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != "switch_incomplete" || !strings.Contains(ce.Message, "router r2") ||
		strings.Contains(ce.Message, "router r1") || strings.Contains(ce.Message, "router r3") {
		t.Fatalf("go-live with r2's host cut off from the control plane = %v, want switch_incomplete naming r2 only", err)
	}
	t.Logf("go-live with r2 cut off answered after %s: %s", time.Since(start).Round(time.Millisecond), ce.Message)
	if rel, _ := get(t, http.DefaultClient, "http://"+routers[1].listen+"/"); rel != "v1" {
		t.Errorf("r2, cut off, answers from %s, want v1 (its last table)", rel)
	}
	h.partition(nss[1], r2host, false)
	back := time.Now()
	waitFor(t, 30*time.Second, "r2 to install the newest generation after the partition", func() bool { return confirmed(t, in.cl, "r1", "r2", "r3") })
	t.Logf("r2 in step %s after its route came back", time.Since(back).Round(time.Millisecond))
	l.end()
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d requests failed; first: %v", n, l.firstErr.Load())
	}
	if rel, _ := get(t, http.DefaultClient, "http://"+routers[1].listen+"/"); rel != "v2" {
		t.Errorf("r2 after the partition answers from %s, want v2", rel)
	}
}

func portOf(t *testing.T, addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// startIn starts the router in network namespace ns.
func (p *routerProc) startIn(ns string) {
	self, _ := os.Executable()
	p.cmd = exec.Command("ip", "netns", "exec", ns, self, "router", "--control", p.control, "--listen", p.listen,
		"--data", p.dir, "--id", p.id)
	p.cmd.Env = append(os.Environ(), "BASCULE_E2E_EXEC=1", "BASCULE_TOKEN="+p.token)
	p.out = &syncBuffer{}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.exited = make(chan struct{})
	cmd, exited := p.cmd, p.exited
	go func() { cmd.Wait(); close(exited) }()
	waitFor(p.t, 20*time.Second, "router "+p.id+" to listen in "+ns, func() bool {
		c, err := net.DialTimeout("tcp", p.listen, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}
