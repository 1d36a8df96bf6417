// Package netnstest gives a test hosts of its own: Linux network
// namespaces, each with one address on a bridge the test creates, so that
// routers, control-plane instances and apps talk over a network instead of
// loopback, and a test can cut one host off (LinkDown) and bring it back.
//
// It is test support, like internal/pgtest: only _test.go files import it.
// It needs root and the `ip` command (iproute2). Without them, Require
// skips the test with a message visible without -v, except when $CI is
// true: there it fails, because the fleet tests are mandatory in CI.
//
// Everything is named after the test process's PID (bn<pid>…), and a new
// Network first deletes what a dead test process left behind, so a killed
// run leaves no namespaces or bridges for long. Traffic stays between the
// test's own hosts and the root namespace: the bridge is not forwarded
// anywhere.
package netnstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/testreport"
)

// ErrUnavailable is returned by Available when this machine or user cannot
// create network namespaces.
var ErrUnavailable = errors.New("network namespaces unavailable (need root and iproute2's `ip`); " +
	"the fleet tests are mandatory in CI")

// opTimeout bounds every `ip` command.
const opTimeout = 10 * time.Second

// skips reports the tests skipped for want of namespaces; TestMain of a
// package that uses Require calls Report.
var skips testreport.Skips

// Report writes the line for the tests skipped for want of namespaces; a
// package's TestMain calls it after m.Run.
func Report() { skips.Report() }

// networks numbers the networks of this process, for unique names and
// subnets.
var networks atomic.Uint32

// Available reports whether namespaces can be made here.
func Available() error {
	if testreport.Without("netns") {
		return ErrUnavailable
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not root", ErrUnavailable)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Require skips t when namespaces cannot be made here, or fails it when
// $CI is true.
func Require(t testing.TB) {
	t.Helper()
	err := Available()
	if err == nil {
		return
	}
	if testreport.Mandatory(os.Getenv) {
		t.Fatalf("netnstest: %v", err)
	}
	skips.Skip(t, err.Error())
}

// Network is a bridge in the root namespace with an address of a /24, and
// the hosts attached to it. The root namespace (where the test runs) is
// reachable from every host at Gateway.
type Network struct {
	t      testing.TB
	prefix string // names: prefix+"br", prefix+"h"+n, …
	subnet netip.Prefix
	bridge string

	mu    sync.Mutex
	last  netip.Addr // the last address handed out; the gateway's first
	hosts []*Host
	rules map[string][]string // partitions in force: the root namespace's rules to delete
}

// Host is a network namespace with one interface (eth0) on the network.
type Host struct {
	net  *Network
	Name string     // the namespace's name, as `ip netns` lists it
	Addr netip.Addr // its address on the network
	veth string     // the root side of its link
}

// New makes a network for t and removes it, with its hosts, in t.Cleanup.
// Call Require first.
func New(t testing.TB) *Network {
	t.Helper()
	reapOrphans()
	n := networks.Add(1)
	prefix := fmt.Sprintf("bn%d%c", os.Getpid()%100000, 'a'+rune(n%26))
	nw := &Network{t: t, prefix: prefix, bridge: prefix + "br", rules: map[string][]string{}}
	subnet, err := freeSubnet()
	if err != nil {
		t.Fatalf("netnstest: %v", err)
	}
	nw.subnet = subnet
	nw.last = nw.Gateway()
	t.Cleanup(nw.remove)
	gw := nw.Gateway()
	for _, args := range [][]string{
		{"link", "add", nw.bridge, "type", "bridge"},
		{"addr", "add", netip.PrefixFrom(gw, 24).String(), "dev", nw.bridge},
		{"link", "set", nw.bridge, "up"},
	} {
		if err := run(args...); err != nil {
			t.Fatalf("netnstest: make bridge: %v", err)
		}
	}
	return nw
}

// Gateway is the root namespace's address on the network: how a host
// reaches a server the test runs outside any namespace.
func (nw *Network) Gateway() netip.Addr { return nw.subnet.Addr().Next() }

// AddHost makes a namespace with an address on the network and the
// loopback interface up.
func (nw *Network) AddHost() *Host {
	nw.t.Helper()
	nw.mu.Lock()
	i := len(nw.hosts)
	nw.last = nw.last.Next()
	addr := nw.last
	h := &Host{net: nw, Name: fmt.Sprintf("%sh%d", nw.prefix, i), Addr: addr, veth: fmt.Sprintf("%sv%d", nw.prefix, i)}
	nw.hosts = append(nw.hosts, h)
	nw.mu.Unlock()
	peer := h.veth + "p"
	steps := [][]string{
		{"netns", "add", h.Name},
		{"link", "add", h.veth, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", h.Name},
		{"link", "set", h.veth, "master", nw.bridge},
		{"link", "set", h.veth, "up"},
		{"-n", h.Name, "link", "set", peer, "name", "eth0"},
		{"-n", h.Name, "addr", "add", netip.PrefixFrom(addr, 24).String(), "dev", "eth0"},
		{"-n", h.Name, "link", "set", "eth0", "up"},
		{"-n", h.Name, "link", "set", "lo", "up"},
		{"-n", h.Name, "route", "add", "default", "via", nw.Gateway().String()},
	}
	for _, args := range steps {
		if err := run(args...); err != nil {
			nw.t.Fatalf("netnstest: add host %s: %v", h.Name, err)
		}
	}
	return h
}

// AddAddr gives the root namespace one more address on the network, for
// a second server the test runs outside any namespace (a control plane
// beside the apps): a host can then be cut off from it alone (Partition).
func (nw *Network) AddAddr() netip.Addr {
	nw.t.Helper()
	nw.mu.Lock()
	nw.last = nw.last.Next()
	addr := nw.last
	nw.mu.Unlock()
	if err := run("addr", "add", netip.PrefixFrom(addr, 24).String(), "dev", nw.bridge); err != nil {
		nw.t.Fatalf("netnstest: add address: %v", err)
	}
	return addr
}

// Partition cuts h off from peer, an address of the root namespace
// (AddAddr's), both ways, or with cut false restores the link: a
// blackhole route to peer in h's namespace, and a rule here that drops
// what peer sends to h. Everything else still reaches h and is reached
// from it. A partition still in force when the test ends is lifted.
func (h *Host) Partition(peer netip.Addr, cut bool) error {
	op := "del"
	if cut {
		op = "add"
	}
	rule := []string{"rule", op, "from", peer.String(), "to", h.Addr.String(), "blackhole"}
	if err := run("-n", h.Name, "route", op, "blackhole", peer.String()+"/32"); err != nil {
		return err
	}
	if err := run(rule...); err != nil {
		return err
	}
	nw := h.net
	nw.mu.Lock()
	defer nw.mu.Unlock()
	key := h.Name + " " + peer.String()
	if cut {
		rule[1] = "del"
		nw.rules[key] = rule
	} else {
		delete(nw.rules, key)
	}
	return nil
}

// Command returns a command that runs name in h's namespace. Its process
// is the program itself (`ip netns exec` execs it), so its PID is the
// program's: stop it by PID as any other.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.Name, name}, args...)...)
}

// LinkDown cuts h off the network, as a pulled cable does: its packets
// are dropped, its connections stay open until they time out.
func (h *Host) LinkDown() error { return run("link", "set", h.veth, "down") }

// LinkUp puts h back on the network.
func (h *Host) LinkUp() error { return run("link", "set", h.veth, "up") }

// remove lifts the partitions in force and deletes the hosts (their links
// go with them) and the bridge.
func (nw *Network) remove() {
	nw.mu.Lock()
	hosts := nw.hosts
	for _, rule := range nw.rules {
		if err := run(rule...); err != nil {
			nw.t.Errorf("netnstest: lift a partition: %v", err)
		}
	}
	nw.mu.Unlock()
	for _, h := range hosts {
		if err := run("netns", "del", h.Name); err != nil {
			nw.t.Errorf("netnstest: %v", err)
		}
	}
	if err := run("link", "del", nw.bridge); err != nil {
		nw.t.Errorf("netnstest: %v", err)
	}
}

// freeSubnet picks a 10.231.x.0/24 that no interface of the root
// namespace uses: networks of concurrent test processes must not overlap.
func freeSubnet() (netip.Prefix, error) {
	out, err := output("-o", "-4", "addr", "show")
	if err != nil {
		return netip.Prefix{}, err
	}
	start := (os.Getpid() + int(networks.Load())*7) % 250
	for i := range 250 {
		x := (start + i) % 250
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 231, byte(x), 0}), 24)
		if !strings.Contains(out, fmt.Sprintf(" 10.231.%d.", x)) {
			return p, nil
		}
	}
	return netip.Prefix{}, errors.New("no free 10.231.x.0/24 subnet")
}

