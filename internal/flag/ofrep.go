package flag

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/bascule/bascule/feature"
)

// SnapshotSource gives the current snapshot; it is called once per request
// and must be cheap and safe for concurrent use (an atomic.Pointer load).
type SnapshotSource interface {
	Snapshot() *Snapshot
}

// Current holds the current snapshot for concurrent readers; it is a
// SnapshotSource. The zero value holds none.
type Current struct {
	p atomic.Pointer[Snapshot]
}

// Snapshot returns the stored snapshot, or nil.
func (c *Current) Snapshot() *Snapshot { return c.p.Load() }

// Store replaces the snapshot; readers see the old or the new one, whole.
func (c *Current) Store(s *Snapshot) { c.p.Store(s) }

// OFREPOptions configures NewOFREPHandler. The zero value works.
type OFREPOptions struct {
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// EventStreamURL, when set, is announced in every bulk response as an
	// `eventStreams` entry of type "sse", so providers re-fetch as soon as
	// the configuration changes instead of polling. Serving that stream is
	// not this handler's job. A URL starting with "/" is made absolute
	// with the request's host, as clients connect to it as given.
	EventStreamURL string
	// EventStreamToken, when set, gives a credential that is added to
	// EventStreamURL as its "token" query parameter, for clients that
	// cannot send headers with the stream request (a browser's
	// EventSource). It is called once per bulk request, and what it
	// returns is part of the answer and so of its ETag: a token that
	// changes at every call would defeat If-None-Match, so it should
	// change only when it rotates.
	EventStreamToken func() string
	// Now is the clock for scheduled rollouts; nil means time.Now.
	Now func() time.Time
	// Observe, when set, is called with every result served, for metrics.
	// It runs on the hot path: it must be cheap and safe for concurrent use
	// (Service.Observe is).
	Observe func(Result)
}

// maxRequestBody bounds an evaluation request; a context is a few hundred bytes.
const maxRequestBody = 1 << 20

// NewOFREPHandler serves the OpenFeature Remote Evaluation Protocol:
//
//	POST /ofrep/v1/evaluate/flags/{key}  one flag: 200, 400, 404 or 500
//	POST /ofrep/v1/evaluate/flags        every flag: 200 with ETag, or 304
//
// The request body is {"context": {"targetingKey": "…", …}}; a missing body is
// an empty context. Authentication is left to a wrapping handler.
func NewOFREPHandler(src SnapshotSource, opts OFREPOptions) http.Handler {
	h := &ofrepHandler{src: src, opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.buffers.New = func() any { b := make([]byte, 0, 4096); return &b }
	if h.opts.Now == nil {
		h.opts.Now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ofrep/v1/evaluate/flags/{key}", h.single)
	mux.HandleFunc("POST /ofrep/v1/evaluate/flags", h.bulk)
	return mux
}

type ofrepHandler struct {
	src     SnapshotSource
	opts    OFREPOptions
	log     *slog.Logger
	buffers sync.Pool // *[]byte for bulk bodies, which are a few kilobytes
}

// The error bodies, named as in the OFREP OpenAPI document; successes are
// written by appendResult.
type (
	evaluationFailure struct {
		Key          string    `json:"key,omitempty"`
		ErrorCode    ErrorCode `json:"errorCode"`
		ErrorDetails string    `json:"errorDetails,omitempty"`
	}
	generalError struct {
		ErrorDetails string `json:"errorDetails"`
	}
)

func (h *ofrepHandler) single(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	ctx, code, err := readContext(w, r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, evaluationFailure{Key: key, ErrorCode: code, ErrorDetails: err.Error()})
		return
	}
	s := h.snapshot(w)
	if s == nil {
		return
	}
	res := h.evaluate(s, key, ctx, h.opts.Now())
	switch res.ErrorCode {
	case "":
		body, err := appendResult(nil, res)
		if err != nil {
			h.internal(w, fmt.Errorf("encode evaluation: %w", err))
			return
		}
		writeBody(w, http.StatusOK, body)
	case ErrFlagNotFound:
		writeJSON(w, http.StatusNotFound, evaluationFailure{Key: key, ErrorCode: ErrFlagNotFound, ErrorDetails: fmt.Sprintf("flag %q not found", key)})
	case ErrGeneral:
		h.internal(w, errors.New(res.ErrorMessage))
	default:
		writeJSON(w, http.StatusBadRequest, failure(res))
	}
}

func (h *ofrepHandler) bulk(w http.ResponseWriter, r *http.Request) {
	ctx, code, err := readContext(w, r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, evaluationFailure{ErrorCode: code, ErrorDetails: err.Error()})
		return
	}
	s := h.snapshot(w)
	if s == nil {
		return
	}
	now := h.opts.Now()
	buf := h.buffers.Get().(*[]byte)
	defer h.buffers.Put(buf)
	body, err := appendBulk((*buf)[:0], s, func(key string) Result { return h.evaluate(s, key, ctx, now) }, h.streamURL(r))
	if err != nil {
		h.internal(w, fmt.Errorf("encode bulk evaluation: %w", err))
		return
	}
	*buf = body
	etag := bulkETag(s.Version, body)
	w.Header().Set("ETag", etag)
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeBody(w, http.StatusOK, body)
}

