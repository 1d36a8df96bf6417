package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
)

// BlobChunk is the size of the chunks a blob is stored in: large enough
// that a 1 GiB artifact is a thousand rows, small enough that a chunk is
// held in memory at a time, on the way in and on the way out.
const BlobChunk = 1 << 20

// Blobs keeps the bytes of release artifacts by content digest, so that
// every control-plane instance sharing the store can deploy a release
// whichever instance received it. A blob is immutable: its key is the
// sha256 of its bytes.
//
// Blob writes are not fenced (WithFence is ignored; DeleteBlob excepted): the bytes are checked
// against their key, so a deposed leader's late write stores nothing
// another could not, and an upload of a gigabyte must not hold the lease
// row locked against a takeover for as long as it lasts.
type Blobs interface {
	// PutBlob stores the size bytes r yields under digest
	// ("sha256:<64 hex>"), chunk by chunk, in one transaction: until it
	// commits no reader sees the blob, and a failure leaves nothing. It
	// reads r to its end, and stores nothing (returning a *BlobError) if r
	// yields more or fewer than size bytes or bytes that do not hash to
	// digest; an error r returns, even in place of its final io.EOF, fails
	// the write. A digest already stored is not written again: PutBlob
	// returns nil without reading r.
	PutBlob(ctx context.Context, digest string, size int64, r io.Reader) error
	// OpenBlob returns the bytes stored under digest, read a chunk at a
	// time as they are consumed, and their size; or ErrNotFound. The
	// reader checks the blob's layout (every chunk there and of its
	// length, size bytes in all) and returns a *BlobError if it is
	// broken; the caller checks the digest, as it writes the bytes where
	// they will be used. The reader must be closed.
	OpenBlob(ctx context.Context, digest string) (io.ReadCloser, int64, error)
	// HasBlob reports whether a blob is stored, whole, under digest.
	HasBlob(ctx context.Context, digest string) (bool, error)
	// DeleteBlob deletes the blob stored under digest, chunks and all, in
	// one transaction; deleting a blob that is not stored is not an error.
	// Unlike PutBlob it is fenced (WithFence): a deposed leader's late
	// delete would destroy bytes the new leader may need, so it is
	// refused with a *FencedError.
	DeleteBlob(ctx context.Context, digest string) error
}

// BlobError is a blob that is not what its key says: refused when it is
// written, or found broken when it is read.
type BlobError struct {
	Digest string
	Reason string
}

func (e *BlobError) Error() string { return fmt.Sprintf("blob %s: %s", e.Digest, e.Reason) }

var blobDigestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// BlobSplitter cuts the bytes of a blob into the chunks a store writes,
// checking them on the way: Next reads the next chunk, Err tells, once
// Next returns false, whether the bytes were exactly size bytes hashing to
// digest. A store writes the chunks Next gives until it returns false and
// commits only if Err is then nil. Each chunk is read into the same buffer: it is valid until the next
// call to Next.
type BlobSplitter struct {
	r      io.Reader
	digest string
	size   int64
	read   int64
	buf    []byte
	chunk  []byte
	index  int
	h      hash.Hash
	err    error
	done   bool
}

// NewBlobSplitter returns a splitter of the size bytes of r into chunks of
// chunk bytes (BlobChunk when 0 or less). It refuses a digest that is not
// "sha256:<64 lowercase hex>" and a negative size with a *BlobError.
func NewBlobSplitter(r io.Reader, digest string, size int64, chunk int) (*BlobSplitter, error) {
	if !blobDigestRE.MatchString(digest) {
		return nil, &BlobError{Digest: digest, Reason: "not a sha256 digest (sha256:<64 lowercase hex>)"}
	}
	if size < 0 {
		return nil, &BlobError{Digest: digest, Reason: fmt.Sprintf("negative size %d", size)}
	}
	if chunk <= 0 {
		chunk = BlobChunk
	}
	n := int64(chunk)
	if size < n {
		n = size // a small blob needs no megabyte of buffer
	}
	return &BlobSplitter{r: r, digest: digest, size: size, buf: make([]byte, n), h: sha256.New(), index: -1}, nil
}

