package fleet

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/bascule/bascule/internal/guard"
	"github.com/bascule/bascule/internal/router"
)

// maxCount bounds each counter a router reports: 2^53, exact in any JSON
// reader's numbers, and far beyond what a process counts (a million
// requests a second for 285 years). Sums across a fleet of such counts
// cannot overflow.
const maxCount = 1 << 53

// DecodeHeartbeat reads a heartbeat as a router sends it and checks it
// (see Heartbeat's checks in Hub.Heartbeat). A heartbeat that is not JSON,
// or that a router could not have sent, gives an *InputError.
func DecodeHeartbeat(r io.Reader) (Heartbeat, error) {
	var hb Heartbeat
	if err := json.NewDecoder(r).Decode(&hb); err != nil {
		return Heartbeat{}, &InputError{Msg: fmt.Sprintf("invalid heartbeat: %v", err)}
	}
	if err := validHeartbeat(hb); err != nil {
		return Heartbeat{}, err
	}
	return hb, nil
}

// validHeartbeat checks what a router, a network peer, reports: its id,
// color names, and counters that a router's own counters could have read
// (non-negative, bounded, no more errors or latencies than requests, a
// histogram of guard.NumBuckets buckets). It returns an *InputError.
func validHeartbeat(hb Heartbeat) error {
	if err := validID(hb.ID); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return &InputError{Msg: fmt.Sprintf("heartbeat from %s: ", hb.ID) + fmt.Sprintf(format, args...)}
	}
	for c := range hb.Colors {
		if !knownColor(c) {
			return bad("colors: %q: want blue or green", c)
		}
	}
	tr := hb.Traffic
	if tr == nil {
		return nil
	}
	if err := validBoot(tr.Boot); err != nil {
		return bad("traffic: %v", err)
	}
	if tr.UptimeMS < 0 || tr.UptimeMS > maxCount {
		return bad("traffic: uptime_ms %d: want 0 to %d", tr.UptimeMS, int64(maxCount))
	}
	for c, cc := range tr.Colors {
		if !knownColor(c) {
			return bad("traffic: color %q: want blue or green", c)
		}
		if err := validCounts(cc); err != nil {
			return bad("traffic: %s: %v", c, err)
		}
	}
	return nil
}

func knownColor(c router.Color) bool { return c == router.Blue || c == router.Green }

func validBoot(boot string) error {
	if boot == "" || len(boot) > 64 {
		return fmt.Errorf("boot: want 1 to 64 characters, got %d", len(boot))
	}
	for _, r := range boot {
		if r <= ' ' || r >= 0x7f {
			return fmt.Errorf("boot %q: want printable ASCII, no spaces", boot)
		}
	}
	return nil
}

func validCounts(cc ColorCounts) error {
	inRange := func(name string, v int64) error {
		if v < 0 || v > maxCount {
			return fmt.Errorf("%s %d: want 0 to %d", name, v, int64(maxCount))
		}
		return nil
	}
	if err := inRange("requests", cc.Requests); err != nil {
		return err
	}
	if err := inRange("errors", cc.Errors); err != nil {
		return err
	}
	if cc.Errors > cc.Requests {
		return fmt.Errorf("errors %d: more than its %d requests", cc.Errors, cc.Requests)
	}
	if len(cc.Latency) != guard.NumBuckets {
		return fmt.Errorf("latency: %d buckets, want %d", len(cc.Latency), guard.NumBuckets)
	}
	var n int64 // at most 38 × 2^53: no overflow
	for i, v := range cc.Latency {
		if err := inRange(fmt.Sprintf("latency[%d]", i), v); err != nil {
			return err
		}
		n += v
	}
	if n > cc.Requests {
		return fmt.Errorf("latency: %d requests in the histogram, more than its %d requests", n, cc.Requests)
	}
	return nil
}

// toWire and fromWire convert a color's counts for a heartbeat. A
// counter's reading never has more errors or latencies than requests
// (guard.Counter.Read reads requests last), so a real router's report
// passes validCounts.
func toWire(c guard.Counts) ColorCounts {
	out := ColorCounts{Requests: int64(min(c.Requests, maxCount)), Errors: int64(min(c.Errors, maxCount)),
		Latency: make([]int64, guard.NumBuckets)}
	for i, v := range c.Latency {
		out.Latency[i] = int64(min(v, maxCount))
	}
	return out
}

// fromWire converts counts that passed validCounts.
func fromWire(cc ColorCounts) guard.Counts {
	out := guard.Counts{Requests: uint64(cc.Requests), Errors: uint64(cc.Errors)}
	for i, v := range cc.Latency {
		out.Latency[i] = uint64(v)
	}
	return out
}
