// Package artifact stores release artifacts by content digest and unpacks
// them into directories the runtime can run from. An artifact is stored once
// and never rewritten: the bytes CI tested are the bytes that run.
package artifact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrTooLarge is returned by Put when the artifact exceeds the size limit.
var ErrTooLarge = errors.New("artifact too large")

// ErrDigestMismatch is returned by Put when the bytes do not match the
// digest the client announced.
var ErrDigestMismatch = errors.New("artifact digest mismatch")

// Blob describes a stored artifact.
type Blob struct {
	Digest string // "sha256:<hex>"
	Size   int64
}

// Store keeps artifacts under Dir/blobs and unpacked releases under
// Dir/unpacked/v2, and, with Shared, a copy of every artifact in a store
// that other instances read. Its zero limits are the defaults.
type Store struct {
	Dir string
	// Shared, when set, receives every artifact Put and PutRelease take,
	// and gives Unpack the ones missing from Dir (see shared.go). Nil: Dir
	// alone holds them.
	Shared  Shared
	MaxSize int64 // bytes of an artifact as uploaded; 0 means 1 GiB
	// MaxUnpackedSize bounds the bytes of the regular files of one release
	// once unpacked, as their headers declare them: a small tar.gz can
	// inflate to terabytes. 0 means 4 GiB.
	MaxUnpackedSize int64
	// MaxEntries bounds the entries of one release archive, counting the
	// directories their names imply. 0 means 100,000.
	MaxEntries int
}

func (s *Store) maxSize() int64 {
	if s.MaxSize > 0 {
		return s.MaxSize
	}
	return 1 << 30
}

func (s *Store) limits() limits {
	lim := limits{size: s.MaxUnpackedSize, entries: s.MaxEntries}
	if lim.size <= 0 {
		lim.size = 4 << 30
	}
	if lim.entries <= 0 {
		lim.entries = 100_000
	}
	return lim
}

// Put streams r into the store, computing its digest on the way. When want
// is not empty the stored digest must equal it. Writing goes to a temporary
// file that is renamed into place, so a crash never leaves a partial blob.
func (s *Store) Put(ctx context.Context, r io.Reader, want string) (Blob, error) {
	return s.put(ctx, r, want, nil)
}

// PutRelease is Put for a release artifact of format: before the bytes are
// kept, it reads them as Unpack would, so that an archive a deployment
// would refuse is refused when it is registered, and never stored. It
// returns the errors of Unpack's rules (*UnsafeEntryError,
// ErrInvalidArchive) as well as Put's.
func (s *Store) PutRelease(ctx context.Context, r io.Reader, want, format string) (Blob, error) {
	return s.put(ctx, r, want, func(f *os.File) error {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("check artifact: %w", err)
		}
		return s.check(ctx, f, format)
	})
}

func (s *Store) put(ctx context.Context, r io.Reader, want string, check func(*os.File) error) (Blob, error) {
	tmp, b, err := s.receive(ctx, ".upload-*", r, s.maxSize())
	if err != nil {
		return Blob{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if b.Size > s.maxSize() {
		return Blob{}, fmt.Errorf("%w: over %d bytes", ErrTooLarge, s.maxSize())
	}
	if want != "" && !strings.EqualFold(want, b.Digest) {
		return Blob{}, fmt.Errorf("%w: received %s, announced %s", ErrDigestMismatch, b.Digest, want)
	}
	if check != nil {
		if err := check(tmp); err != nil {
			return Blob{}, err
		}
	}
	// Shared after every check: only bytes this store takes reach the
	// other instances.
	if err := s.share(ctx, tmp, b); err != nil {
		return Blob{}, err
	}
	return b, s.install(tmp, b.Digest)
}

// receive copies at most limit+1 bytes of r to a new temporary file in
// Dir/blobs named by pattern, and returns it with the digest and size of
// what it read. The caller removes the file.
func (s *Store) receive(ctx context.Context, pattern string, r io.Reader, limit int64) (*os.File, Blob, error) {
	dir := filepath.Join(s.Dir, "blobs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, Blob{}, fmt.Errorf("create blob dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, Blob{}, fmt.Errorf("create temporary artifact file: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(ctxReader{ctx, r}, limit+1))
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, Blob{}, fmt.Errorf("receive artifact: %w", err)
	}
	return tmp, Blob{Digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// install syncs and closes tmp and renames it to digest's blob: a crash
// never leaves a partial blob under a digest's name.
func (s *Store) install(tmp *os.File, digest string) error {
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync artifact: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close artifact: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.blobPath(digest)); err != nil {
		return fmt.Errorf("store artifact: %w", err)
	}
	return nil
}

// Open returns the bytes of digest stored in Dir; it does not fetch them
// from Shared (Unpack does).
func (s *Store) Open(digest string) (*os.File, error) {
	if !digestRE.MatchString(digest) {
		// The digest names a file: only the form Put gives is accepted.
		return nil, fmt.Errorf("open artifact %q: not a sha256 digest", digest)
	}
	f, err := os.Open(s.blobPath(digest))
	if err != nil {
		return nil, fmt.Errorf("open artifact %s: %w", digest, err)
	}
	return f, nil
}

func (s *Store) blobPath(digest string) string {
	return filepath.Join(s.Dir, "blobs", strings.ReplaceAll(digest, ":", "-"))
}

// unpackedPath is where the artifact of digest is unpacked.
func (s *Store) unpackedPath(digest string) string {
	return filepath.Join(s.Dir, filepath.FromSlash(unpackedDir), strings.ReplaceAll(digest, ":", "-"))
}

// Verify recomputes a stored artifact's digest: what runs must be what was
// registered, even if someone edited files under the data directory.
func (s *Store) Verify(digest string) error {
	f, err := s.Open(digest)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read artifact %s: %w", digest, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("%w: stored artifact now hashes to %s, registered as %s", ErrDigestMismatch, got, digest)
	}
	return nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
