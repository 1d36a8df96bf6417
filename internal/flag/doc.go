// Package flag is the server's side of bascule's feature flags: the
// service that serves and changes them, flags as code (YAML), the OFREP
// handler, descriptions, diffs and stale-flag reports.
//
// The model, its validation, evaluation, bucketing and wire form are the
// public package github.com/bascule/bascule/feature, which the Go SDK runs
// too; model.go gives its types and constants their usual names here
// (flag.Flag is feature.Flag), and evaluation is always feature.Evaluate.
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
// Anchors, aliases and merge keys work as in bascule.yaml (a rule block
// written once as "x: &canary {...}" and used as "<<: *canary"); the file is
// read by internal/yamldoc, like the config.
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
