package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bascule/bascule/internal/deploy"
	"github.com/bascule/bascule/internal/router"
	"github.com/bascule/bascule/internal/store"
	"github.com/bascule/bascule/internal/store/sqlite"
)

// Property test sizes: sequences of steps, within a time budget (the
// sequences that fit run; a slow machine runs fewer, never fewer than
// minSequences).
const (
	propSequences    = 200
	propSteps        = 30
	propBudget       = 8 * time.Second
	propMinSequences = 3
)

// TestStateMachineProperties runs seeded random sequences of deploy,
// go-live, rollback, finalize, driver failure and restart against the
// service, and checks after every step that:
//
//   - at most one deployment is active, and none once its pipeline ended;
//   - the routed live color runs a healthy release that production
//     reaches, recorded in its slot with a ready, live or finalized
//     deployment; a routed idle color runs its recorded release, or its
//     deployment says why it cannot serve;
//   - every table the router installed was on disk first, and what it
//     serves is what is on disk;
//   - every state change the store recorded is a transition of the table,
//     from the state the deployment was in;
//   - a restart after any step recovers without error and leaves nothing
//     active.
//
// BASCULE_PROPERTY_SEED=N replays a failure; the failure message gives N.
// BASCULE_PROPERTY_BUDGET=5m runs longer (all propSequences, if they fit).
func TestStateMachineProperties(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BASCULE_PROPERTY_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("BASCULE_PROPERTY_SEED=%q: %v", s, err)
		}
		seed = n
	}
	budget := propBudget
	if s := os.Getenv("BASCULE_PROPERTY_BUDGET"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("BASCULE_PROPERTY_BUDGET=%q: %v", s, err)
		}
		budget = d
	}
	db := openDB(t)
	start := time.Now()
	ran, steps := 0, map[string]int{}
	for i := range propSequences {
		if time.Since(start) > budget && ran >= propMinSequences {
			break
		}
		ok := t.Run(fmt.Sprint(i), func(t *testing.T) {
			runSequence(t, db, seed, i, steps)
		})
		if !ok {
			t.Fatalf("seed %d: sequence %d broke an invariant (replay with BASCULE_PROPERTY_SEED=%d)", seed, i, seed)
		}
		ran++
	}
	t.Logf("seed %d: %d sequences of %d steps in %s; steps run: %v", seed, ran, propSteps, time.Since(start).Round(time.Millisecond), steps)
}

// sequence is one random run and what the checks remember of it.
type sequence struct {
	t      *testing.T
	m      *machine
	rng    *rand.Rand
	seed   uint64
	i      int
	log    []string              // steps so far, for the failure message
	states map[int64]store.State // each deployment's state, as its events said
	served bool                  // production has served a release
	armed  bool                  // a driver failure waits for the next start
	steps  map[string]int
}

func runSequence(t *testing.T, db *sqlite.DB, seed uint64, i int, steps map[string]int) {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	m := newMachine(t, db, fmt.Sprintf("app%d", i), rng.IntN(4) == 0)
	q := &sequence{t: t, m: m, rng: rng, seed: seed, i: i, states: map[int64]store.State{}, steps: steps}
	defer m.svc.Close()
	q.check("start")
	for range propSteps {
		q.step()
	}
}

// step runs one random step, then checks the invariants.
func (q *sequence) step() {
	ctx := context.Background()
	m := q.m
	var name string
	var err error
	switch n := q.rng.IntN(100); {
	case n < 28:
		name = "deploy"
		var d store.Deployment
		if d, err = m.svc.Deploy(ctx, m.release(), "", "alice"); err == nil {
			d, err = m.svc.Wait(ctx, d.ID)
			name += fmt.Sprintf(" #%d %s: %s", d.ID, d.Version, d.State)
			if d.State == store.StateFailed {
				name += " (" + firstLine(d.Error) + ")"
				q.armed = false // the failure, if one was armed, happened
			}
		}
	case n < 48:
		name = "go-live"
		_, err = m.svc.GoLive(ctx, "alice", "")
	case n < 60:
		force := q.rng.IntN(3) == 0
		name = fmt.Sprintf("rollback (force %t)", force)
		_, err = m.svc.Rollback(ctx, "bob", "", force)
	case n < 68:
		name = "finalize"
		_, err = m.svc.Finalize(ctx, "carol", "")
	case n < 78:
		name = q.driverFailure()
	case n < 86:
		name = "restart"
		err = m.restart()
		q.mustRecover(err)
	case n < 90:
		name = "host reboot"
		m.drv.reboot()
		m.drv.failStart, m.drv.crashOnStart, q.armed = false, false, false
		err = m.restart()
		q.mustRecover(err)
	default:
		name = "deploy, restart at once"
		if _, err = m.svc.Deploy(ctx, m.release(), "", "alice"); err == nil {
			err = m.restart()
			q.mustRecover(err)
		}
	}
	q.steps[strings.Fields(name)[0]]++
	if err != nil {
		name += ": " + err.Error()
		var te *deploy.TransitionError
		switch {
		case errors.As(err, &te):
			q.fail(name, "an illegal move reached the state machine: %v", err)
		case !isConflict(err) && !q.armed:
			q.fail(name, "unexpected error: %v", err)
		}
		q.armed = q.armed && isConflict(err)
	}
	q.check(name)
}

func (q *sequence) driverFailure() string {
	m := q.m
	switch q.rng.IntN(3) {
	case 0:
		m.drv.failStart, q.armed = true, true
		return "driver: the next start fails"
	case 1:
		m.drv.crashOnStart, q.armed = true, true
		return "driver: the next start dies at once"
	}
	idle := m.rt.Table().Live.Other()
	m.drv.crash(string(idle))
	return "driver: the idle color's app dies (" + string(idle) + ")"
}

