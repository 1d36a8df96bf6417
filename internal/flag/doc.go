// Package flag holds bascule's feature flags: the model, validation,
// evaluation, bucketing, flags as code (YAML) and the OFREP handler.
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
//     is what happened);
//  3. the first rule whose segment matches (or that has none): its variant
//     (TARGETING_MATCH) or its split (SPLIT);
//  4. the active schedule step, the last whose time has come: its split
//     (SPLIT);
//  5. the default variant: STATIC for a flag with no rules, schedule or
//     prerequisite, DEFAULT otherwise.
//
// A split needs a targeting key: without one the result is an error with
// code TARGETING_KEY_MISSING, never a random variant. Splits use Bucket; see
// docs/adr/0001-flag-bucketing.md.
//
// # Flags as code
//
// ParseFile reads a flags file; every mistake is reported as file:line:
// message, and nothing is returned unless the whole file is valid. Export
// writes a snapshot back in the same form, and Diff lists what applying one
// snapshot over another changes. An example (testdata/flags.yaml):
//
//	segments:
//	  - key: internal-users
//	    match: any                   # all (default) or any
//	    keys: [user-qa-1]            # targeting keys always in the segment
//	    conditions:
//	      - attribute: email
//	        op: ends_with            # equals, in, ends_with, starts_with, semver_gte
//	        value: "@example.com"    # or values: [a, b]
//
//	flags:
//	  - key: checkout-v2             # a-z 0-9 _ . -
//	    description: The new checkout.
//	    owner: payments
//	    type: release                # release (default), ops, experiment, permission
//	    enabled: true                # false serves off_variant to everyone
//	    # variants: {on: true, off: false} is the default
//	    # off_variant: off, default_variant: <off_variant> are the defaults
//	    rules:
//	      - segment: internal-users
//	        variant: on
//	      - percentage: 10           # boolean flags: 10 % on, 90 % off
//	    expected_lifetime: 30d
//
//	  - key: button-color
//	    type: experiment
//	    enabled: true
//	    variants: {control: "#0a0", red: "#a00"}
//	    off_variant: control
//	    salt: "2025-06"              # change to reshuffle who gets what
//	    rules:
//	      - segment: internal-users
//	        rollout: {control: 50%, red: 50%}   # any variants, 3 decimals max
//
//	  - key: collect-the-pot
//	    enabled: true
//	    prerequisite: {flag: contribute-to-pot, variant: on}
//	    schedule:                    # the last step whose time has come applies
//	      - {at: 2025-06-02T09:00:00Z, percentage: 10}
//	      - {at: 2025-06-04T09:00:00Z, percentage: 50}
//
// Percentages are written as a number (10, 12.5) or with a sign ("10%");
// weights are stored in units of 0.001 %. A split's variants take bucket
// ranges in the order of their names, so the order they are written in never
// matters.
//
// # Serving and changing flags
//
// A Service holds the snapshot being served behind an atomic pointer and
// makes every change the same way: an edit of a private Draft, validated as
// a whole new snapshot, written to the store as the next version (every
// change is a whole new version; store.Flags refuses a write that does not
// follow the latest, which is how two editors, or two bascule instances,
// cannot overwrite each other), then served, audited and announced to
// streams (Service.Current). Stale lists the release flags ready to remove,
// and Service.Observe counts evaluations per flag and variant without a
// lock, for Prometheus.
package flag
