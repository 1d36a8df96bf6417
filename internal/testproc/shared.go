package testproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/testreport"
)

// Stopper is a dependency a test binary launched: a server, a cluster.
type Stopper interface{ Stop() error }

// Dependency tells how to launch one kind of dependency. Its zero value
// is not usable; Launch, Name and NotInstalled are required.
type Dependency[S Stopper] struct {
	// Name is what messages call it: "postgres", "kubernetes".
	Name string
	// Launch starts one.
	Launch func(ctx context.Context) (S, error)
	// Timeout bounds a launch.
	Timeout time.Duration
	// NotInstalled is the error Launch wraps when the programs are not
	// installed: the tests that need them skip, except where they are
	// mandatory (testreport.Mandatory: CI), where they fail.
	NotInstalled error
	// Skips records the tests skipped for want of the programs. It is
	// process-wide because the test binary is: one line for all.
	Skips *testreport.Skips
}

// Start launches one for t alone and stops it in t.Cleanup. If the
// programs are not installed it skips t, or fails it when they are
// mandatory.
func (d *Dependency[S]) Start(t testing.TB) S {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
	defer cancel()
	s, err := d.Launch(ctx)
	if err != nil {
		d.failOrSkip(t, err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop %s: %v", d.Name, err)
		}
	})
	return s
}

// failOrSkip ends t because none could be launched: a skip with a message
// nobody can miss when the programs are simply not installed on a
// developer's machine, a failure in CI or for any other cause.
func (d *Dependency[S]) failOrSkip(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, d.NotInstalled) && !testreport.Mandatory(os.Getenv) {
		d.Skips.Skip(t, err.Error())
	}
	t.Fatalf("start %s: %v", d.Name, err)
}

// Shared is one dependency launched on first use and shared by the tests
// of a package. Its zero value is ready to use.
type Shared[S Stopper] struct {
	once    sync.Once
	s       S
	started bool
	stopped bool
	err     error
	mu      sync.Mutex
}

// Get returns the shared one, launching it as d says on the first call.
// If the programs are not installed it skips t, or fails it when they are
// mandatory.
func (s *Shared[S]) Get(t testing.TB, d *Dependency[S]) S {
	t.Helper()
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), d.Timeout)
		defer cancel()
		s.s, s.err = d.Launch(ctx)
		s.mu.Lock()
		s.started = s.err == nil
		s.mu.Unlock()
	})
	if s.err != nil {
		d.failOrSkip(t, s.err)
	}
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped {
		t.Fatalf("the shared %s was used after Stop", d.Name)
	}
	return s.s
}

// Stop stops the shared one if it was launched. After Stop, Get no longer
// launches one.
func (s *Shared[S]) Stop() error {
	s.once.Do(func() {})
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	if !s.started {
		return nil
	}
	return s.s.Stop()
}

// Run runs the tests, reports those d skipped, then stops the shared one;
// TestMain passes its result to os.Exit. If the tests passed but it could
// not be stopped cleanly, the result is a failure.
func (s *Shared[S]) Run(m *testing.M, d *Dependency[S]) int {
	code := m.Run()
	d.Skips.Report()
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop the shared %s: %v\n", d.Name, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
