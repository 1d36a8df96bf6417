package main

import (
	"slices"
	"testing"
)

// The demo lets browser apps of any origin use OFREP (and says so when it
// starts); bascule.yaml's default allows none.
func TestDemoAllowsAnyOriginForOFREP(t *testing.T) {
	cfg, cleanup, err := demoConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if !slices.Equal(cfg.OFREP.CORSOrigins, []string{"*"}) {
		t.Errorf("demo ofrep.cors_origins = %q, want [*]", cfg.OFREP.CORSOrigins)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("demo config does not validate: %v", err)
	}
}
