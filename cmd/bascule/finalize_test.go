package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// What finalize says about rolling back is what rollback then does, with a
// database (refused) and without one (still possible); status --json and
// the finalize output carry the same sentence.
func TestFinalizeSaysWhatRollbackDoes(t *testing.T) {
	for _, tc := range []struct {
		name, extra      string
		effect, finalize string // in status before finalize; printed by finalize
		rollbackCode     int
		rollbackSays     string
	}{
		{name: "no database", effect: "rolling back to v1 stays possible",
			finalize: "rolling back to v1 stays possible", rollbackCode: 0, rollbackSays: "v1 is live on blue"},
		{name: "sqlite database", extra: "database:\n  driver: sqlite\n  url: %s\n",
			effect:   "after that, rolling back to v1 is refused",
			finalize: "rollback is now refused: v2 is finalized", rollbackCode: 1, rollbackSays: "v2 is finalized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extra := tc.extra
			if extra != "" {
				extra = fmt.Sprintf(extra, filepath.Join(t.TempDir(), "app.db"))
			}
			in := newInstance(t, extra)
			in.start()
			in.liveWith("v1")
			in.addRelease("v2", "")
			if out, code := runCLI(t, in, "deploy", "v2"); code != 0 {
				t.Fatalf("deploy v2 = %d\n%s", code, out)
			}
			if out, code := runCLI(t, in, "go-live"); code != 0 {
				t.Fatalf("go-live = %d\n%s", code, out)
			}
			st, err := in.cl.Status(context.Background())
			if err != nil || !strings.Contains(st.FinalizeEffect, tc.effect) {
				t.Errorf("status finalize_effect = %q (%v), want %q", st.FinalizeEffect, err, tc.effect)
			}
			out, code := runCLI(t, in, "finalize")
			if code != 0 || !strings.Contains(out, tc.finalize) {
				t.Errorf("finalize = %d %q, want %q", code, out, tc.finalize)
			}
			out, code = runCLI(t, in, "rollback")
			if code != tc.rollbackCode || !strings.Contains(out, tc.rollbackSays) {
				t.Errorf("rollback after finalize = %d %q, want exit %d and %q", code, out, tc.rollbackCode, tc.rollbackSays)
			}
		})
	}
}
