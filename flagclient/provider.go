package flagclient

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/bascule/bascule/feature"
)

// ProviderName is the provider's name in OpenFeature metadata and events.
const ProviderName = "bascule"

// Provider is an OpenFeature provider over a Client: every evaluation is the
// client's in-process evaluation. It also implements OpenFeature's
// ContextAwareStateHandler (initialisation waits for the client's first
// snapshot) and EventHandler (a new snapshot version is announced as
// PROVIDER_CONFIGURATION_CHANGED).
type Provider struct {
	c      *Client
	events chan openfeature.Event
	// last is the snapshot the previous event described, to name the flags
	// that changed.
	last atomic.Pointer[feature.Snapshot]
	// initFailed is set when initialisation gave up before the client was
	// ready, so that readiness is announced by an event when it comes.
	initFailed atomic.Bool
	shutdown   atomic.Bool
}

// Interfaces the OpenFeature SDK looks for.
var (
	_ openfeature.FeatureProvider          = (*Provider)(nil)
	_ openfeature.ContextAwareStateHandler = (*Provider)(nil)
	_ openfeature.EventHandler             = (*Provider)(nil)
)

// eventBuffer holds events the SDK has not taken yet; when it is full, a
// configuration change is dropped, which loses nothing since the pending one
// already says the configuration changed.
const eventBuffer = 16

// NewProvider returns an OpenFeature provider evaluating with c:
//
//	openfeature.SetProviderAndWait(flagclient.NewProvider(c))
//
// The provider does not own c: shutting the provider down leaves c running,
// and whoever created c closes it.
func NewProvider(c *Client) openfeature.FeatureProvider {
	p := &Provider{c: c, events: make(chan openfeature.Event, eventBuffer)}
	p.last.Store(c.snap.Load())
	c.OnChange(p.changed)
	return p
}

// Metadata names the provider "bascule".
func (p *Provider) Metadata() openfeature.Metadata {
	return openfeature.Metadata{Name: ProviderName}
}

// Hooks returns no hooks.
func (p *Provider) Hooks() []openfeature.Hook { return nil }

// BooleanEvaluation evaluates a boolean flag.
func (p *Provider) BooleanEvaluation(_ context.Context, key string, def bool, fc openfeature.FlattenedContext) openfeature.BoolResolutionDetail {
	v, r := p.c.BoolDetail(key, def, evalContext(fc))
	return openfeature.BoolResolutionDetail{Value: v, ProviderResolutionDetail: resolution(r)}
}

// StringEvaluation evaluates a string flag.
func (p *Provider) StringEvaluation(_ context.Context, key string, def string, fc openfeature.FlattenedContext) openfeature.StringResolutionDetail {
	v, r := p.c.StringDetail(key, def, evalContext(fc))
	return openfeature.StringResolutionDetail{Value: v, ProviderResolutionDetail: resolution(r)}
}

// FloatEvaluation evaluates a number flag.
func (p *Provider) FloatEvaluation(_ context.Context, key string, def float64, fc openfeature.FlattenedContext) openfeature.FloatResolutionDetail {
	v, r := p.c.FloatDetail(key, def, evalContext(fc))
	return openfeature.FloatResolutionDetail{Value: v, ProviderResolutionDetail: resolution(r)}
}

// IntEvaluation evaluates a number flag whose value is an integer.
func (p *Provider) IntEvaluation(_ context.Context, key string, def int64, fc openfeature.FlattenedContext) openfeature.IntResolutionDetail {
	v, r := p.c.IntDetail(key, def, evalContext(fc))
	return openfeature.IntResolutionDetail{Value: v, ProviderResolutionDetail: resolution(r)}
}

// ObjectEvaluation evaluates an object flag; the value is a map[string]any of
// the caller's own.
func (p *Provider) ObjectEvaluation(_ context.Context, key string, def any, fc openfeature.FlattenedContext) openfeature.InterfaceResolutionDetail {
	m, r := p.c.ObjectDetail(key, nil, evalContext(fc))
	if r.Reason == feature.ReasonError {
		return openfeature.InterfaceResolutionDetail{Value: def, ProviderResolutionDetail: resolution(r)}
	}
	return openfeature.InterfaceResolutionDetail{Value: m, ProviderResolutionDetail: resolution(r)}
}

// evalContext maps OpenFeature's flattened context: "targetingKey" becomes
// the targeting key, and the map itself serves as the attributes, unchanged
// and uncopied (a segment condition on "targetingKey" sees the same value
// either way), so that evaluation allocates nothing.
func evalContext(fc openfeature.FlattenedContext) feature.EvalContext {
	tk, _ := fc[openfeature.TargetingKey].(string)
	return feature.EvalContext{TargetingKey: tk, Attributes: fc}
}

// resolution maps a feature.Result to OpenFeature: reasons have the same names;
// error codes map to the matching ResolutionError.
func resolution(r feature.Result) openfeature.ProviderResolutionDetail {
	d := openfeature.ProviderResolutionDetail{Reason: openfeature.Reason(r.Reason), Variant: r.Variant}
	if r.Reason == feature.ReasonError {
		d.ResolutionError = resolutionError(r)
	}
	return d
}

func resolutionError(r feature.Result) openfeature.ResolutionError {
	msg := r.ErrorMessage
	switch r.ErrorCode {
	case feature.ErrFlagNotFound:
		return openfeature.NewFlagNotFoundResolutionError(msg)
	case feature.ErrTypeMismatch:
		return openfeature.NewTypeMismatchResolutionError(msg)
	case feature.ErrTargetingKeyMissing:
		return openfeature.NewTargetingKeyMissingResolutionError(msg)
	case feature.ErrParse:
		return openfeature.NewParseErrorResolutionError(msg)
	case feature.ErrInvalidContext:
		return openfeature.NewInvalidContextResolutionError(msg)
	case ErrProviderNotReady:
		return openfeature.NewProviderNotReadyResolutionError(msg)
	}
	return openfeature.NewGeneralResolutionError(fmt.Sprintf("%s: %s", r.ErrorCode, msg))
}
