package main

import (
	"fmt"
	"testing"

	"github.com/bascule/bascule/internal/store"
)

// BenchmarkDeployToReady measures `bascule deploy` to ready for the demo's
// sample app through the real API, pipeline and process driver: each
// iteration deploys to the idle color, replacing what ran there.
func BenchmarkDeployToReady(b *testing.B) {
	in := newInstance(b, "")
	in.start()
	in.liveWith("v0")
	in.addRelease("r0", "")
	in.addRelease("r1", "")
	for i := 0; b.Loop(); i++ {
		if d := in.deploy(fmt.Sprintf("r%d", i%2)); d.State != store.StateReady {
			b.Fatalf("deploy = %s: %s", d.State, d.Error)
		}
	}
}
