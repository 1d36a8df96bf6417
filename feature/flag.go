package feature

import (
	"time"
)

// Type says what a flag is for, which decides how long it is expected to live.
type Type string

// The four flag types. A release flag is meant to be removed once it is fully on;
// the others are permanent.
const (
	TypeRelease    Type = "release"
	TypeOps        Type = "ops"
	TypeExperiment Type = "experiment"
	TypePermission Type = "permission"
)

// Units of a split: a weight of 1 is 0.001 %, so a split sums to TotalWeight.
const TotalWeight = 100000

// DefaultExpectedLifetime is how long a release flag may stay fully rolled out
// before it is reported as ready to remove, when the flag does not say.
const DefaultExpectedLifetime = 30 * 24 * time.Hour

// Flag is one feature flag. The zero values of the optional fields are filled in
// by NewSnapshot: no variants means boolean {"on": true, "off": false}, no off
// variant means "off", no default variant means the off variant, no type means
// release.
type Flag struct {
	Key         string `json:"key"`
	Description string `json:"description,omitempty"`
	Owner       string `json:"owner,omitempty"`
	Type        Type   `json:"type"`
	// Enabled is the kill switch: a disabled flag serves OffVariant to everyone.
	Enabled bool `json:"enabled"`
	// Variants maps a variant name to its value: all bool, all string, all
	// numbers (int64 or float64), or all JSON objects (map[string]any).
	Variants       map[string]any `json:"variants"`
	OffVariant     string         `json:"off_variant"`
	DefaultVariant string         `json:"default_variant"`
	// Rules are tried in order; the first that matches decides.
	Rules []Rule `json:"rules,omitempty"`
	// Salt is mixed into the bucketing hash; changing it reshuffles who is in
	// a percentage on purpose.
	Salt string `json:"salt"`
	// Prerequisite, when set, must evaluate to its variant for this flag to go
	// past its off variant.
	Prerequisite *Prerequisite `json:"prerequisite,omitempty"`
	// Schedule is a list of rollout steps; the active step (the last whose At is
	// not after now) acts as a split rule tried after Rules.
	Schedule []Step `json:"schedule,omitempty"`
	// ExpectedLifetime is how long a release flag may serve one variant to
	// everyone before it is stale; zero means DefaultExpectedLifetime.
	ExpectedLifetime time.Duration `json:"expected_lifetime,omitempty"`
	CreatedAt        time.Time     `json:"created_at"`
	UpdatedAt        time.Time     `json:"updated_at"`
}

// Rule is one targeting rule. It names a segment (optional: no segment means
// everyone) and serves either one Variant or a weighted Split of variants.
type Rule struct {
	Segment string     `json:"segment,omitempty"`
	Variant string     `json:"variant,omitempty"`
	Split   []Weighted `json:"split,omitempty"`
}

// Weighted is one share of a split, in units of 0.001 % (TotalWeight is 100 %).
type Weighted struct {
	Variant string `json:"variant"`
	Weight  int    `json:"weight"`
}

// Prerequisite names a flag and the variant it must evaluate to.
type Prerequisite struct {
	Flag    string `json:"flag"`
	Variant string `json:"variant"`
}

// Step is one step of a scheduled rollout: from At on, Split is served to
// everyone who reaches it.
type Step struct {
	At    time.Time  `json:"at"`
	Split []Weighted `json:"split"`
}

// Boolean returns the variants of a boolean flag.
func Boolean() map[string]any {
	return map[string]any{"on": true, "off": false}
}

// Percent returns the boolean split that serves "on" to weightOn units of
// 0.001 % and "off" to the rest: Percent(10000) is 10 % on, 90 % off.
func Percent(weightOn int) []Weighted {
	return []Weighted{{Variant: "off", Weight: TotalWeight - weightOn}, {Variant: "on", Weight: weightOn}}
}
