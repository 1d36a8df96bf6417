package deploy

import (
	"context"
	"errors"

	"github.com/bascule/bascule/internal/store"
)

// unpack verifies rel's artifact against its digest and unpacks it,
// returning its directory (the artifact store keeps it for the next
// time).
func (s *Service) unpack(ctx context.Context, rel store.Release) (string, error) {
	if s.opts.Artifacts == nil {
		return "", errors.New("no artifact store")
	}
	return s.opts.Artifacts.Unpack(ctx, rel.Digest, rel.Format, rel.Filename)
}
