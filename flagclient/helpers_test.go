package flagclient

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/feature"
)

// internalUsers is the segment: company e-mail addresses.
func internalUsers() *feature.Segment {
	return &feature.Segment{
		Key:        "internal-users",
		Conditions: []feature.Condition{{Attribute: "email", Op: feature.OpEndsWith, Values: []string{"@example.com"}}},
	}
}

// testFlags is one flag of each type; checkout-v2 is on for internal users
// and for weightOn/100000 of everyone else.
func testFlags(weightOn int) []*feature.Flag {
	return []*feature.Flag{
		{Key: "checkout-v2", Enabled: true, Rules: []feature.Rule{
			{Segment: "internal-users", Variant: "on"},
			{Split: feature.Percent(weightOn)},
		}},
		{Key: "button-color", Enabled: true, Variants: map[string]any{"control": "#0a0", "red": "#a00"},
			OffVariant: "control", DefaultVariant: "red"},
		{Key: "max-items", Enabled: true, Variants: map[string]any{"few": 10, "many": 2.5},
			OffVariant: "few", DefaultVariant: "few"},
		{Key: "ratio", Enabled: true, Variants: map[string]any{"low": 0.25, "high": 2.5},
			OffVariant: "low", DefaultVariant: "high"},
		{Key: "theme", Enabled: true, Variants: map[string]any{
			"dark": map[string]any{"bg": "#000", "sizes": []any{1, 2}},
			"none": map[string]any{},
		}, OffVariant: "none", DefaultVariant: "dark"},
	}
}

// snapshotAt builds version v of the test flags with checkout-v2 at weightOn.
func snapshotAt(t testing.TB, v int64, weightOn int) *feature.Snapshot {
	t.Helper()
	s, err := feature.NewSnapshot(v, testFlags(weightOn), []*feature.Segment{internalUsers()})
	if err != nil {
		t.Fatalf("NewSnapshot: %v", err)
	}
	return s
}

// newTestClient starts a client and closes it at the end of the test,
// checking that Close left no goroutine of the client behind.
func newTestClient(t testing.TB, opts Options) *Client {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testAPIKey
	}
	c, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		noClientGoroutines(t)
	})
	return c
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitVersion waits for the client to hold version v.
func waitVersion(t testing.TB, c *Client, v int64) {
	t.Helper()
	waitFor(t, "client version "+strconv.FormatInt(v, 10), 10*time.Second, func() bool { return c.Version() == v })
}

// goroutinesMatching returns the stacks of live goroutines containing any of
// the markers.
func goroutinesMatching(markers ...string) []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, m := range markers {
			if strings.Contains(g, m) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// noClientGoroutines fails if any client goroutine outlives its Close.
func noClientGoroutines(t testing.TB) {
	t.Helper()
	markers := []string{"flagclient.(*Client)."}
	deadline := time.Now().Add(5 * time.Second)
	for len(goroutinesMatching(markers...)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after Close:\n%s", strings.Join(goroutinesMatching(markers...), "\n\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logBuffer collects a logger's output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// user is a context with a targeting key and an e-mail address.
func user(key, email string) feature.EvalContext {
	return feature.EvalContext{TargetingKey: key, Attributes: map[string]any{"email": email}}
}
