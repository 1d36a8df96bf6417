package deploy

import (
	"context"

	"github.com/bascule/bascule/internal/store"
)

// audit appends what actor did to the audit log. The entry is written even
// when ctx is cancelled: a refused or interrupted action is recorded too.
func (s *Service) audit(ctx context.Context, actor string, action Action, target, outcome, detail string) {
	e := &store.AuditEntry{At: s.now(), Actor: actor, Action: string(action), Target: target, Outcome: outcome, Detail: detail}
	if err := s.opts.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("append audit", "action", action, "err", err)
	}
}
