package postgres_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"testing"
)

// BenchmarkBlob64MiB stores a 64 MiB artifact in PostgreSQL (put: what an
// upload adds) and reads it back (get: what an instance that lacks it
// does before a deployment). Neither holds the artifact in memory, only a
// chunk at a time: put's B/op counts the garbage of encoding each chunk's
// INSERT (about 2 MiB per chunk, collected as it goes), get reuses one
// buffer.
func BenchmarkBlob64MiB(b *testing.B) {
	const size = 64 << 20
	ctx := context.Background()
	db := open(b, pg.NewDatabase(b))
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(64, 64))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	digest := func() string {
		sum := sha256.Sum256(data)
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	var stored []string
	b.Run("put", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			// A new artifact each time, or the store would find it stored
			// and write nothing.
			binary.LittleEndian.PutUint64(data, rand.Uint64())
			d := digest()
			b.StartTimer()
			if err := db.PutBlob(ctx, d, size, bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
			stored = append(stored, d)
		}
	})
	b.Run("get", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			rc, _, err := db.OpenBlob(ctx, stored[0])
			if err != nil {
				b.Fatal(err)
			}
			if n, err := io.Copy(io.Discard, rc); err != nil || n != size {
				b.Fatalf("read %d bytes, %v", n, err)
			}
			rc.Close()
		}
	})
}
