package feature

import (
	"time"
)

// EvalContext is what a flag is evaluated for: the targeting key that
// percentage rules hash (usually a user or account id) and any attributes that
// segment conditions test.
type EvalContext struct {
	TargetingKey string
	Attributes   map[string]any
}

// Reason says why a result has its value; the names are OpenFeature's.
type Reason string

// The reasons Evaluate returns.
const (
	// ReasonStatic: the flag has no rules, schedule or prerequisite.
	ReasonStatic Reason = "STATIC"
	// ReasonTargetingMatch: a segment rule served its variant.
	ReasonTargetingMatch Reason = "TARGETING_MATCH"
	// ReasonSplit: a percentage split placed the targeting key.
	ReasonSplit Reason = "SPLIT"
	// ReasonDisabled: the flag is off; the off variant is served.
	ReasonDisabled Reason = "DISABLED"
	// ReasonDefault: no rule matched, or the prerequisite was not met.
	ReasonDefault Reason = "DEFAULT"
	// ReasonError: no value; see ErrorCode.
	ReasonError Reason = "ERROR"
)

// ErrorCode is OpenFeature's error code for a failed evaluation.
type ErrorCode string

// The error codes. Evaluate itself returns FLAG_NOT_FOUND,
// TARGETING_KEY_MISSING and GENERAL; the others are for callers that parse
// contexts or convert values.
const (
	ErrFlagNotFound        ErrorCode = "FLAG_NOT_FOUND"
	ErrTypeMismatch        ErrorCode = "TYPE_MISMATCH"
	ErrTargetingKeyMissing ErrorCode = "TARGETING_KEY_MISSING"
	ErrParse               ErrorCode = "PARSE_ERROR"
	ErrInvalidContext      ErrorCode = "INVALID_CONTEXT"
	ErrGeneral             ErrorCode = "GENERAL"
)

// Result is the outcome of one evaluation. On error, Reason is ReasonError,
// Value is nil and the caller serves its own default. When a prerequisite is
// not met, Reason is ReasonDefault, the off variant is served and
// ErrorMessage (with no ErrorCode) says which prerequisite failed.
type Result struct {
	Key          string
	Value        any
	Variant      string
	Reason       Reason
	ErrorCode    ErrorCode
	ErrorMessage string
}

// Evaluate evaluates one flag at the current time. It is EvaluateAt with
// time.Now, read only when the flag has a schedule. It never allocates.
func Evaluate(s *Snapshot, key string, ctx EvalContext) Result {
	return evaluate(s, key, &ctx, clock{})
}

// EvaluateAt evaluates one flag as of now, a pure function of its arguments:
// the same snapshot, key, context and time always give the same result, in
// every process. Rules are tried in order, then the active schedule step, then
// the default variant. A split reached without a targeting key is an error
// (TARGETING_KEY_MISSING), never a random choice.
func EvaluateAt(s *Snapshot, key string, ctx EvalContext, now time.Time) Result {
	return evaluate(s, key, &ctx, clock{now: now, set: true})
}

// clock reads time.Now at most once, and only if a schedule needs it.
type clock struct {
	now time.Time
	set bool
}

func (c *clock) get() time.Time {
	if !c.set {
		c.now, c.set = time.Now(), true
	}
	return c.now
}

func evaluate(s *Snapshot, key string, ctx *EvalContext, clk clock) Result {
	if s == nil || s.compiled == nil {
		return failed(key, ErrGeneral, "no snapshot: build one with NewSnapshot")
	}
	f, ok := s.compiled[key]
	if !ok {
		return failed(key, ErrFlagNotFound, "flag not found")
	}
	return f.eval(ctx, &clk)
}

func failed(key string, code ErrorCode, msg string) Result {
	return Result{Key: key, Reason: ReasonError, ErrorCode: code, ErrorMessage: msg}
}

func (f *compiledFlag) serve(v variant, reason Reason) Result {
	return Result{Key: f.key, Value: v.value, Variant: v.name, Reason: reason}
}

// eval walks the flag: kill switch, prerequisite, rules, schedule, default.
// Validation has ruled out prerequisite cycles, so the recursion ends.
func (f *compiledFlag) eval(ctx *EvalContext, clk *clock) Result {
	if !f.enabled {
		return f.serve(f.off, ReasonDisabled)
	}
	if f.prereq != nil {
		p := f.prereq.eval(ctx, clk)
		if p.Reason == ReasonError {
			return failed(f.key, p.ErrorCode, p.ErrorMessage)
		}
		if p.Variant != f.preVar {
			r := f.serve(f.off, ReasonDefault)
			r.ErrorMessage = f.preMsg
			return r
		}
	}
	for i := range f.rules {
		r := &f.rules[i]
		if r.seg != nil && !r.seg.matches(ctx) {
			continue
		}
		if len(r.split) == 0 {
			return f.serve(r.v, ReasonTargetingMatch)
		}
		return f.split(r.split, ctx)
	}
	if st := f.activeStep(clk); st != nil {
		return f.split(st.split, ctx)
	}
	if f.static {
		return f.serve(f.def, ReasonStatic)
	}
	return f.serve(f.def, ReasonDefault)
}

func (f *compiledFlag) split(bounds []bound, ctx *EvalContext) Result {
	if ctx.TargetingKey == "" {
		return failed(f.key, ErrTargetingKeyMissing, "a percentage rollout needs a targeting key")
	}
	return f.serve(pick(bounds, bucketOf(f.prefix, ctx.TargetingKey)), ReasonSplit)
}

// activeStep returns the last schedule step whose time has come, or nil.
func (f *compiledFlag) activeStep(clk *clock) *compiledStep {
	if len(f.steps) == 0 {
		return nil
	}
	now := clk.get()
	for i := len(f.steps) - 1; i >= 0; i-- {
		if !f.steps[i].at.After(now) {
			return &f.steps[i]
		}
	}
	return nil
}
