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
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/client"
	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/store"
)

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
	// The apps' host is the root namespace's first address (the
	// gateway), the control plane its second: a router's host can be cut
	// off from the control plane alone.
	netnstest.Require(t) // a loud skip without root or iproute2, a failure with CI=true
	nw := netnstest.New(t)
	appsAddr, controlAddr := nw.Gateway().String(), nw.AddAddr()
	blue, green := appOn(t, "v1", appsAddr), appOn(t, "v2", appsAddr)
	in := newStaticInstance(t, blue.staticApp, green.staticApp, "drain_timeout: 5s\n")
	in.control = net.JoinHostPort(controlAddr.String(), portOf(t, in.control))
	yaml, _ := os.ReadFile(in.config)
	yaml = []byte(strings.Replace(string(yaml), "control: 127.0.0.1:", "control: "+controlAddr.String()+":", 1))
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
	var hosts []*netnstest.Host
	for i := 1; i <= 3; i++ {
		host := nw.AddHost()
		hosts = append(hosts, host)
		p := &routerProc{t: t, id: fmt.Sprintf("r%d", i), listen: net.JoinHostPort(host.Addr.String(), "8080"), dir: t.TempDir(),
			control: "http://" + in.control, token: token}
		p.startIn(host)
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
	apps := map[string]userClock{"v1": blue, "v2": green}
	ctx := context.Background()
	began, sentBefore := time.Now(), l.total.Load()
	time.Sleep(time.Second) // steady load first; nothing to await
	calls, spreads := switchCycles(t, in, l, addrs, apps, 4, "netns test")
	rate := float64(l.total.Load()-sentBefore) / time.Since(began).Seconds()
	t.Logf("load: %.0f requests a second through 3 routers on 3 hosts; %d sent, %d failed", rate, l.total.Load(), l.failed.Load())
	t.Logf("switch call (all 4 routers installed and drained): %s", summary(calls))
	t.Logf("call to every router answering from the new release: %s", summary(spreads))

	// r2's host loses its route to the control plane; users still reach it.
	if err := hosts[1].Partition(controlAddr, true); err != nil {
		t.Fatal(err)
	}
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
	if err := hosts[1].Partition(controlAddr, false); err != nil {
		t.Fatal(err)
	}
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

// startIn starts the router on host, in its network namespace.
func (p *routerProc) startIn(host *netnstest.Host) {
	self, _ := os.Executable()
	p.cmd = host.Command(context.Background(), self, "router", "--control", p.control, "--listen", p.listen,
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
	waitFor(p.t, 20*time.Second, "router "+p.id+" to listen in "+host.Name, func() bool {
		c, err := net.DialTimeout("tcp", p.listen, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}
