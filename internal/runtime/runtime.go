// Package runtime runs a release in a color slot ("blue" or "green") and
// reports its health. The drivers live in sub-packages: process runs the
// release's command on this machine, static points at upstreams that
// something else runs. Both offer the same methods (Start, Stop, Instance,
// Exited, Logs, Adopt, Close) so the deploy pipeline can declare one
// interface for them.
package runtime

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The two colors of a blue-green pair.
const (
	Blue  = "blue"
	Green = "green"
)

// Colors returns the slot colors in a stable order.
func Colors() []string { return []string{Blue, Green} }

// Spec says what to run in a slot.
type Spec struct {
	// Version is the release version, e.g. "v2".
	Version string
	// Dir is the unpacked release directory, the working directory of the
	// command.
	Dir string
	// Command is the argv. argv[0] is resolved relative to Dir if it
	// contains a slash and is not absolute, else looked up in PATH.
	Command []string
	// Env holds extra "K=V" entries added to os.Environ(). The driver adds
	// PORT, BASCULE_COLOR and BASCULE_RELEASE after them, so those win.
	Env []string
	// Image is the release's container image by digest
	// ("registry.example.com/shop@sha256:…"), for drivers that run images
	// (kubernetes); the process driver ignores it.
	Image string
}

// Instance is what runs in a slot: one process or upstream, or several
// that share the slot's traffic.
type Instance struct {
	Color   string `json:"color"`
	Version string `json:"version"`
	Addr    string `json:"addr"` // "127.0.0.1:PORT" the router proxies to; the first of Addrs
	// Addrs lists every instance's address when the slot runs several;
	// nil for one (Addr). Addresses returns them either way.
	Addrs []string `json:"addrs,omitempty"`
	// Upstream, when set, is how the routing table names the slot instead
	// of its addresses: a reference the routers expand themselves
	// ("k8s:NAMESPACE/SERVICE:PORT", router.Ref), so that instances that
	// come, go or move reach every router without a new table.
	Upstream string    `json:"upstream,omitempty"`
	PID      int       `json:"pid,omitempty"` // of the first instance
	Started  time.Time `json:"started"`
}

// Addresses returns the address of each of the slot's instances: Addrs,
// or Addr alone; nil when there is none.
func (i Instance) Addresses() []string {
	switch {
	case len(i.Addrs) > 0:
		return i.Addrs
	case i.Addr != "":
		return []string{i.Addr}
	}
	return nil
}

// ErrNotRunning is returned when an operation needs a live slot and the
// slot is empty or its process has exited.
var ErrNotRunning = errors.New("runtime: slot not running")

// ErrBusy is returned by Start when the slot already runs something: the
// caller must Stop it first, so that a slot never runs two releases.
var ErrBusy = errors.New("runtime: slot busy")

// ErrUnknownColor is returned for a color the driver has no slot for.
var ErrUnknownColor = errors.New("runtime: unknown color")

// ErrExited is returned by WaitHealthy when the process died before it
// became healthy. Drivers that know more return an *ExitError, which
// matches ErrExited with errors.Is.
var ErrExited = errors.New("runtime: process exited")

// ExitError tells how a slot's process ended.
type ExitError struct {
	// Code is the exit status, or -1 when the process was killed by a
	// signal or its status is unknown (an adopted process is not our child,
	// so its status cannot be collected).
	Code int
	// Signal names the signal that killed the process, if any.
	Signal string
	// LastLog is the last line the process wrote, to show why it died.
	LastLog string
}

// Error reads like "process exited with status 1: fatal: no database".
func (e *ExitError) Error() string {
	var b strings.Builder
	switch {
	case e.Signal != "":
		fmt.Fprintf(&b, "process killed by signal %s", e.Signal)
	case e.Code >= 0:
		fmt.Fprintf(&b, "process exited with status %d", e.Code)
	default:
		b.WriteString("process exited (status unknown)")
	}
	if e.LastLog != "" {
		fmt.Fprintf(&b, ": %s", e.LastLog)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrExited) true for an *ExitError.
func (e *ExitError) Is(target error) bool { return target == ErrExited }
