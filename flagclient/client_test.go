package flagclient

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bascule/bascule/feature"
)

var (
	insider  = user("user-ann", "ann@example.com")
	outsider = user("user-bob", "bob@gmail.com")
)

// noPolling makes the stream the only way an update can arrive.
const noPolling = time.Hour

func TestNewDownloadsSnapshot(t *testing.T) {
	h := newHarness(t, snapshotAt(t, 1, 0))
	cache := filepath.Join(t.TempDir(), "flags.json")
	c := newTestClient(t, Options{URL: h.url, CacheFile: cache, PollInterval: noPolling})

	select {
	case <-c.Ready():
	default:
		t.Fatal("Ready() not closed after New returned with the server up")
	}
	if got := c.Version(); got != 1 {
		t.Errorf("Version() = %d, want 1", got)
	}
	if !c.Bool("checkout-v2", false, insider) {
		t.Error("Bool(checkout-v2, internal user) = false, want true (segment rule)")
	}
	if c.Bool("checkout-v2", true, outsider) {
		t.Error("Bool(checkout-v2, outsider) = true, want false (0 % rollout)")
	}
	if got := cacheVersion(t, cache); got != 1 {
		t.Errorf("cache file holds version %d, want 1", got)
	}
}

func TestStreamDeliversUpdates(t *testing.T) {
	h := newHarness(t, snapshotAt(t, 1, 0))
	cache := filepath.Join(t.TempDir(), "flags.json")
	c := newTestClient(t, Options{URL: h.url, CacheFile: cache, PollInterval: noPolling})
	changes := make(chan int64, 10)
	c.OnChange(func(v int64) { changes <- v })

	h.publish(snapshotAt(t, 2, feature.TotalWeight))
	waitVersion(t, c, 2)
	if !c.Bool("checkout-v2", false, outsider) {
		t.Error("after the 100 % update, Bool(checkout-v2, outsider) = false, want true")
	}
	if got := <-changes; got != 2 {
		t.Errorf("OnChange got version %d, want 2", got)
	}
	if got := len(h.rec.snapshotStatuses()); got != 1 {
		t.Errorf("snapshot endpoint called %d times, want 1 (updates come by stream)", got)
	}
	waitFor(t, "cache file at version 2", 5*time.Second, func() bool { return cacheVersion(t, cache) == 2 })
	if files, _ := filepath.Glob(filepath.Join(filepath.Dir(cache), "*")); len(files) != 1 {
		t.Errorf("cache directory holds %q, want only the cache file (temporary files renamed)", files)
	}
}

func TestStreamReconnectsWithLastEventID(t *testing.T) {
	h := newHarness(t, snapshotAt(t, 1, 0))
	c := newTestClient(t, Options{URL: h.url, PollInterval: noPolling})
	waitFor(t, "the stream to connect", 5*time.Second, func() bool { return len(h.rec.streamIDs()) == 1 })
	h.publish(snapshotAt(t, 2, 10000))
	waitVersion(t, c, 2)

	h.rec.dropStreams()
	waitFor(t, "the client to reconnect", 5*time.Second, func() bool { return len(h.rec.streamIDs()) == 2 })
	h.publish(snapshotAt(t, 3, 20000))
	waitVersion(t, c, 3)

	if diff := cmp.Diff([]string{"1", "2"}, h.rec.streamIDs()); diff != "" {
		t.Errorf("Last-Event-ID of each stream connection (-want +got):\n%s", diff)
	}
	if got := len(h.rec.snapshotStatuses()); got != 1 {
		t.Errorf("snapshot endpoint called %d times, want 1 (the stream resumed)", got)
	}
}

func TestPollsWhenStreamUnsupported(t *testing.T) {
	h := newHarness(t, snapshotAt(t, 1, 0))
	h.rec.setNoStream(true)
	c := newTestClient(t, Options{URL: h.url, PollInterval: 20 * time.Millisecond})

	waitFor(t, "a poll answered 304", 5*time.Second, func() bool {
		return slices.Contains(h.rec.snapshotStatuses(), http.StatusNotModified)
	})
	h.publish(snapshotAt(t, 2, feature.TotalWeight))
	waitVersion(t, c, 2)
	if !c.Bool("checkout-v2", false, outsider) {
		t.Error("after polling version 2, Bool(checkout-v2, outsider) = false, want true")
	}
}

func TestAuthErrorFailsNew(t *testing.T) {
	h := newHarness(t, snapshotAt(t, 1, 0))
	c, err := New(context.Background(), Options{URL: h.url, APIKey: "wrong"})
	if err == nil {
		c.Close()
		t.Fatal("New with a wrong API key succeeded, want an error")
	}
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("New error %q does not match ErrUnauthorized", err)
	}
	for _, want := range []string{"401", "invalid API key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New error %q does not mention %q", err, want)
		}
	}
	noClientGoroutines(t)
}

