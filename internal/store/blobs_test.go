package store_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/bascule/bascule/internal/store"
)

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// FuzzBlobChunks: whatever the bytes and the chunk size, splitting then
// reading back gives the bytes; the chunks are full but the last; and a
// chunk lost or cut short is an error, never other bytes.
func FuzzBlobChunks(f *testing.F) {
	f.Add([]byte(""), uint8(1))
	f.Add([]byte("a"), uint8(1))
	f.Add([]byte("abcdef"), uint8(3))
	f.Add([]byte("abcdefg"), uint8(3))
	f.Add(bytes.Repeat([]byte{0}, 64), uint8(16))
	f.Fuzz(func(t *testing.T, data []byte, c uint8) {
		chunk := int(c%32) + 1
		d := digestOf(data)
		split, err := store.NewBlobSplitter(bytes.NewReader(data), d, int64(len(data)), chunk)
		if err != nil {
			t.Fatalf("NewBlobSplitter = %v", err)
		}
		var chunks [][]byte
		for split.Next() {
			i, b := split.Chunk()
			if i != len(chunks) {
				t.Fatalf("chunk index %d, want %d", i, len(chunks))
			}
			chunks = append(chunks, bytes.Clone(b))
		}
		if err := split.Err(); err != nil {
			t.Fatalf("split %d bytes in chunks of %d: %v", len(data), chunk, err)
		}
		if n := store.BlobChunks(int64(len(data)), chunk); int64(len(chunks)) != n {
			t.Fatalf("%d chunks, BlobChunks says %d", len(chunks), n)
		}
		for i, b := range chunks {
			if i < len(chunks)-1 && len(b) != chunk || len(b) == 0 {
				t.Fatalf("chunk %d of %d has %d bytes (chunk size %d)", i, len(chunks), len(b), chunk)
			}
		}
		fetch := func(chunks [][]byte) func(int64) ([]byte, error) {
			return func(i int64) ([]byte, error) {
				if i >= int64(len(chunks)) || chunks[i] == nil {
					return nil, store.ErrNotFound
				}
				return chunks[i], nil
			}
		}
		got, err := io.ReadAll(store.NewBlobReader(d, int64(len(data)), chunk, fetch(chunks)))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, %v; want the %d bytes written", len(got), err, len(data))
		}
		if len(chunks) == 0 {
			return
		}
		for _, broken := range []func([][]byte) [][]byte{
			func(cs [][]byte) [][]byte { cs[len(cs)/2] = nil; return cs },                      // lost
			func(cs [][]byte) [][]byte { cs[0] = cs[0][:len(cs[0])-1]; return cs },             // cut short
			func(cs [][]byte) [][]byte { cs[len(cs)-1] = append(cs[len(cs)-1], 0); return cs }, // grown
		} {
			bad := broken(append([][]byte(nil), chunks...))
			_, err := io.ReadAll(store.NewBlobReader(d, int64(len(data)), chunk, fetch(bad)))
			var be *store.BlobError
			if !errors.As(err, &be) {
				t.Fatalf("reading a broken blob = %v, want a *store.BlobError", err)
			}
		}
	})
}
