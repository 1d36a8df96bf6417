package artifact_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestUnpackChainedSymlinksWriteNothingOutside is the regression test of
// issue 11: each link looks harmless on its own ("b -> a/.." is b's own
// directory, lexically), but a is a link to ".", so b is the directory
// above the release, c the one above that, and so on up to the database.
// Files written through them used to land there, truncating what was.
func TestUnpackChainedSymlinksWriteNothingOutside(t *testing.T) {
	st := newSite(t)
	archive := mustTar(t,
		symlink("a", "."),
		symlink("b", "a/.."), file("b/x", "pwned"),
		symlink("c", "b/.."), file("c/x", "pwned"),
		symlink("d", "c/.."), file("d/x", "pwned"), file("d/bascule.db", "pwned"),
		symlink("e", "d/.."), file("e/outside.txt", "pwned"),
	)
	digest := st.put(t, archive)
	before := st.snapshot(t, "")
	dir, err := st.store.Unpack(context.Background(), digest, "tar", "app")
	if err == nil {
		t.Errorf("Unpack of chained symlinks climbing out succeeded (%s), want a refusal", dir)
	}
	unchanged(t, before, st.snapshot(t, ""))
	if body, _ := os.ReadFile(filepath.Join(st.base, "data", "bascule.db")); string(body) != "the store" {
		t.Errorf("bascule.db = %q, want it untouched", body)
	}
}
