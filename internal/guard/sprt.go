package guard

import "math"

// The sequential tests' parameters, chosen with the simulation in
// sim_test.go (its figures are in the README).
const (
	// Alpha bounds each test's chance of a breach on a release that meets
	// its hypothesis p0: a test breaches once its evidence reaches
	// log(1/Alpha).
	Alpha = 0.001
	// evidenceFloor is how far evidence for "no breach" may accumulate.
	// Zero makes each test a CUSUM: a regression that starts after a long
	// healthy stretch is caught as fast as one present from the start.
	evidenceFloor = 0.0
	// MinBaselineRate is the least error rate a baseline is taken to have:
	// an error or two on a release with none before is noise, not a
	// regression.
	MinBaselineRate = 0.001
	// slowShare is the share of requests slower than the p99 limit at
	// which the latency test's evidence changes direction: by definition
	// of a p99, 1 %.
	slowShare = 0.01
	// baselineFactor is how many times the baseline's error rate the
	// baseline test's evidence changes direction at.
	baselineFactor = 2.0
)

var breachAt = math.Log(1 / Alpha)

// sprt is one sequential probability ratio test of a Bernoulli rate: is
// it p0 or p1 > p0? Its evidence is the log-likelihood ratio of p1 over
// p0, floored at evidenceFloor.
type sprt struct{ llr float64 }

// update adds the evidence of k events among n trials and reports whether
// the test has breached.
func (t *sprt) update(k, n uint64, p0, p1 float64) bool {
	if n > 0 {
		k = min(k, n)
		t.llr += float64(k)*math.Log(p1/p0) + float64(n-k)*math.Log((1-p1)/(1-p0))
		t.llr = max(t.llr, evidenceFloor)
	}
	return t.llr >= breachAt
}

// around returns hypotheses p0 < p1 a factor of 2 apart whose log-likelihood
// ratio grows, on average, for a rate above center and shrinks below it
// (very nearly: for small rates the turning point is center exactly).
func around(center float64) (p0, p1 float64) {
	center = min(max(center, 1e-6), 0.7)
	return center / math.Sqrt2, center * math.Sqrt2
}