// reapOrphans deletes the namespaces and bridges whose test process is
// gone: a test killed before its cleanup leaves them behind.
func reapOrphans() {
	var dead []string
	if out, err := output("netns", "list"); err == nil {
		for _, line := range strings.Split(out, "\n") {
			if name, _, _ := strings.Cut(strings.TrimSpace(line), " "); orphan(name) {
				dead = append(dead, name)
			}
		}
	}
	for _, name := range dead {
		_ = run("netns", "del", name)
	}
	if out, err := output("-o", "link", "show", "type", "bridge"); err == nil {
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) > 1 {
				if name := strings.TrimSuffix(f[1], ":"); strings.HasSuffix(name, "br") && orphan(name) {
					_ = run("link", "del", name)
				}
			}
		}
	}
}

// orphan reports whether name is one of ours (bn<pid><letter>…) whose
// process no longer runs.
func orphan(name string) bool {
	rest, ok := strings.CutPrefix(name, "bn")
	if !ok {
		return false
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end <= 0 {
		return false
	}
	pid, err := strconv.Atoi(rest[:end])
	if err != nil || pid == os.Getpid()%100000 {
		return false
	}
	// PIDs above 100000 were cut to their last five digits in the name:
	// only a process that certainly does not exist makes an orphan.
	if pid < 100000 && syscall.Kill(pid, 0) == nil {
		return false
	}
	for p := pid + 100000; p < 4194304; p += 100000 {
		if syscall.Kill(p, 0) == nil {
			return false
		}
	}
	return true
}

// run runs `ip args…`; its error carries what ip printed.
func run(args ...string) error {
	_, err := output(args...)
	return err
}

// output runs `ip args…` and returns what it printed on stdout.
func output(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
