package kubetest

import (
	"testing"

	"github.com/bascule/bascule/internal/testproc"
	"github.com/bascule/bascule/internal/testreport"
	"k8s.io/client-go/kubernetes"
)

// skips records the tests of this test binary skipped for want of the
// binaries. It is process-wide because the binary is: one line for all.
var skips testreport.Skips

// kubernetesDep is how tests launch a cluster.
var kubernetesDep = &testproc.Dependency[*Cluster]{Name: "kubernetes", Launch: Launch, Timeout: startTimeout,
	NotInstalled: ErrNotInstalled, Skips: &skips}

// Start starts a cluster for t alone and stops it in t.Cleanup. If the
// binaries are not installed it skips t, or fails it when $CI is true.
func Start(t testing.TB) *Cluster {
	t.Helper()
	return kubernetesDep.Start(t)
}

// Client returns a clientset for the cluster's administrator.
func (c *Cluster) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config())
	if err != nil {
		t.Fatalf("kubernetes client: %v", err)
	}
	return cs
}

// Shared is a cluster started on first use and shared by the tests of a
// package; see the package comment. Its zero value is ready to use.
type Shared struct{ s testproc.Shared[*Cluster] }

// Cluster returns the shared cluster, starting it on the first call. If the
// binaries are not installed it skips t, or fails it when $CI is true.
func (s *Shared) Cluster(t testing.TB) *Cluster {
	t.Helper()
	return s.s.Get(t, kubernetesDep)
}

// Stop stops the cluster if it was started. After Stop, Cluster no longer
// starts one.
func (s *Shared) Stop() error { return s.s.Stop() }

// ReportSkips reports the tests skipped for want of the binaries, so that a
// normal `make test` shows them (see package testreport). Shared.Run calls
// it; a TestMain that uses only Start calls it after m.Run.
func ReportSkips() { skips.Report() }

// Run runs the tests, then stops the cluster; TestMain passes its result to
// os.Exit. If the tests passed but the cluster could not be stopped
// cleanly, the result is a failure.
func (s *Shared) Run(m *testing.M) int { return s.s.Run(m, kubernetesDep) }
