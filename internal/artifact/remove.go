package artifact

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Remove deletes what Dir holds of digest: the artifact's bytes and the
// directory it was unpacked into. It reports whether there was anything to
// delete; removing an artifact Dir does not hold is not an error. It does
// not touch Shared: the store's copy is the caller's to delete (ADR 0020).
func (s *Store) Remove(digest string) (bool, error) {
	if !digestRE.MatchString(digest) {
		// The digest names files: only the form Put gives is accepted.
		return false, fmt.Errorf("remove artifact %q: not a sha256 digest", digest)
	}
	var removed bool
	blob := s.blobPath(digest)
	switch err := os.Remove(blob); {
	case err == nil:
		removed = true
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("remove artifact %s: %w", digest, err)
	}
	dir := s.unpackedPath(digest)
	if _, err := os.Lstat(dir); err == nil {
		// Renamed aside first, so that an Unpack never finds a directory
		// half removed under the name it reuses.
		tmp := dir + ".removing"
		if err := os.RemoveAll(tmp); err != nil { // left by a removal cut short
			return removed, fmt.Errorf("remove unpacked artifact %s: %w", digest, err)
		}
		if err := os.Rename(dir, tmp); err != nil {
			return removed, fmt.Errorf("remove unpacked artifact %s: %w", digest, err)
		}
		if err := os.RemoveAll(tmp); err != nil {
			return true, fmt.Errorf("remove unpacked artifact %s: %w", digest, err)
		}
		removed = true
	}
	return removed, nil
}

// Has reports whether Dir holds digest's bytes or its unpacked directory.
func (s *Store) Has(digest string) bool {
	if !digestRE.MatchString(digest) {
		return false
	}
	if _, err := os.Stat(s.blobPath(digest)); err == nil {
		return true
	}
	_, err := os.Stat(s.unpackedPath(digest))
	return err == nil
}
