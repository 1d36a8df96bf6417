//go:build linux

package runtime_test

import (
	"context"

	"github.com/bascule/bascule/internal/runtime"
	"github.com/bascule/bascule/internal/runtime/kubernetes"
	"github.com/bascule/bascule/internal/runtime/process"
	"github.com/bascule/bascule/internal/runtime/static"
)

// driver is the method set the drivers share, so the deploy pipeline can
// use either behind one interface of its own.
type driver interface {
	Start(ctx context.Context, color string, spec runtime.Spec) (runtime.Instance, error)
	Stop(ctx context.Context, color string) error
	Instance(color string) (runtime.Instance, bool)
	Exited(color string) <-chan struct{}
	Logs(color string, n int) []string
	Adopt(ctx context.Context) ([]runtime.Instance, error)
	Close() error
}

var (
	_ driver = (*process.Driver)(nil)
	_ driver = (*static.Driver)(nil)
	_ driver = (*kubernetes.Driver)(nil)
)
