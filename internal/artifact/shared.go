package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Shared keeps artifacts' bytes by digest where every control-plane
// instance reads them, so that a release uploaded through one instance
// deploys on another once the first is gone. store.Blobs (the PostgreSQL
// store) provides it.
type Shared interface {
	// PutBlob stores the size bytes of r under digest, whole or not at
	// all, and nothing if digest is stored already.
	PutBlob(ctx context.Context, digest string, size int64, r io.Reader) error
	// OpenBlob returns the bytes stored under digest and their size.
	OpenBlob(ctx context.Context, digest string) (io.ReadCloser, int64, error)
	// HasBlob reports whether digest is stored.
	HasBlob(ctx context.Context, digest string) (bool, error)
}

// share copies the blob in f, which b describes, to Shared.
func (s *Store) share(ctx context.Context, f *os.File, b Blob) error {
	if s.Shared == nil {
		return nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("share artifact %s: %w", b.Digest, err)
	}
	if err := s.Shared.PutBlob(ctx, b.Digest, b.Size, f); err != nil {
		return fmt.Errorf("share artifact %s: %w", b.Digest, err)
	}
	return nil
}

// fetch makes sure digest's bytes are in Dir: when they are not there and
// Shared is set, it copies them from Shared to a temporary file, hashing
// them on the way, and renames it into place only if they hash to digest.
// Bytes that do not are refused with ErrDigestMismatch and never installed.
func (s *Store) fetch(ctx context.Context, digest string) error {
	_, err := os.Stat(s.blobPath(digest))
	if s.Shared == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil // Verify reports what else may be wrong
	}
	rc, size, err := s.Shared.OpenBlob(ctx, digest)
	if err != nil {
		return fmt.Errorf("artifact %s is not on this instance's disk, and fetching it from the shared store failed: %w", digest, err)
	}
	defer rc.Close()
	tmp, b, err := s.receive(ctx, ".fetch-*", rc, size)
	if err != nil {
		return fmt.Errorf("fetch artifact %s from the shared store: %w", digest, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if b.Digest != digest || b.Size != size {
		return fmt.Errorf("fetch artifact %s from the shared store: %w: its %d bytes hash to %s; refused, nothing installed",
			digest, ErrDigestMismatch, b.Size, b.Digest)
	}
	return s.install(tmp, digest)
}

// Share copies to Shared those of digests whose bytes are in Dir and
// missing from Shared: the artifacts of releases registered before their
// bytes were shared, which only this instance's disk holds. It returns how
// many it copied, and an error naming each one it could not (the others
// are copied all the same). Bytes in Dir that no longer hash to their
// digest are refused by Shared, never shared.
func (s *Store) Share(ctx context.Context, digests []string) (int, error) {
	if s.Shared == nil {
		return 0, nil
	}
	var n int
	var errs []error
	seen := make(map[string]bool)
	for _, d := range digests {
		if seen[d] || !digestRE.MatchString(d) {
			continue
		}
		seen[d] = true
		copied, err := s.shareOne(ctx, d)
		if err != nil {
			errs = append(errs, err)
		}
		if copied {
			n++
		}
	}
	return n, errors.Join(errs...)
}

func (s *Store) shareOne(ctx context.Context, digest string) (bool, error) {
	f, err := os.Open(s.blobPath(digest))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // not this instance's to share
	}
	if err != nil {
		return false, fmt.Errorf("share artifact %s: %w", digest, err)
	}
	defer f.Close()
	if ok, err := s.Shared.HasBlob(ctx, digest); err != nil || ok {
		return false, err
	}
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("share artifact %s: %w", digest, err)
	}
	if err := s.Shared.PutBlob(ctx, digest, st.Size(), f); err != nil {
		return false, fmt.Errorf("share artifact %s: %w", digest, err)
	}
	return true, nil
}
