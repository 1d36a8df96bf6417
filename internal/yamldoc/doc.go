// Package yamldoc reads a YAML file that a person wrote (bascule.yaml, a
// flags file uploaded through the API) so that every mistake in it can be
// reported as "file:line: message", all of them in one go.
//
// It parses with github.com/goccy/go-yaml and walks goccy's syntax tree
// rather than decoding into structs by reflection: reflection stops at the
// first error and forgets where each value was written. Anchors, aliases,
// tags and merge keys ("<<") are looked through once, here, for every
// caller; a scalar's Go value is goccy's own.
//
// A Decoder collects Errors; callers walk the tree with Entries, Items and
// Fields and say in their own words what a value should have been.
package yamldoc
