// Package feature is bascule's feature-flag model and its evaluation: the
// flags and segments, the immutable Snapshot they are compiled into, the
// pure function that evaluates a flag for a user, the bucketing hash of
// percentage rollouts, and the JSON wire form of a snapshot.
//
// The bascule server evaluates with this package, and so does the Go SDK
// (package github.com/bascule/bascule/flagclient), so an application and the
// server always agree: same rules, same percentage buckets, bit for bit.
// Most applications only need EvalContext and Result from here, through
// flagclient:
//
//	user := feature.EvalContext{
//		TargetingKey: "user-42", // what percentage rollouts hash
//		Attributes:   map[string]any{"email": "ann@example.com", "app_version": "2.3.0"},
//	}
//	if client.Bool("checkout-v2", false, user) { … }
//
// The package is also usable on its own, to evaluate a snapshot read from a
// file (DecodeSnapshot) or built in a test (NewSnapshot).
//
// # Model
//
// A Flag has variants (boolean on/off unless it says otherwise), an off
// variant served when it is disabled, a default variant served when no rule
// matches, and an ordered list of rules. A Rule serves a variant to a Segment,
// or a weighted split of variants to everyone or to a segment. A Segment is a
// list of targeting keys and/or attribute conditions (equals, in, ends_with,
// starts_with, semver_gte) combined by all or any. A flag may also have a
// prerequisite flag and a schedule of rollout steps.
//
// NewSnapshot validates a set of flags and segments together and compiles
// them into an immutable Snapshot. Evaluate and EvaluateAt are pure functions
// of a snapshot, a flag key and an EvalContext, and never allocate.
//
// # Evaluation order
//
//  1. disabled: the off variant, reason DISABLED;
//  2. a prerequisite not met: the off variant, reason DEFAULT, and
//     Result.ErrorMessage names the prerequisite (OpenFeature has no
//     dedicated reason, and DEFAULT, "fell back to a pre-configured value",
//     is what happened). The default variant is not involved: a user who
//     fails the prerequisite gets the off variant whatever default_variant
//     says;
//  3. the first rule whose segment matches (or that has none): its variant
//     (TARGETING_MATCH) or its split (SPLIT);
//  4. the active schedule step, the last whose time has come: its split
//     (SPLIT);
//  5. the default variant: STATIC for a flag with no rules, schedule or
//     prerequisite, DEFAULT otherwise.
//
// A split needs a targeting key: without one the result is an error with
// code TARGETING_KEY_MISSING, never a random variant. Splits use Bucket:
// xxHash64 of flag key, salt and targeting key, so a user who is in at 10 %
// stays in at 20 % (see docs/adr/0001-flag-bucketing.md).
//
// Reasons and error codes are OpenFeature's names, so a Result maps onto any
// OpenFeature SDK's resolution details unchanged.
//
// # Wire form
//
// Wire is the JSON a bascule server serves at GET /api/v1/flags/snapshot and
// streams to the Go SDK; Snapshot.MarshalJSON writes it and DecodeSnapshot
// reads and validates it.
//
// # Stability
//
// This package and flagclient are bascule's public Go API; everything under
// internal/ may change at any time. They follow semantic versioning with
// bascule's module. Within a major version: exported names keep their
// signatures and meaning; Evaluate gives the same Result for the same
// snapshot, key, context and time; Bucket never moves a user
// (testdata/buckets.golden pins it); the wire form only gains optional
// fields, which older readers ignore. A minor version may add names, fields,
// operators, reasons and error codes. Not promised: the text of error and
// validation messages. Until v1.0.0 a minor version may still break the API;
// such a change is listed under "Changed" in the CHANGELOG, with how to
// adapt.
package feature
