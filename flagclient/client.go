package flagclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bascule/bascule/feature"
)

// DefaultPollInterval is how often the client polls when it cannot stream,
// when Options.PollInterval is zero.
const DefaultPollInterval = 30 * time.Second

// initialFetchTimeout bounds the first download in New, so that a server that
// accepts connections but never answers falls back to the cache file instead
// of holding the application's start-up hostage.
const initialFetchTimeout = 10 * time.Second

// Options configures New. Only URL is required.
type Options struct {
	// URL is the bascule control address, e.g. "http://127.0.0.1:8081".
	URL string
	// APIKey is sent as "Authorization: Bearer <APIKey>".
	APIKey string
	// CacheFile, when set, is the last known good snapshot on disk: written
	// (atomically) on every new version, read by New when the server cannot
	// be reached, so a restart without the server still evaluates. Empty
	// means no cache.
	CacheFile string
	// PollInterval is how often the snapshot is polled (with ETag) while the
	// stream cannot be established; it also caps the reconnection backoff.
	// Zero means DefaultPollInterval.
	PollInterval time.Duration
	// Logger receives connection and cache problems; nil discards them.
	Logger *slog.Logger
	// HTTPClient makes every request; nil means a private client. It must
	// not set a Timeout, which would cut the long-lived stream.
	HTTPClient *http.Client
}

// Client holds a current flag snapshot, kept in sync with a bascule server,
// and evaluates flags in-process. It is safe for concurrent use; evaluation
// takes no lock and makes no network call. Close it when done.
type Client struct {
	snapshotURL string
	streamURL   string
	apiKey      string
	cacheFile   string
	poll        time.Duration
	log         *slog.Logger
	http        *http.Client
	ownHTTP     bool // http was made by New, so Close may close its connections

	snap      atomic.Pointer[feature.Snapshot]
	ready     chan struct{}
	readyOnce sync.Once

	mu        sync.Mutex
	listeners []func(version int64)

	cancel    context.CancelFunc
	done      chan struct{} // closed when the sync goroutine has returned
	closeOnce sync.Once
}

// New starts a client: it downloads the snapshot once and then keeps it
// current in the background, from the server's event stream or, when that
// cannot be established, by polling.
//
// If the server cannot be reached (or answers with an error other than 401
// or 403), New loads Options.CacheFile instead and returns a ready client; if
// there is no usable cache either, it returns a client that is not ready yet:
// its evaluations return the caller's defaults until the first snapshot
// arrives, which Ready reports. A corrupt cache file is logged and ignored.
//
// New returns an error for invalid options, when the server refuses the API
// key (the error matches ErrUnauthorized), or when ctx ends first.
func New(ctx context.Context, opts Options) (*Client, error) {
	c, err := newClient(opts)
	if err != nil {
		return nil, err
	}
	if err := c.initialSync(ctx); err != nil {
		c.closeHTTP()
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.run(bg)
	return c, nil
}

func newClient(opts Options) (*Client, error) {
	base, err := url.Parse(opts.URL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("create flag client: URL %q is not an http(s) URL", opts.URL)
	}
	root := strings.TrimSuffix(base.String(), "/")
	c := &Client{
		snapshotURL: root + "/api/v1/flags/snapshot",
		streamURL:   root + "/api/v1/flags/stream",
		apiKey:      opts.APIKey,
		cacheFile:   opts.CacheFile,
		poll:        opts.PollInterval,
		log:         opts.Logger,
		http:        opts.HTTPClient,
		ready:       make(chan struct{}),
		done:        make(chan struct{}),
	}
	if c.poll <= 0 {
		c.poll = DefaultPollInterval
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.http == nil {
		// A private transport, so that Close can drop its idle connections
		// without touching anyone else's.
		c.http = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		c.ownHTTP = true
	}
	return c, nil
}

// initialSync gets the first snapshot from the server, or else from the cache.
func (c *Client) initialSync(ctx context.Context) error {
	fctx, cancel := context.WithTimeout(ctx, initialFetchTimeout)
	defer cancel()
	s, raw, err := c.fetch(fctx, nil)
	switch {
	case err == nil:
		c.apply(s, raw, true)
		return nil
	case errors.Is(err, ErrUnauthorized):
		return fmt.Errorf("fetch flag snapshot: %w", err)
	case ctx.Err() != nil:
		return fmt.Errorf("fetch flag snapshot: %w", context.Cause(ctx))
	}
	c.log.Warn("flag server unreachable at start; retrying in the background", "url", c.snapshotURL, "err", err)
	if s := c.loadCache(); s != nil {
		c.apply(s, nil, false)
		c.log.Info("serving flags from the cache file until the server answers", "file", c.cacheFile, "version", s.Version)
	}
	return nil
}

// Close stops the background sync and waits for it to end. Evaluation keeps
// working on the last snapshot. Close is idempotent and always returns nil.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		<-c.done
		c.closeHTTP()
	})
	return nil
}

func (c *Client) closeHTTP() {
	if c.ownHTTP {
		c.http.CloseIdleConnections()
	}
}

// Ready returns a channel closed once the client holds a snapshot, from the
// server or from the cache file.
func (c *Client) Ready() <-chan struct{} { return c.ready }

// Version returns the version of the current snapshot, or 0 if there is none.
func (c *Client) Version() int64 {
	if s := c.snap.Load(); s != nil {
		return s.Version
	}
	return 0
}

// OnChange registers fn to be called with the new version each time the
// snapshot changes. Calls come one at a time from the sync goroutine, after
// the new snapshot is in use; fn must return quickly, since the next update
// waits for it.
func (c *Client) OnChange(fn func(version int64)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listeners = append(c.listeners, fn)
}

// apply installs s if its version differs from the current one, and reports
// whether it did. The server is the authority on versions, so a lower version
// (a restored database) is taken too. raw is s's wire form, written to the
// cache file when it came from the network.
func (c *Client) apply(s *feature.Snapshot, raw []byte, fromNetwork bool) bool {
	if old := c.snap.Load(); old != nil && old.Version == s.Version {
		return false
	}
	c.snap.Store(s)
	c.readyOnce.Do(func() { close(c.ready) })
	c.log.Debug("flag snapshot installed", "version", s.Version)
	c.mu.Lock()
	listeners := c.listeners
	c.mu.Unlock()
	for _, fn := range listeners {
		fn(s.Version)
	}
	// The cache is written after listeners run so that disk latency never
	// delays an update reaching the application.
	if fromNetwork {
		c.writeCache(raw)
	}
	return true
}