// Next reads the next chunk and reports whether there is one. At the end,
// or at the first error, it returns false; Err then tells which.
func (s *BlobSplitter) Next() bool {
	if s.done {
		return false
	}
	left := s.size - s.read
	if left == 0 {
		s.done = true
		s.err = s.finish()
		return false
	}
	n := min(int64(len(s.buf)), left)
	m, err := io.ReadFull(s.r, s.buf[:n])
	if err != nil {
		s.done = true
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			s.err = &BlobError{Digest: s.digest, Reason: fmt.Sprintf("%d bytes, want %d", s.read+int64(m), s.size)}
		} else {
			s.err = fmt.Errorf("read blob %s: %w", s.digest, err)
		}
		return false
	}
	s.h.Write(s.buf[:n])
	s.read += n
	s.index++
	s.chunk = s.buf[:n]
	return true
}

// finish checks that r ends where size says and that the bytes hash to
// the digest.
func (s *BlobSplitter) finish() error {
	var one [1]byte
	switch n, err := io.ReadFull(s.r, one[:]); {
	case n > 0:
		return &BlobError{Digest: s.digest, Reason: fmt.Sprintf("more than %d bytes", s.size)}
	case !errors.Is(err, io.EOF):
		return fmt.Errorf("read blob %s: %w", s.digest, err)
	}
	if got := "sha256:" + hex.EncodeToString(s.h.Sum(nil)); got != s.digest {
		return &BlobError{Digest: s.digest, Reason: "the bytes hash to " + got}
	}
	return nil
}

// Chunk returns the index (from 0) and the bytes of the chunk Next read.
func (s *BlobSplitter) Chunk() (int, []byte) { return s.index, s.chunk }

// Err is the error that made Next return false: nil while the bytes are
// being read, and after exactly size bytes that hash to the digest.
func (s *BlobSplitter) Err() error { return s.err }

// BlobChunks is how many chunks of chunk bytes a blob of size bytes has.
func BlobChunks(size int64, chunk int) int64 {
	return (size + int64(chunk) - 1) / int64(chunk)
}

// NewBlobReader returns a reader of a stored blob of size bytes in chunks
// of chunk bytes, which fetch returns by index as the reader reaches them
// (ErrNotFound for a chunk that is not stored). It checks the layout: a
// chunk missing or of the wrong length is a *BlobError.
func NewBlobReader(digest string, size int64, chunk int, fetch func(index int64) ([]byte, error)) io.Reader {
	r := &blobReader{digest: digest, size: size, chunk: chunk, fetch: fetch}
	if chunk <= 0 || size < 0 {
		r.err = &BlobError{Digest: digest, Reason: fmt.Sprintf("stored as %d bytes in chunks of %d", size, chunk)}
	}
	return r
}

type blobReader struct {
	digest string
	size   int64
	chunk  int
	fetch  func(int64) ([]byte, error)
	next   int64  // index of the next chunk to fetch
	cur    []byte // what is left of the current chunk
	err    error
}

func (r *blobReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	for len(r.cur) == 0 {
		if r.next == BlobChunks(r.size, r.chunk) {
			r.err = io.EOF
			return 0, io.EOF
		}
		if r.err = r.load(); r.err != nil {
			return 0, r.err
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// load fetches the next chunk and checks its length.
func (r *blobReader) load() error {
	data, err := r.fetch(r.next)
	if errors.Is(err, ErrNotFound) {
		return &BlobError{Digest: r.digest, Reason: fmt.Sprintf("chunk %d of %d is missing", r.next, BlobChunks(r.size, r.chunk))}
	}
	if err != nil {
		return fmt.Errorf("read blob %s chunk %d: %w", r.digest, r.next, err)
	}
	want := min(int64(r.chunk), r.size-r.next*int64(r.chunk))
	if int64(len(data)) != want {
		return &BlobError{Digest: r.digest, Reason: fmt.Sprintf("chunk %d has %d bytes, want %d", r.next, len(data), want)}
	}
	r.next++
	r.cur = data
	return nil
}
