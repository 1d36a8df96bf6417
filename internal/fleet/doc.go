// Package fleet keeps several routers switching as one: the control
// plane's side (Hub: the routing table's generations, the registry of
// routers, waiting for their acknowledgements) and the router's side
// (Agent: install a generation, persist it, drain, acknowledge; Follower:
// the routing stream and heartbeats over HTTP, reconnecting with backoff).
//
// A go-live in fleet terms: the Hub publishes generation N; every router
// installs it (persisted first), acknowledges the install, waits until
// nothing is in flight on the addresses N no longer sends production to,
// and acknowledges the drain. Hub.Install publishes the table, and
// Hub.DrainRequests returns once every live router acknowledged both, or
// with an *IncompleteSwitchError naming those that did not. The router inside `bascule serve` is an Agent like any other;
// it only reaches the Hub through a function call instead of HTTP.
//
// The package reads router.Table as the control plane writes it and ships
// it as JSON; how a color's upstreams are represented is the router's
// business, except in addrs.go, the one place that enumerates them.
// See docs/adr/0011-router-fleet.md.
package fleet
