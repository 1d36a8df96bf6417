package deploy

import "context"

// idleScaler is a driver that frees the idle color some time after the
// live release is finalized (the kubernetes driver scales it to zero after
// runtime.kubernetes.idle_scale_down); the process and static drivers keep
// it as it is.
type idleScaler interface {
	ScaleDownLater(ctx context.Context, color string) error
}

// scaleDownIdle tells such a driver that the idle color's release is no
// longer the rollback target it was: the live release was finalized.
func (s *Service) scaleDownIdle(ctx context.Context) {
	sc, ok := s.opts.Driver.(idleScaler)
	if !ok {
		return
	}
	idle := s.opts.Router.Table().Live.Other()
	if err := sc.ScaleDownLater(ctx, string(idle)); err != nil {
		s.log.Error("schedule the idle color's scale-down", "color", idle, "err", err)
	}
}
