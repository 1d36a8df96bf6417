package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/storetest"
)

func TestBlobConformance(t *testing.T) {
	storetest.RunBlobs(t, func(t *testing.T) store.Blobs { return open(t, pg.NewDatabase(t)) })
}

// pausedReader yields the first n bytes of r, then waits for resume before
// the rest.
type pausedReader struct {
	r       io.Reader
	n       int
	paused  chan struct{} // closed when n bytes were read
	resume  chan struct{}
	stopped bool
}

func (p *pausedReader) Read(b []byte) (int, error) {
	if p.n == 0 && !p.stopped {
		p.stopped = true
		close(p.paused)
		<-p.resume
	}
	if p.n > 0 && len(b) > p.n {
		b = b[:p.n]
	}
	k, err := p.r.Read(b)
	if p.n > 0 {
		p.n -= k
	}
	return k, err
}

// TestHalfWrittenBlobIsInvisible: while an instance is still writing a
// blob, another sees neither the blob nor any of its chunks, which it
// could otherwise take for a whole release.
func TestHalfWrittenBlobIsInvisible(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pg.NewDatabase(t)
	writer, reader := open(t, url), open(t, url)
	b := bytes.Repeat([]byte("release bytes "), 3*store.BlobChunk/14)
	d := storetest.Digest(b)
	pr := &pausedReader{r: bytes.NewReader(b), n: 2*store.BlobChunk + 5, paused: make(chan struct{}), resume: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- writer.PutBlob(ctx, d, int64(len(b)), pr) }()
	select {
	case <-pr.paused:
	case err := <-done:
		t.Fatalf("PutBlob ended before the pause: %v", err)
	}
	if ok, err := reader.HasBlob(ctx, d); err != nil || ok {
		t.Errorf("HasBlob while two chunks are written = %v, %v; want false", ok, err)
	}
	if _, _, err := reader.OpenBlob(ctx, d); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("OpenBlob while two chunks are written = %v, want ErrNotFound", err)
	}
	var rows int
	if err := connect(t, url).QueryRow(ctx, `SELECT count(*) FROM blob_chunks`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("chunk rows visible while the write is under way = %d, %v; want 0", rows, err)
	}
	close(pr.resume)
	if err := <-done; err != nil {
		t.Fatalf("PutBlob = %v", err)
	}
	rc, _, err := reader.OpenBlob(ctx, d)
	if err != nil {
		t.Fatalf("OpenBlob after the write = %v", err)
	}
	defer rc.Close()
	if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, b) {
		t.Errorf("blob read by the other instance = %d bytes, %v; want the %d written", len(got), err, len(b))
	}
}
