// Package router is bascule's data plane: an http.Handler that proxies
// production traffic to the live color (blue or green) of an app.
//
// The routing state is an immutable snapshot behind an atomic pointer, so the
// request path takes no lock and a switch is a single pointer store: requests
// already in flight finish on the color they started on, and every request
// that starts after Switch returns — even on a kept-alive client connection —
// goes to the new color. Per-upstream in-flight counters make draining exact.
//
// During a progressive go-live the snapshot also holds a split: a sticky
// share of users, bucketed by a cohort key with the feature flags'
// bucketing function, goes to the color that is not live yet. A router
// with no split in progress pays one nil check for it.
//
// The package imports nothing of the control plane, so it can run alone.
package router
