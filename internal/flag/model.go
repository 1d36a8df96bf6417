package flag

import (
	"github.com/bascule/bascule/feature"
)

// The model, its evaluation and its wire form are the public package
// feature's, which the Go SDK evaluates with too: the server and every
// application agree bit for bit because they run the same code. These names
// let the server's packages keep saying flag.Flag for them; they are the
// same types, not copies. Functions (feature.NewSnapshot, feature.Evaluate…)
// are called through feature.
type (
	Flag            = feature.Flag
	Type            = feature.Type
	Rule            = feature.Rule
	Weighted        = feature.Weighted
	Prerequisite    = feature.Prerequisite
	Step            = feature.Step
	Segment         = feature.Segment
	Match           = feature.Match
	Condition       = feature.Condition
	Operator        = feature.Operator
	Snapshot        = feature.Snapshot
	Wire            = feature.Wire
	EvalContext     = feature.EvalContext
	Result          = feature.Result
	Reason          = feature.Reason
	ErrorCode       = feature.ErrorCode
	Kind            = feature.Kind
	Problem         = feature.Problem
	ValidationError = feature.ValidationError
)

// The model's constants, under the same names.
const (
	TypeRelease    = feature.TypeRelease
	TypeOps        = feature.TypeOps
	TypeExperiment = feature.TypeExperiment
	TypePermission = feature.TypePermission

	MatchAll = feature.MatchAll
	MatchAny = feature.MatchAny

	OpEquals     = feature.OpEquals
	OpIn         = feature.OpIn
	OpEndsWith   = feature.OpEndsWith
	OpStartsWith = feature.OpStartsWith
	OpSemverGTE  = feature.OpSemverGTE

	ReasonStatic         = feature.ReasonStatic
	ReasonTargetingMatch = feature.ReasonTargetingMatch
	ReasonSplit          = feature.ReasonSplit
	ReasonDisabled       = feature.ReasonDisabled
	ReasonDefault        = feature.ReasonDefault
	ReasonError          = feature.ReasonError

	ErrFlagNotFound        = feature.ErrFlagNotFound
	ErrTypeMismatch        = feature.ErrTypeMismatch
	ErrTargetingKeyMissing = feature.ErrTargetingKeyMissing
	ErrParse               = feature.ErrParse
	ErrInvalidContext      = feature.ErrInvalidContext
	ErrGeneral             = feature.ErrGeneral

	TotalWeight             = feature.TotalWeight
	DefaultExpectedLifetime = feature.DefaultExpectedLifetime
)
