package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/bascule/bascule/internal/testreport"
	"k8s.io/client-go/kubernetes"
)

// Start starts a cluster for t alone and stops it in t.Cleanup. If the
// binaries are not installed it skips t, or fails it when $CI is true.
func Start(t testing.TB) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := Launch(ctx)
	if err != nil {
		failOrSkip(t, err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop kubernetes: %v", err)
		}
	})
	return c
}

// failOrSkip ends t because no cluster could be started: a skip with a
// message nobody can miss when the binaries are simply not installed on a
// developer's machine, a failure in CI or for any other cause.
func failOrSkip(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNotInstalled) && !testreport.Mandatory(os.Getenv) {
		skips.Skip(t, err.Error())
	}
	t.Fatalf("start kubernetes: %v", err)
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
type Shared struct {
	once    sync.Once
	cluster *Cluster
	err     error
}

// Cluster returns the shared cluster, starting it on the first call. If the
// binaries are not installed it skips t, or fails it when $CI is true.
func (s *Shared) Cluster(t testing.TB) *Cluster {
	t.Helper()
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		s.cluster, s.err = Launch(ctx)
	})
	if s.err != nil {
		failOrSkip(t, s.err)
	}
	if s.cluster == nil {
		t.Fatal("kubetest: shared cluster used after Stop")
	}
	return s.cluster
}

// Stop stops the cluster if it was started. After Stop, Cluster no longer
// starts one.
func (s *Shared) Stop() error {
	s.once.Do(func() {})
	if s.cluster == nil {
		return nil
	}
	return s.cluster.Stop()
}

// skips records the tests of this test binary skipped for want of the
// binaries. It is process-wide because the binary is: one line for all.
var skips testreport.Skips

// ReportSkips reports the tests skipped for want of the binaries, so that a
// normal `make test` shows them (see package testreport). Shared.Run calls
// it; a TestMain that uses only Start calls it after m.Run.
func ReportSkips() { skips.Report() }

// Run runs the tests, then stops the cluster; TestMain passes its result to
// os.Exit. If the tests passed but the cluster could not be stopped
// cleanly, the result is a failure.
func (s *Shared) Run(m *testing.M) int {
	code := m.Run()
	ReportSkips()
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "kubetest: stop shared cluster: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
