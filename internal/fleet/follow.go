package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bascule/bascule/internal/sse"
)

// The API paths a router uses.
const (
	StreamPath    = "/api/v1/routers/stream"
	HeartbeatPath = "/api/v1/routers/heartbeat"
)

// Follower connects an Agent to a control plane over HTTP: it follows the
// routing stream, reconnecting with backoff, and sends the heartbeats.
type Follower struct {
	URL   string // the control plane, e.g. "http://10.0.0.1:8081"
	Token string // an API token with the router role
	Agent *Agent
	// Client makes the requests; nil: a client with no overall timeout
	// (the stream lasts), each heartbeat bounded by the interval.
	Client   *http.Client
	Interval time.Duration // heartbeat interval; zero: DefaultInterval
	Logger   *slog.Logger  // nil: discard
}

// Run follows the stream and heartbeats until ctx ends.
func (f *Follower) Run(ctx context.Context) {
	if f.Logger == nil {
		f.Logger = slog.New(slog.DiscardHandler)
	}
	if f.Client == nil {
		f.Client = &http.Client{}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Agent.Report(ctx, f.Interval, f.heartbeat)
	}()
	defer func() { <-done }()
	const first, most = 100 * time.Millisecond, 5 * time.Second
	wait := first
	for ctx.Err() == nil {
		got, err := f.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		if got {
			wait = first // it worked for a while: start over quickly
		}
		f.Logger.Warn("routing stream lost; serving the last table installed", "err", err, "retry_in", wait.String())
		// Full jitter, so that a fleet cut off together does not come
		// back in one wave.
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, most)
	}
}

// follow reads the stream until it fails; got reports whether any table
// arrived.
func (f *Follower) follow(ctx context.Context) (got bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := f.Agent.State()
	q := url.Values{"id": {st.ID}, "generation": {fmt.Sprint(st.Installed)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(f.URL, "/")+StreamPath+"?"+q.Encode(), nil)
	if err != nil {
		return false, fmt.Errorf("follow routing stream: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+f.Token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := f.Client.Do(req)
	if err != nil {
		return false, fmt.Errorf("follow routing stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("follow routing stream: %w", answerError(resp))
	}
	// A stream that says nothing, not even its keep-alive, for three
	// keep-alives is dead (a partition, say): cut it and reconnect.
	alive := time.AfterFunc(3*Keepalive, cancel)
	defer alive.Stop()
	rd := sse.NewReader(resp.Body, 4<<20)
	rd.Line = func() { alive.Reset(3 * Keepalive) }
	for {
		ev, err := rd.Next()
		if err != nil {
			return got, fmt.Errorf("read routing stream: %w", err)
		}
		if ev.Name != EventTable {
			continue
		}
		var u Update
		if err := json.Unmarshal(ev.Data, &u); err != nil {
			return got, fmt.Errorf("read routing stream: table event: %w", err)
		}
		var older *OlderTableError
		if err := f.Agent.Apply(u); errors.As(err, &older) {
			// Refused and logged; a newer table may follow on this stream
			// (a follower's control plane catching up with the store).
			continue
		} else if err != nil {
			// Not installed, not acknowledged: the control plane reports
			// this router as lagging. Retry from a fresh stream.
			return got, err
		}
		got = true
	}
}

func (f *Follower) heartbeat(ctx context.Context, hb Heartbeat) error {
	b, err := json.Marshal(hb)
	if err != nil {
		return fmt.Errorf("encode heartbeat: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(f.URL, "/")+HeartbeatPath, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("send heartbeat: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+f.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.Client.Do(req)
	if err != nil {
		return fmt.Errorf("send heartbeat: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("send heartbeat: %w", answerError(resp))
	}
	io.Copy(io.Discard, resp.Body)
	return nil
}

// answerError reads the API's JSON error from a refused request.
func answerError(resp *http.Response) error {
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &body) == nil && body.Error.Message != "" {
		return fmt.Errorf("%s: %s (%s)", resp.Status, body.Error.Message, body.Error.Code)
	}
	return errors.New(resp.Status)
}
