package deploy

import (
	"testing"

	"github.com/bascule/bascule/internal/runtime"
)

// TestStartedText: the start step says where the release runs, and names
// a process only when bascule started one (a static color has none: it
// used to read "pid 0").
func TestStartedText(t *testing.T) {
	for _, c := range []struct {
		inst runtime.Instance
		want string
	}{
		{runtime.Instance{Addr: "127.0.0.1:9001", PID: 42}, "pid 42 on 127.0.0.1:9001"},
		{runtime.Instance{Addr: "127.0.0.1:9001", Addrs: []string{"127.0.0.1:9001", "127.0.0.1:9002"}, PID: 42},
			"2 instances, first pid 42, on 127.0.0.1:9001, 127.0.0.1:9002"},
		{runtime.Instance{Addr: "10.0.0.1:8080", Addrs: []string{"10.0.0.1:8080", "10.0.0.2:8080"}}, "on 10.0.0.1:8080, 10.0.0.2:8080"},
		{runtime.Instance{Addr: "10.1.0.5:8080", Upstream: "k8s:shop/shop-green:http"}, "on k8s:shop/shop-green:http"},
	} {
		if got := startedText(c.inst); got != c.want {
			t.Errorf("startedText(%+v) = %q, want %q", c.inst, got, c.want)
		}
	}
}
