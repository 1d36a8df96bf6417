package flagclient

import (
	"fmt"
	"math"

	"github.com/bascule/bascule/feature"
)

// ErrProviderNotReady is the error code of an evaluation made before the
// client holds any snapshot (OpenFeature's PROVIDER_NOT_READY).
const ErrProviderNotReady feature.ErrorCode = "PROVIDER_NOT_READY"

// Evaluate evaluates a flag on the current snapshot with feature.Evaluate: no
// network call, no lock. Before the first snapshot it returns an error result
// with code ErrProviderNotReady. Result.Value is shared with the snapshot and
// must not be modified.
func (c *Client) Evaluate(key string, ec feature.EvalContext) feature.Result {
	s := c.snap.Load()
	if s == nil {
		return feature.Result{Key: key, Reason: feature.ReasonError, ErrorCode: ErrProviderNotReady, ErrorMessage: "no flag snapshot yet"}
	}
	return feature.Evaluate(s, key, ec)
}

// Bool returns a boolean flag's value for ec, or def if the flag is missing,
// is not boolean, or cannot be evaluated (see BoolDetail for why).
func (c *Client) Bool(key string, def bool, ec feature.EvalContext) bool {
	// The hot path, written out: an error result has no value, so one type
	// assertion covers errors and mismatches alike.
	s := c.snap.Load()
	if s == nil {
		return def
	}
	if v, ok := feature.Evaluate(s, key, ec).Value.(bool); ok {
		return v
	}
	return def
}

// BoolDetail is Bool with the evaluation result. A flag of another type gives
// def and an error result with code feature.ErrTypeMismatch.
func (c *Client) BoolDetail(key string, def bool, ec feature.EvalContext) (bool, feature.Result) {
	return typed(c.Evaluate(key, ec), def, feature.KindBoolean)
}

// String returns a string flag's value for ec, or def (see StringDetail).
func (c *Client) String(key string, def string, ec feature.EvalContext) string {
	s := c.snap.Load()
	if s == nil {
		return def
	}
	if v, ok := feature.Evaluate(s, key, ec).Value.(string); ok {
		return v
	}
	return def
}

// StringDetail is String with the evaluation result; see BoolDetail.
func (c *Client) StringDetail(key string, def string, ec feature.EvalContext) (string, feature.Result) {
	return typed(c.Evaluate(key, ec), def, feature.KindString)
}

// Float returns a number flag's value for ec, or def (see FloatDetail).
func (c *Client) Float(key string, def float64, ec feature.EvalContext) float64 {
	s := c.snap.Load()
	if s == nil {
		return def
	}
	if v, ok := feature.Evaluate(s, key, ec).Value.(float64); ok {
		return v
	}
	return def
}

// FloatDetail is Float with the evaluation result; see BoolDetail.
func (c *Client) FloatDetail(key string, def float64, ec feature.EvalContext) (float64, feature.Result) {
	return typed(c.Evaluate(key, ec), def, feature.KindNumber)
}

// Int returns a number flag's value for ec as an integer, or def (see
// IntDetail).
func (c *Client) Int(key string, def int64, ec feature.EvalContext) int64 {
	v, _ := c.IntDetail(key, def, ec)
	return v
}

// IntDetail is Int with the evaluation result. Numbers are JSON numbers, so
// a value with a fractional part, or beyond int64, is a type mismatch.
func (c *Client) IntDetail(key string, def int64, ec feature.EvalContext) (int64, feature.Result) {
	f, r := typed(c.Evaluate(key, ec), 0.0, feature.KindNumber)
	if r.Reason == feature.ReasonError {
		return def, r
	}
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return def, feature.Result{Key: key, Reason: feature.ReasonError, ErrorCode: feature.ErrTypeMismatch,
			ErrorMessage: fmt.Sprintf("flag %q serves %v, which is not an integer", key, f)}
	}
	return int64(f), r
}

// Object returns an object (JSON) flag's value for ec, or def (see
// ObjectDetail). The map is the caller's own copy.
func (c *Client) Object(key string, def map[string]any, ec feature.EvalContext) map[string]any {
	v, _ := c.ObjectDetail(key, def, ec)
	return v
}

// ObjectDetail is Object with the evaluation result; see BoolDetail. The
// value is copied, so that no caller can change what others are served.
func (c *Client) ObjectDetail(key string, def map[string]any, ec feature.EvalContext) (map[string]any, feature.Result) {
	m, r := typed(c.Evaluate(key, ec), map[string]any(nil), feature.KindObject)
	if r.Reason == feature.ReasonError {
		return def, r
	}
	m = feature.CloneValue(m).(map[string]any)
	r.Value = m
	return m, r
}

// typed extracts a T from a successful result, or returns def with the
// result (an error) or a TYPE_MISMATCH result.
func typed[T any](r feature.Result, def T, want feature.Kind) (T, feature.Result) {
	if r.Reason == feature.ReasonError {
		return def, r
	}
	v, ok := r.Value.(T)
	if !ok {
		return def, mismatch(r, want)
	}
	return v, r
}

func mismatch(r feature.Result, want feature.Kind) feature.Result {
	return feature.Result{
		Key:          r.Key,
		Reason:       feature.ReasonError,
		ErrorCode:    feature.ErrTypeMismatch,
		ErrorMessage: fmt.Sprintf("flag %q serves %s values, not %s", r.Key, kindOf(r.Value), want),
	}
}

// kindOf names the kind of a snapshot value, as feature.Kind does.
func kindOf(v any) feature.Kind {
	switch v.(type) {
	case bool:
		return feature.KindBoolean
	case string:
		return feature.KindString
	case float64:
		return feature.KindNumber
	case map[string]any:
		return feature.KindObject
	}
	return feature.Kind(fmt.Sprintf("%T", v))
}
