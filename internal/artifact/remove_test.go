package artifact_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bascule/bascule/internal/artifact"
)

// Remove deletes an artifact's bytes and its unpacked directory, and
// nothing of another artifact.
func TestRemoveDeletesBlobAndUnpackedDir(t *testing.T) {
	ctx := context.Background()
	s := &artifact.Store{Dir: t.TempDir()}
	var a, b bytes.Buffer
	if err := artifact.PackDir(&a, writeTree(t, map[string]string{"run.sh": "#!/bin/sh\necho a\n"})); err != nil {
		t.Fatal(err)
	}
	if err := artifact.PackDir(&b, writeTree(t, map[string]string{"run.sh": "#!/bin/sh\necho b\n"})); err != nil {
		t.Fatal(err)
	}
	gone, err := s.Put(ctx, &a, "")
	if err != nil {
		t.Fatal(err)
	}
	kept, err := s.Put(ctx, &b, "")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := s.Unpack(ctx, gone.Digest, artifact.FormatTarGz, "a.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	keptDir, err := s.Unpack(ctx, kept.Digest, artifact.FormatTarGz, "b.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	if removed, err := s.Remove(gone.Digest); err != nil || !removed {
		t.Fatalf("Remove = %v, %v; want true, nil", removed, err)
	}
	if s.Has(gone.Digest) {
		t.Error("Has after Remove = true, want false")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("unpacked directory after Remove: stat = %v, want it gone", err)
	}
	if _, err := s.Unpack(ctx, gone.Digest, artifact.FormatTarGz, "a.tar.gz"); err == nil {
		t.Error("Unpack after Remove succeeded, want an error: the bytes are gone")
	}
	if _, err := os.Stat(filepath.Join(keptDir, "run.sh")); err != nil || !s.Has(kept.Digest) {
		t.Errorf("the other artifact after Remove: %v, Has = %v; want it untouched", err, s.Has(kept.Digest))
	}
	if removed, err := s.Remove(gone.Digest); err != nil || removed {
		t.Errorf("Remove again = %v, %v; want false, nil", removed, err)
	}
	if _, err := s.Remove("sha256:../../etc"); err == nil {
		t.Error("Remove of a digest that is not sha256 hex succeeded, want an error")
	}
}
