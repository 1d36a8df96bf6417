package deploy

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/bascule/bascule/internal/store"
)

// smokeTest is the pipeline's smoke step: the configured command run
// against the healthy candidate, skipped when none is configured.
func (p *pipeline) smokeTest(ctx context.Context, dir, version string) error {
	s := p.s
	if err := p.begin(ctx, StepSmoke, store.StateVerifying); err != nil {
		return err
	}
	if len(s.opts.SmokeCommand) == 0 {
		return p.endStep(ctx, store.StepSkipped, "no smoke test configured")
	}
	out, err := s.smoke(ctx, dir, p.addr, version)
	if err != nil {
		return fmt.Errorf("smoke test: %w\n%s", err, out)
	}
	return p.done(ctx, lastLine(out))
}

// smoke runs the smoke-test command from the release directory, in its own
// process group so that a timeout kills everything it started.
func (s *Service) smoke(ctx context.Context, dir, addr, version string) (string, error) {
	sctx, cancel := context.WithTimeout(ctx, s.opts.SmokeTimeout)
	defer cancel()
	cmd := exec.CommandContext(sctx, s.opts.SmokeCommand[0], s.opts.SmokeCommand[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BASCULE_CANDIDATE_URL=http://"+addr, "BASCULE_RELEASE="+version)
	cmd.Env = append(cmd.Env, s.opts.SmokeEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if len(out) > 4096 {
		out = out[len(out)-4096:]
	}
	if sctx.Err() != nil && ctx.Err() == nil {
		return string(out), fmt.Errorf("timed out after %s", s.opts.SmokeTimeout)
	}
	return string(out), err
}