func (h *ofrepHandler) evaluate(s *Snapshot, key string, ctx EvalContext, now time.Time) Result {
	res := feature.EvaluateAt(s, key, ctx, now)
	if h.opts.Observe != nil {
		h.opts.Observe(res)
	}
	return res
}

// streamURL is EventStreamURL with its token, made absolute for a path.
func (h *ofrepHandler) streamURL(r *http.Request) string {
	u := h.opts.EventStreamURL
	if u != "" && h.opts.EventStreamToken != nil {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "token=" + url.QueryEscape(h.opts.EventStreamToken())
	}
	if !strings.HasPrefix(u, "/") {
		return u
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + u
}

// bulkETag hashes the snapshot version and the response body. The body is a
// function of the flag configuration, the request context and the schedules'
// progress, so the tag changes exactly when a client's cached answer would be
// wrong, plus whenever the configuration version moves.
func bulkETag(version int64, body []byte) string {
	var d xxhash.Digest
	d.Reset()
	var v [8]byte
	binary.LittleEndian.PutUint64(v[:], uint64(version))
	_, _ = d.Write(v[:])
	_, _ = d.Write(body)
	return fmt.Sprintf(`"%016x"`, d.Sum64())
}

// etagMatches implements If-None-Match's weak comparison over a list of tags.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

func (h *ofrepHandler) snapshot(w http.ResponseWriter) *Snapshot {
	s := h.src.Snapshot()
	if s == nil {
		h.internal(w, errors.New("no flag snapshot loaded"))
	}
	return s
}

func (h *ofrepHandler) internal(w http.ResponseWriter, err error) {
	h.log.Error("ofrep evaluation failed", "err", err)
	writeJSON(w, http.StatusInternalServerError, generalError{ErrorDetails: "internal error"})
}

func failure(r Result) evaluationFailure {
	return evaluationFailure{Key: r.Key, ErrorCode: r.ErrorCode, ErrorDetails: r.ErrorMessage}
}

// readContext decodes {"context": {...}}. Bad JSON is PARSE_ERROR; a context
// of the wrong shape is INVALID_CONTEXT.
func readContext(w http.ResponseWriter, r *http.Request) (EvalContext, ErrorCode, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		return EvalContext{}, ErrParse, fmt.Errorf("read request body: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return EvalContext{}, "", nil
	}
	var req struct {
		Context json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return EvalContext{}, ErrParse, fmt.Errorf("parse request body: %w", err)
	}
	var attrs map[string]any
	if len(req.Context) > 0 && string(req.Context) != "null" {
		if err := json.Unmarshal(req.Context, &attrs); err != nil {
			return EvalContext{}, ErrInvalidContext, errors.New("context must be a JSON object")
		}
	}
	ctx := EvalContext{Attributes: attrs}
	if tk, ok := attrs["targetingKey"]; ok {
		s, isString := tk.(string)
		if !isString {
			return EvalContext{}, ErrInvalidContext, errors.New("context.targetingKey must be a string")
		}
		ctx.TargetingKey = s
		delete(attrs, "targetingKey")
	}
	return ctx, "", nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"errorDetails":"internal error"}`)
	}
	writeBody(w, status, body)
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
