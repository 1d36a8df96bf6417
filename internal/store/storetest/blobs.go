package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/bascule/bascule/internal/store"
)

// RunBlobs runs the conformance suite of store.Blobs; open must return a
// new, empty store.
func RunBlobs(t *testing.T, open func(t *testing.T) store.Blobs) {
	t.Run("RoundTrip", func(t *testing.T) { testBlobRoundTrip(t, open(t)) })
	t.Run("ChunkBoundaries", func(t *testing.T) { testBlobBoundaries(t, open(t)) })
	t.Run("Refused", func(t *testing.T) { testBlobRefused(t, open(t)) })
	t.Run("FailedWriteLeavesNothing", func(t *testing.T) { testBlobFailedWrite(t, open(t)) })
	t.Run("Idempotent", func(t *testing.T) { testBlobIdempotent(t, open(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testBlobConcurrent(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { testBlobDelete(t, open(t)) })
}

// Digest is the key of b in a store.Blobs: "sha256:<hex>".
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// randomBytes returns n bytes of a seeded generator: a test's failure
// replays.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// readBlob reads the blob stored under digest whole, failing t on error.
func readBlob(t *testing.T, s store.Blobs, digest string) []byte {
	t.Helper()
	rc, size, err := s.OpenBlob(context.Background(), digest)
	if err != nil {
		t.Fatalf("OpenBlob(%s) = %v", digest, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read blob %s: %v", digest, err)
	}
	if size != int64(len(got)) {
		t.Errorf("OpenBlob(%s) size = %d, but %d bytes read", digest, size, len(got))
	}
	return got
}

// putAndCheck stores b and reads it back.
func putAndCheck(t *testing.T, s store.Blobs, b []byte) {
	t.Helper()
	d := Digest(b)
	if err := s.PutBlob(context.Background(), d, int64(len(b)), bytes.NewReader(b)); err != nil {
		t.Fatalf("PutBlob(%d bytes) = %v", len(b), err)
	}
	if got := readBlob(t, s, d); !bytes.Equal(got, b) {
		t.Fatalf("blob of %d bytes read back as %d bytes hashing to %s", len(b), len(got), Digest(got))
	}
}

// A blob larger than a chunk comes back byte for byte; an unknown one is
// not found.
func testBlobRoundTrip(t *testing.T, s store.Blobs) {
	ctx := context.Background()
	b := randomBytes(1, 2*store.BlobChunk+12345)
	d := Digest(b)
	if ok, err := s.HasBlob(ctx, d); err != nil || ok {
		t.Fatalf("HasBlob before PutBlob = %v, %v; want false", ok, err)
	}
	putAndCheck(t, s, b)
	if ok, err := s.HasBlob(ctx, d); err != nil || !ok {
		t.Errorf("HasBlob after PutBlob = %v, %v; want true", ok, err)
	}
	if _, _, err := s.OpenBlob(ctx, Digest([]byte("never stored"))); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("OpenBlob(unknown) = %v, want ErrNotFound", err)
	}
}

// A property of the chunking: whatever the size, on a chunk boundary, one
// byte either side or anywhere in between, the bytes read back are the
// bytes written.
func testBlobBoundaries(t *testing.T, s store.Blobs) {
	sizes := []int{0, 1, 2}
	for k := 1; k <= 3; k++ {
		for d := -2; d <= 2; d++ {
			sizes = append(sizes, k*store.BlobChunk+d)
		}
	}
	r := rand.New(rand.NewPCG(2, 2))
	for range 4 {
		sizes = append(sizes, r.IntN(3*store.BlobChunk))
	}
	for i, n := range sizes {
		putAndCheck(t, s, randomBytes(uint64(100+i), n))
	}
}

// errReader yields b, then fails with err instead of io.EOF.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, e.err
	}
	return n, err
}

// Bytes that are not what the digest and size say are refused with a
// *BlobError, and nothing is stored.
func testBlobRefused(t *testing.T, s store.Blobs) {
	ctx := context.Background()
	b := randomBytes(3, store.BlobChunk+10)
	d := Digest(b)
	other := randomBytes(4, len(b))
	cases := []struct {
		name   string
		digest string
		size   int64
		body   []byte
	}{
		{"other bytes", d, int64(len(b)), other},
		{"fewer bytes", d, int64(len(b)), b[:len(b)-1]},
		{"more bytes", d, int64(len(b)) - 1, b},
		{"size short of the bytes", d, int64(len(b)) + 1, b},
		{"not a sha256 digest", "md5:" + d[7:39], int64(len(b)), b},
		{"uppercase digest", "sha256:" + fmt.Sprintf("%X", d[7:]), int64(len(b)), b},
	}
	for _, c := range cases {
		err := s.PutBlob(ctx, c.digest, c.size, bytes.NewReader(c.body))
		var be *store.BlobError
		if !errors.As(err, &be) {
			t.Errorf("PutBlob(%s) = %v, want a *store.BlobError", c.name, err)
		}
		if ok, _ := s.HasBlob(ctx, c.digest); ok {
			t.Errorf("after PutBlob(%s) refused, HasBlob = true", c.name)
		}
	}
	// The reader refuses at its very end, in place of io.EOF: a caller's
	// last word.
	late := errors.New("refused at the end")
	if err := s.PutBlob(ctx, d, int64(len(b)), &errReader{bytes.NewReader(b), late}); !errors.Is(err, late) {
		t.Errorf("PutBlob(reader failing at its end) = %v, want its error", err)
	}
	if ok, _ := s.HasBlob(ctx, d); ok {
		t.Error("HasBlob = true after a write whose reader failed at its end")
	}
	if _, _, err := s.OpenBlob(ctx, d); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("OpenBlob after refused writes = %v, want ErrNotFound", err)
	}
}

// A write that fails after some chunks leaves nothing behind, and the same
// blob can be written afterwards.
func testBlobFailedWrite(t *testing.T, s store.Blobs) {
	ctx := context.Background()
	b := randomBytes(5, 3*store.BlobChunk)
	d := Digest(b)
	cut := errors.New("connection to CI lost")
	half := &errReader{bytes.NewReader(b[:3*store.BlobChunk/2]), cut}
	if err := s.PutBlob(ctx, d, int64(len(b)), half); !errors.Is(err, cut) {
		t.Fatalf("PutBlob(reader failing after 1.5 chunks) = %v, want its error", err)
	}
	if ok, _ := s.HasBlob(ctx, d); ok {
		t.Fatal("HasBlob = true after a failed write")
	}
	putAndCheck(t, s, b)
}

// failingReader fails any read: the test of a write that must not read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) {
	return 0, errors.New("read, but the blob is stored already")
}

// Storing a digest stored already reads nothing and succeeds.
func testBlobIdempotent(t *testing.T, s store.Blobs) {
	b := randomBytes(6, store.BlobChunk+1)
	putAndCheck(t, s, b)
	if err := s.PutBlob(context.Background(), Digest(b), int64(len(b)), failingReader{}); err != nil {
		t.Errorf("PutBlob of a stored digest = %v, want nil without reading", err)
	}
	if got := readBlob(t, s, Digest(b)); !bytes.Equal(got, b) {
		t.Error("blob changed by a second PutBlob")
	}
}

// Two instances storing the same release at once both succeed, and the
// blob is whole.
func testBlobConcurrent(t *testing.T, s store.Blobs) {
	b := randomBytes(7, 2*store.BlobChunk+3)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.PutBlob(context.Background(), Digest(b), int64(len(b)), bytes.NewReader(b))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent PutBlob %d = %v", i, err)
		}
	}
	if got := readBlob(t, s, Digest(b)); !bytes.Equal(got, b) {
		t.Error("blob written by concurrent writers reads back different")
	}
}