func (q *sequence) mustRecover(err error) {
	if err != nil {
		q.fail("restart", "Recover = %v; a restart must resume or fail cleanly", err)
	}
}

// check verifies every invariant after the step called name.
func (q *sequence) check(name string) {
	q.t.Helper()
	q.log = append(q.log, name)
	ctx := context.Background()
	m := q.m
	list, err := m.db.ListDeployments(ctx, m.app, 1000)
	if err != nil {
		q.fail(name, "list deployments: %v", err)
	}
	byID := map[int64]store.Deployment{}
	active, live := 0, 0
	for _, d := range list {
		byID[d.ID] = d
		if store.Active(d.State) {
			active++
		}
		if d.State == store.StateLive {
			live++
		}
		if m.svc.Running(d.ID) {
			q.fail(name, "deployment #%d's pipeline still runs after the step", d.ID)
		}
	}
	if active > 0 {
		q.fail(name, "%d deployments active, want none: no pipeline runs", active)
	}
	if live > 1 {
		q.fail(name, "%d deployments live, want at most one: production runs one release", live)
	}
	q.checkTransitions(name)
	q.checkRouting(name, byID)
}

// checkTransitions checks the state changes the store recorded since the
// last check, then marks them seen.
func (q *sequence) checkTransitions(name string) {
	ctx := context.Background()
	evs, err := q.m.db.PendingEvents(ctx, 10_000)
	if err != nil {
		q.fail(name, "events: %v", err)
	}
	var ids []int64
	for _, e := range evs {
		ids = append(ids, e.ID)
		if e.Source != store.EventDeployment {
			continue
		}
		var p store.DeploymentEvent
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			q.fail(name, "event %d: %v", e.ID, err)
		}
		if p.App != q.m.app {
			continue
		}
		was, known := q.states[p.ID]
		switch {
		case p.From == "" && (known || p.To != store.StateQueued):
			q.fail(name, "deployment #%d created as %s (known before: %t)", p.ID, p.To, known)
		case p.From != "" && (!known || was != p.From):
			q.fail(name, "deployment #%d moved from %s while it was %s", p.ID, p.From, was)
		case p.From != "" && !allowedByAny(p.From, p.To):
			q.fail(name, "deployment #%d moved %s → %s: not a transition of the table", p.ID, p.From, p.To)
		}
		q.states[p.ID] = p.To
	}
	if len(ids) > 0 {
		if err := q.m.db.DispatchEvents(ctx, ids, nil); err != nil {
			q.fail(name, "mark events seen: %v", err)
		}
	}
}

func allowedByAny(from, to store.State) bool {
	for _, by := range allActions {
		if deploy.Allowed(from, to, by) {
			return true
		}
	}
	return false
}

// checkRouting checks what the router serves against the disk, the
// driver, the slots and the deployments.
func (q *sequence) checkRouting(name string, byID map[int64]store.Deployment) {
	ctx := context.Background()
	m := q.m
	if v := m.rt.takeViolations(); len(v) > 0 {
		q.fail(name, "a table was installed before it was persisted: %s", strings.Join(v, "; "))
	}
	served := m.rt.Table()
	onDisk, err := router.LoadTable(m.rt.path)
	if err != nil || !sameTable(served, onDisk) {
		q.fail(name, "the router serves %+v, the disk holds %+v (%v)", served, onDisk, err)
	}
	slots, err := m.db.Slots(ctx, m.app)
	if err != nil {
		q.fail(name, "slots: %v", err)
	}
	for _, c := range []router.Color{router.Blue, router.Green} {
		addr := served.Upstreams[c]
		if addr == "" {
			if c == served.Live && q.served {
				q.fail(name, "production (%s) has no upstream any more", c)
			}
			continue
		}
		slot := slots[string(c)]
		d, ok := byID[slot.DeploymentID]
		inst, running := m.drv.Instance(string(c))
		if c == served.Live {
			q.served = true
			if !ok || slot.Version == "" || (d.State != store.StateReady && d.State != store.StateLive && d.State != store.StateFinalized) {
				q.fail(name, "production (%s) runs slot %+v, deployment %s: want a ready, live or finalized release", c, slot, d.State)
			}
			if !running || inst.Addr != addr {
				q.fail(name, "production (%s) routes to %s, the driver runs %+v (%t)", c, addr, inst, running)
			}
			if v, code := m.get(); code != 200 || v != slot.Version {
				q.fail(name, "production answers %d %q, want %s", code, v, slot.Version)
			}
			continue
		}
		// The idle color: preview of a recorded release, or its
		// deployment says why it cannot go live.
		if !ok || slot.Version == "" {
			q.fail(name, "idle %s routes to %s but its slot records %+v", c, addr, slot)
		}
		if d.State == store.StateFailed && d.Error == "" || store.Active(d.State) {
			q.fail(name, "idle %s runs deployment #%d, %s %q", c, d.ID, d.State, d.Error)
		}
	}
}

func (q *sequence) fail(step, format string, args ...any) {
	q.t.Helper()
	q.t.Fatalf("seed %d, sequence %d, step %d (%s): %s\nsteps:\n  %s\n(replay: BASCULE_PROPERTY_SEED=%d go test -run 'TestStateMachineProperties/%d$' ./internal/deploy/)",
		q.seed, q.i, len(q.log), step, fmt.Sprintf(format, args...), strings.Join(q.log, "\n  "), q.seed, q.i)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
