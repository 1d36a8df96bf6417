// Package guard judges a release that just went live from the router's own
// per-color counters, against the release it replaced.
//
// It holds no I/O: Counter counts requests, errors and latencies with
// atomics (the router's Observe hook feeds it on every request), History
// keeps a short past of those counts so that a baseline can be read after
// the fact, and Judge runs the sequential tests that decide. The deploy
// package watches a go-live with them and rolls back on a breach.
//
// # The decision
//
// A request is an error when it was answered 5xx (by the app, or 502, 503
// or 504 by bascule). Judge runs three sequential probability ratio tests
// (Wald's SPRT) over the candidate's requests, each fed only the requests
// seen since its last update:
//
//   - the limit: is the error rate above Config.MaxErrorRate? The test's
//     two hypotheses are the limit divided and multiplied by √2, so its
//     evidence grows for a rate above the limit and shrinks below it. It
//     needs no baseline.
//   - the baseline: is the error rate significantly worse than the
//     baseline's? The hypotheses bracket twice the baseline's rate the
//     same way, the baseline's rate being estimated conservatively and
//     never below MinBaselineRate. It needs a baseline of at least
//     MinRequests requests.
//   - latency (Config.MaxP99Ratio > 0): is the candidate's p99 above
//     MaxP99Ratio times the baseline's? That holds exactly when more than
//     1 % of its requests are slower than that, which is a rate the same
//     kind of test judges.
//
// Evidence is a log-likelihood ratio, floored so that a long healthy
// stretch cannot bank credit against a regression that starts later; a
// test breaches when it reaches log(1/Alpha). No verdict is given before
// Config.MinRequests requests. Alpha, the floor and the hypotheses were
// chosen with the simulation in sim_test.go, whose figures the README
// reports.
package guard
