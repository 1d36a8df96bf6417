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
	"sync/atomic"
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
// With several control-plane instances it talks to one at a time, and
// moves on to the next when that one's stream fails: any instance serves
// the stream and forwards heartbeats to the leader, so the one it talks
// to needs only be up.
type Follower struct {
	// URLs are the control plane's instances, e.g. "http://10.0.0.1:8081";
	// at least one.
	URLs  []string
	Token string // an API token with the router role
	Agent *Agent
	// Client makes the requests; nil: a client with no overall timeout
	// (the stream lasts), each heartbeat bounded by the interval.
	Client   *http.Client
	Interval time.Duration // heartbeat interval; zero: DefaultInterval
	Logger   *slog.Logger  // nil: discard

	at atomic.Int64 // index in URLs of the instance talked to
}

// url returns the control-plane instance talked to now.
func (f *Follower) url() string {
	return strings.TrimRight(f.URLs[int(f.at.Load())%len(f.URLs)], "/")
}

// Run follows the stream and heartbeats until ctx ends.
func (f *Follower) Run(ctx context.Context) {
	if len(f.URLs) == 0 {
		panic("fleet: a Follower needs a control plane's URL")
	}
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
		from := f.url()
		round := f.at.Add(1)%int64(len(f.URLs)) == 0 // every instance tried since the last backoff
		f.Logger.Warn("routing stream lost; serving the last table installed", "control", from, "err", err,
			"next", f.url(), "retry_in", wait.String())
		// Full jitter, so that a fleet cut off together does not come
		// back in one wave.
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if round {
			wait = min(2*wait, most)
		}
	}
}

// follow reads the stream until it fails; got reports whether any table
// arrived.
func (f *Follower) follow(ctx context.Context) (got bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := f.Agent.State()
	q := url.Values{"id": {st.ID}, "generation": {fmt.Sprint(st.Installed)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url()+StreamPath+"?"+q.Encode(), nil)
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
	return f.read(resp.Body, func() { alive.Reset(3 * Keepalive) })
}

// read applies the tables of a routing stream's body until it fails;
// line is called at each line read. A table event that cannot be decoded
// or applied ends it: the stream is not to be trusted further.
func (f *Follower) read(body io.Reader, line func()) (got bool, err error) {
	rd := sse.NewReader(body, 4<<20)
	rd.Line = line
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

// Leave tells the control plane that the router stops for good, once it
// takes no more requests and finished those it had: it is forgotten, and
// switches no longer wait for it.
func (f *Follower) Leave(ctx context.Context) error {
	hb := f.Agent.State()
	hb.Leaving = true
	return f.heartbeat(ctx, hb)
}

func (f *Follower) heartbeat(ctx context.Context, hb Heartbeat) error {
	b, err := json.Marshal(hb)
	if err != nil {
		return fmt.Errorf("encode heartbeat: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url()+HeartbeatPath, bytes.NewReader(b))
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
