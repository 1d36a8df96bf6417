package static

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/runtime"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var addrs = map[string]string{"blue": "127.0.0.1:19001", "green": "127.0.0.1:19002"}

var ignoreStarted = cmpopts.IgnoreFields(runtime.Instance{}, "Started")

func TestStartRecordsVersionAtFixedAddress(t *testing.T) {
	ctx := context.Background()
	d := New(addrs)
	inst, err := d.Start(ctx, "green", runtime.Spec{Version: "v2", Command: []string{"ignored"}})
	if err != nil {
		t.Fatalf("Start(green, v2): %v", err)
	}
	want := runtime.Instance{Color: "green", Version: "v2", Addr: "127.0.0.1:19002"}
	if diff := cmp.Diff(want, inst, ignoreStarted); diff != "" || inst.Started.IsZero() {
		t.Errorf("Start(green, v2) mismatch (-want +got):\n%s", diff)
	}
	if got, ok := d.Instance("green"); !ok || !cmp.Equal(got, inst) {
		t.Errorf("Instance(green) = %+v, %v; want %+v", got, ok, inst)
	}
	if _, ok := d.Instance("blue"); ok {
		t.Error("Instance(blue) reported, nothing was started there")
	}
	if _, err := d.Start(ctx, "green", runtime.Spec{Version: "v3"}); !errors.Is(err, runtime.ErrBusy) {
		t.Errorf("Start(green, v3) on a recorded slot = %v, want ErrBusy", err)
	}
	if d.Logs("green", 10) != nil || d.Exited("green") != nil {
		t.Error("Logs or Exited not nil for a static upstream")
	}

	if err := d.Stop(ctx, "green"); err != nil {
		t.Fatalf("Stop(green): %v", err)
	}
	if _, ok := d.Instance("green"); ok {
		t.Error("Instance(green) still reported after Stop")
	}
	if _, err := d.Start(ctx, "green", runtime.Spec{Version: "v3"}); err != nil {
		t.Errorf("Start(green, v3) after Stop: %v", err)
	}
}

func TestUnknownColor(t *testing.T) {
	d := New(addrs)
	if _, err := d.Start(context.Background(), "red", runtime.Spec{Version: "v1"}); !errors.Is(err, runtime.ErrUnknownColor) {
		t.Errorf("Start(red) = %v, want ErrUnknownColor", err)
	}
	if err := d.Stop(context.Background(), "red"); !errors.Is(err, runtime.ErrUnknownColor) {
		t.Errorf("Stop(red) = %v, want ErrUnknownColor", err)
	}
}

func TestAdoptReportsRecordedVersions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, err := Open(dir, several(addrs))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Start(ctx, "blue", runtime.Spec{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	started, _ := first.Instance("blue")

	// A restarted bascule learns which version each upstream runs.
	second, err := Open(dir, several(addrs))
	if err != nil {
		t.Fatal(err)
	}
	got, err := second.Adopt(ctx)
	if err != nil {
		t.Fatalf("Adopt: %v", err)
	}
	want := []runtime.Instance{started, {Color: "green", Addr: "127.0.0.1:19002"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Adopt() mismatch (-want +got):\n%s", diff)
	}
	if inst, ok := second.Instance("blue"); !ok || inst.Version != "v1" {
		t.Errorf("Instance(blue) after Adopt = %+v, %v; want v1", inst, ok)
	}

	// Stop forgets the version for good.
	if err := second.Stop(ctx, "blue"); err != nil {
		t.Fatal(err)
	}
	third, _ := Open(dir, several(addrs))
	got, _ = third.Adopt(ctx)
	if len(got) != 2 || got[0].Version != "" {
		t.Errorf("Adopt() after Stop(blue) = %+v, want blue without a version", got)
	}
}

func TestAdoptWithoutStateDir(t *testing.T) {
	got, err := New(addrs).Adopt(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []runtime.Instance{{Color: "blue", Addr: "127.0.0.1:19001"}, {Color: "green", Addr: "127.0.0.1:19002"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Adopt() mismatch (-want +got):\n%s", diff)
	}
}

// several is addrs in Open's form: one instance per color.
func several(addrs map[string]string) map[string][]string {
	out := map[string][]string{}
	for c, a := range addrs {
		out[c] = []string{a}
	}
	return out
}

// A color of several instances reports them all, and is healthy only when
// every one of them is.
func TestSeveralInstances(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer sick.Close()
	a, b := ok.Listener.Addr().String(), sick.Listener.Addr().String()
	d := NewInstances(map[string][]string{"blue": {a, b}, "green": {a}})
	inst, err := d.Start(context.Background(), "blue", runtime.Spec{Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{a, b}, inst.Addresses()); diff != "" || inst.Addr != a {
		t.Errorf("Start: addresses (-want +got):\n%s addr %s", diff, inst.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	hc := runtime.HealthCheck{Interval: 10 * time.Millisecond}
	if err := d.WaitHealthy(ctx, "blue", hc); err == nil || !strings.Contains(err.Error(), b) {
		t.Errorf("WaitHealthy(blue) with one instance answering 503 = %v, want an error naming %s", err, b)
	}
	if _, err := d.Start(context.Background(), "green", runtime.Spec{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if err := d.WaitHealthy(context.Background(), "green", hc); err != nil {
		t.Errorf("WaitHealthy(green): %v", err)
	}
}
