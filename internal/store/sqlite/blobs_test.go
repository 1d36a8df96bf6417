package sqlite_test

import (
	"testing"

	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/storetest"
)

func TestBlobConformance(t *testing.T) {
	storetest.RunBlobs(t, func(t *testing.T) store.Blobs { return open(t) })
}
