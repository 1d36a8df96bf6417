package feature

import (
	"math"
	"strconv"
	"strings"
)

// Segment is a named, reusable set of users: explicit targeting keys, and/or
// attribute conditions combined by Match. A user is in the segment when their
// targeting key is listed or the conditions match.
type Segment struct {
	Key         string `json:"key"`
	Description string `json:"description,omitempty"`
	// Keys are targeting keys that are always in the segment.
	Keys []string `json:"keys,omitempty"`
	// Match combines Conditions: MatchAll (the default) or MatchAny.
	Match      Match       `json:"match,omitempty"`
	Conditions []Condition `json:"conditions,omitempty"`
}

// Match says how a segment combines its conditions.
type Match string

// The two ways to combine conditions.
const (
	MatchAll Match = "all"
	MatchAny Match = "any"
)

// Condition compares one context attribute with one or more values.
type Condition struct {
	Attribute string   `json:"attribute"`
	Op        Operator `json:"op"`
	// Values holds one value for every operator but OpIn, which takes a list;
	// ends_with and starts_with take a list too and match any of them.
	Values []string `json:"values"`
}

// Operator is a condition's comparison.
type Operator string

// The operators. There is deliberately no expression language.
const (
	// OpEquals matches an attribute equal to the value: strings exactly,
	// numbers and booleans by value ("3" equals 3, "true" equals true).
	OpEquals Operator = "equals"
	// OpIn matches an attribute equal to any of the values.
	OpIn Operator = "in"
	// OpEndsWith matches a string attribute ending with any value, ignoring
	// case, because e-mail domains are case-insensitive.
	OpEndsWith Operator = "ends_with"
	// OpStartsWith matches a string attribute starting with any value,
	// ignoring case.
	OpStartsWith Operator = "starts_with"
	// OpSemverGTE matches a string attribute that is a semantic version
	// greater than or equal to the value ("v" prefix allowed, pre-releases
	// ordered as in semver.org §11).
	OpSemverGTE Operator = "semver_gte"
)

// targetingKeyAttribute lets a condition test the targeting key itself, which
// OpenFeature carries outside the attributes.
const targetingKeyAttribute = "targetingKey"

// compiledSegment is a Segment prepared for evaluation without allocation.
type compiledSegment struct {
	keys  map[string]struct{} // many listed keys: hashed
	few   []string            // up to maxScanKeys listed keys: compared in turn, faster than hashing
	any   bool
	conds []compiledCondition
}

// compiledCondition holds each value pre-parsed in every form an attribute may
// take, so matching never parses the condition side.
type compiledCondition struct {
	attr   string
	op     opcode // the Operator as a small integer: switching on it compares no strings
	strs   []string
	nums   []float64 // NaN where the value is not a number
	bools  []int8    // -1 where the value is not a boolean, else 0 or 1
	semver semver
}

func compileSegment(s *Segment) *compiledSegment {
	c := &compiledSegment{any: s.Match == MatchAny}
	if len(s.Keys) <= maxScanKeys {
		c.few = s.Keys
	} else {
		c.keys = make(map[string]struct{}, len(s.Keys))
		for _, k := range s.Keys {
			c.keys[k] = struct{}{}
		}
	}
	for _, cond := range s.Conditions {
		c.conds = append(c.conds, compileCondition(cond))
	}
	return c
}

func compileCondition(cond Condition) compiledCondition {
	c := compiledCondition{attr: cond.Attribute, op: opcodeOf(cond.Op), strs: cond.Values}
	for _, v := range cond.Values {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			n = math.NaN() // equals no number
		}
		c.nums = append(c.nums, n)
		b, err := strconv.ParseBool(v)
		switch {
		case err != nil:
			c.bools = append(c.bools, -1)
		case b:
			c.bools = append(c.bools, 1)
		default:
			c.bools = append(c.bools, 0)
		}
	}
	if cond.Op == OpSemverGTE && len(cond.Values) == 1 {
		c.semver, _ = parseSemver(cond.Values[0])
	}
	return c
}

// matches reports whether the context is in the segment.
// opcode is an Operator resolved at compile time.
type opcode uint8

const (
	opUnknown opcode = iota // validation refuses it; it matches nothing
	opEquals                // equals and in
	opEndsWith
	opStartsWith
	opSemverGTE
)

func opcodeOf(op Operator) opcode {
	switch op {
	case OpEquals, OpIn:
		return opEquals
	case OpEndsWith:
		return opEndsWith
	case OpStartsWith:
		return opStartsWith
	case OpSemverGTE:
		return opSemverGTE
	}
	return opUnknown
}

// maxScanKeys is how many listed keys a segment compares one by one before
// it hashes them instead.
const maxScanKeys = 8

func (s *compiledSegment) matches(ctx *EvalContext) bool {
	if ctx.TargetingKey != "" && s.listed(ctx.TargetingKey) {
		return true
	}
	if len(s.conds) == 0 {
		return false
	}
	for i := range s.conds {
		ok := s.conds[i].matches(ctx)
		if s.any && ok {
			return true
		}
		if !s.any && !ok {
			return false
		}
	}
	return !s.any
}

func (s *compiledSegment) listed(key string) bool {
	if s.keys != nil {
		_, ok := s.keys[key]
		return ok
	}
	for _, k := range s.few {
		if k == key {
			return true
		}
	}
	return false
}

func (c *compiledCondition) matches(ctx *EvalContext) bool {
	v, ok := ctx.Attributes[c.attr]
	if !ok && c.attr == targetingKeyAttribute && ctx.TargetingKey != "" {
		v, ok = ctx.TargetingKey, true
	}
	if !ok || v == nil {
		return false
	}
	switch c.op {
	case opEquals:
		return c.equalsAny(v)
	case opEndsWith:
		s, ok := v.(string)
		return ok && anyFold(s, c.strs, true)
	case opStartsWith:
		s, ok := v.(string)
		return ok && anyFold(s, c.strs, false)
	case opSemverGTE:
		s, ok := v.(string)
		if !ok {
			return false
		}
		got, ok := parseSemver(s)
		return ok && got.compare(c.semver) >= 0
	}
	return false
}

// equalsAny compares an attribute of any JSON type with the values.
func (c *compiledCondition) equalsAny(v any) bool {
	switch x := v.(type) {
	case string:
		for _, s := range c.strs {
			if s == x {
				return true
			}
		}
	case bool:
		var want int8
		if x {
			want = 1
		}
		for _, b := range c.bools {
			if b == want {
				return true
			}
		}
	default:
		n, ok := toFloat(v)
		if !ok {
			return false
		}
		for _, m := range c.nums {
			if m == n {
				return true
			}
		}
	}
	return false
}

// anyFold reports whether s ends (suffix) or starts with any of the affixes,
// ignoring case, without lowering s, which would allocate.
func anyFold(s string, affixes []string, suffix bool) bool {
	for _, a := range affixes {
		if len(a) > len(s) {
			continue
		}
		part := s[:len(a)]
		if suffix {
			part = s[len(s)-len(a):]
		}
		if strings.EqualFold(part, a) {
			return true
		}
	}
	return false
}
