package flagclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/sse"
)

// streamIdleTimeout drops a stream on which nothing, not even a ": ping"
// comment, has arrived for that long: the connection is presumed dead (a
// half-open TCP connection never reports an error by itself). It also bounds
// the wait for the stream's response headers.
const streamIdleTimeout = 2 * time.Minute

// errStreamUnsupported marks a server (or proxy) that does not serve the
// stream at all, as opposed to one that failed to: the client then polls at
// PollInterval instead of retrying with backoff.
var errStreamUnsupported = errors.New("flag stream not supported by the server")

// errStreamIdle is why a silent stream was dropped.
var errStreamIdle = fmt.Errorf("flag stream silent for %s", streamIdleTimeout)

// stream follows the server's event stream until it ends, installing every
// snapshot it carries. established says whether the stream was opened at all;
// err says why it ended or could not be opened.
func (c *Client) stream(ctx context.Context) (established bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var idle atomic.Bool
	watchdog := time.AfterFunc(streamIdleTimeout, func() { idle.Store(true); cancel() })
	defer watchdog.Stop()

	resp, err := c.openStream(sctx)
	if err != nil {
		if idle.Load() {
			err = errStreamIdle
		}
		return false, err
	}
	defer resp.Body.Close()
	c.log.Debug("flag stream connected", "url", c.streamURL, "version", c.Version())
	err = c.readEvents(resp.Body, func() { watchdog.Reset(streamIdleTimeout) })
	if idle.Load() {
		err = errStreamIdle
	}
	return true, err
}

// openStream connects, resuming after the current version (Last-Event-ID),
// and checks that the answer is an event stream.
func (c *Client) openStream(ctx context.Context) (*http.Response, error) {
	req, err := c.newRequest(ctx, c.streamURL)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if s := c.snap.Load(); s != nil {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(s.Version, 10))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("connect flag stream: %w", err)
	}
	if err := checkStream(resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

func checkStream(resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotAcceptable, http.StatusNotImplemented:
		return fmt.Errorf("%w: %w", errStreamUnsupported, statusError(resp))
	default:
		return fmt.Errorf("connect flag stream: %w", statusError(resp))
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt != "text/event-stream" {
		return fmt.Errorf("%w: content type %q", errStreamUnsupported, ct)
	}
	return nil
}

// readEvents reads the stream's events and applies every "snapshot"
// event. alive is called for each line received, comments included.
func (c *Client) readEvents(body io.Reader, alive func()) error {
	events := sse.NewReader(body, maxSnapshotBytes)
	events.Line = alive
	for {
		ev, err := events.Next()
		if errors.Is(err, sse.ErrClosed) {
			return errors.New("flag stream closed by the server")
		}
		if err != nil {
			return fmt.Errorf("read flag stream: %w", err)
		}
		// The id needs no handling: the snapshot carries its version,
		// which is what the client sends back as Last-Event-ID.
		c.dispatch(ev)
	}
}

// dispatch installs the snapshot an event carries. A snapshot that does not
// decode is logged and skipped: the client keeps serving the last good one.
func (c *Client) dispatch(ev sse.Event) {
	if ev.Name != "snapshot" || ev.Data == nil {
		return
	}
	s, err := feature.DecodeSnapshot(ev.Data)
	if err != nil {
		c.log.Error("ignoring a flag snapshot that does not decode", "err", err)
		return
	}
	c.apply(s, ev.Data, true)
}