func TestBadOptions(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8081", "ftp://127.0.0.1/", "http://"} {
		if c, err := New(context.Background(), Options{URL: u}); err == nil {
			c.Close()
			t.Errorf("New(URL %q) succeeded, want an error", u)
		}
	}
}

func TestServerDownAtStartUsesCache(t *testing.T) {
	addr := freeAddr(t)
	cache := filepath.Join(t.TempDir(), "flags.json")
	writeCacheFile(t, cache, snapshotAt(t, 3, 0))

	c := newTestClient(t, Options{URL: "http://" + addr, CacheFile: cache, PollInterval: 50 * time.Millisecond})
	select {
	case <-c.Ready():
	default:
		t.Fatal("Ready() not closed after starting from the cache file")
	}
	if got := c.Version(); got != 3 {
		t.Fatalf("Version() = %d with the server down, want 3 from the cache", got)
	}
	if !c.Bool("checkout-v2", false, insider) || c.Bool("checkout-v2", true, outsider) {
		t.Error("from the cache, checkout-v2 is not on for insiders only")
	}

	h := unstartedHarness(t, snapshotAt(t, 5, feature.TotalWeight))
	h.start(addr)
	waitVersion(t, c, 5)
	if !c.Bool("checkout-v2", false, outsider) {
		t.Error("after catching up, Bool(checkout-v2, outsider) = false, want true")
	}
	waitFor(t, "cache file at version 5", 5*time.Second, func() bool { return cacheVersion(t, cache) == 5 })
}

func TestServerDownWithoutCacheServesDefaults(t *testing.T) {
	addr := freeAddr(t)
	c := newTestClient(t, Options{URL: "http://" + addr, PollInterval: 50 * time.Millisecond})
	select {
	case <-c.Ready():
		t.Fatal("Ready() closed with neither server nor cache")
	default:
	}
	v, r := c.BoolDetail("checkout-v2", true, insider)
	if !v || r.ErrorCode != ErrProviderNotReady {
		t.Errorf("BoolDetail before any snapshot = %v, %s; want the default true, %s", v, r.ErrorCode, ErrProviderNotReady)
	}

	h := unstartedHarness(t, snapshotAt(t, 1, 0))
	h.start(addr)
	select {
	case <-c.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("Ready() not closed 10 s after the server came up")
	}
	if c.Bool("checkout-v2", true, outsider) {
		t.Error("once ready, Bool(checkout-v2, outsider) = true, want false")
	}
}

func TestCorruptCacheIsIgnored(t *testing.T) {
	addr := freeAddr(t)
	cache := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(cache, []byte(`{"version": 7, "flags": [{"key": `), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	c := newTestClient(t, Options{URL: "http://" + addr, CacheFile: cache, Logger: logs.logger(), PollInterval: 50 * time.Millisecond})
	if got := c.Version(); got != 0 {
		t.Errorf("Version() = %d from a corrupt cache, want 0", got)
	}
	if out := logs.String(); !strings.Contains(out, "ignoring corrupt flag cache file") || !strings.Contains(out, cache) {
		t.Errorf("log does not report the corrupt cache file %s:\n%s", cache, out)
	}
	if got := c.Bool("checkout-v2", true, insider); !got {
		t.Error("Bool with a corrupt cache and no server = false, want the default true")
	}

	h := unstartedHarness(t, snapshotAt(t, 2, 0))
	h.start(addr)
	waitVersion(t, c, 2)
	waitFor(t, "the cache file to be rewritten", 5*time.Second, func() bool { return cacheVersion(t, cache) == 2 })
}

// Close must leave nothing running: neither the sync goroutine nor a pooled
// connection, whether the client was streaming or polling.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	for _, mode := range []string{"streaming", "polling"} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t, snapshotAt(t, 1, 0))
			h.rec.setNoStream(mode == "polling")
			before := runtime.NumGoroutine()
			c, err := New(context.Background(), Options{URL: h.url, APIKey: testAPIKey, PollInterval: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the client to be "+mode, 5*time.Second, func() bool {
				return len(h.rec.streamIDs()) > 0 || len(h.rec.snapshotStatuses()) > 2
			})
			c.Close()
			c.Close() // idempotent
			waitFor(t, "goroutines back to the count before New", 5*time.Second, func() bool {
				return runtime.NumGoroutine() <= before
			})
			if left := goroutinesMatching("flagclient.(*Client)", "net/http.(*persistConn)"); len(left) > 0 {
				t.Errorf("goroutines left after Close:\n%s", strings.Join(left, "\n\n"))
			}
		})
	}
}

// cacheVersion returns the version in the cache file, or -1 if it does not
// decode (yet).
func cacheVersion(t testing.TB, name string) int64 {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		return -1
	}
	s, err := feature.DecodeSnapshot(data)
	if err != nil {
		return -1
	}
	return s.Version
}

func writeCacheFile(t testing.TB, name string, s *feature.Snapshot) {
	t.Helper()
	data, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
