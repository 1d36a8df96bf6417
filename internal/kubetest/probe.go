package kubetest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// probe runs c's readiness probe against the pod's address ip, as a
// kubelet's prober does — an HTTP GET every periodSeconds, after
// initialDelaySeconds, each bounded by timeoutSeconds; a 2xx or 3xx
// answer passes — and calls report with the verdict whenever
// successThreshold passes or failureThreshold failures in a row change it.
// It returns when ctx ends. Only httpGet probes are run; any other kind
// is reported failing, so that a pod never looks ready untested.
func probe(ctx context.Context, ip netip.Addr, c corev1.Container, report func(bool)) {
	p := c.ReadinessProbe
	period := seconds(p.PeriodSeconds, 10)
	timeout := seconds(p.TimeoutSeconds, 1)
	success, failure := max(p.SuccessThreshold, 1), max(p.FailureThreshold, 1)
	// A new connection for every probe, as a kubelet makes, and no proxy
	// of the environment: the pod is on the test's own network.
	hc := &http.Client{
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	check := func(ctx context.Context) error { return fmt.Errorf("kubetest runs httpGet probes only") }
	if p.HTTPGet != nil {
		check = func(ctx context.Context) error { return httpGet(ctx, hc, ip, c, p.HTTPGet) }
	}
	if !sleep(ctx, time.Duration(p.InitialDelaySeconds)*time.Second) {
		return
	}
	ready := false
	var passed, failed int32
	for {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		err := check(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			passed, failed = passed+1, 0
		} else {
			passed, failed = 0, failed+1
		}
		switch {
		case !ready && passed >= success:
			ready = true
			report(true)
		case ready && failed >= failure:
			ready = false
			report(false)
		}
		if !sleep(ctx, period) {
			return
		}
	}
}

// httpGet is one probe: GET http://ip:port/path.
func httpGet(ctx context.Context, hc *http.Client, ip netip.Addr, c corev1.Container, g *corev1.HTTPGetAction) error {
	port, err := probePort(c, g.Port)
	if err != nil {
		return err
	}
	host := ip.String()
	if g.Host != "" {
		host = g.Host
	}
	if g.Scheme != "" && g.Scheme != corev1.URISchemeHTTP {
		return fmt.Errorf("kubetest runs http probes only, not %s", g.Scheme)
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(port)) + g.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "kube-probe/"+Version+" (kubetest)")
	for _, h := range g.HTTPHeaders {
		req.Header.Set(h.Name, h.Value)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// probePort resolves a probe's port: a number, or the name of one of the
// container's ports.
func probePort(c corev1.Container, port intstr.IntOrString) (int, error) {
	if port.Type == intstr.Int {
		return port.IntValue(), nil
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("probe port %q is not a port of container %s", port.StrVal, c.Name)
}

func seconds(s, dflt int32) time.Duration {
	if s <= 0 {
		s = dflt
	}
	return time.Duration(s) * time.Second
}

// sleep waits d or until ctx ends; it reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
