package guard

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Latency histogram: bucket 0 holds durations under firstBound; after it,
// two buckets per doubling (bounds firstBound·2^(k/2)), up to the last
// bucket, which holds everything beyond about 65 s. Each bucket is at most
// √2 wide, which is precise enough for a ratio of p99s.
const (
	// NumBuckets is the number of latency buckets.
	NumBuckets = 38
	firstBound = 250 * time.Microsecond
)

// Counts are a color's counters: requests, errors (5xx) and a latency
// histogram. They only grow; the difference of two readings (Sub) counts
// what happened in between.
type Counts struct {
	Requests uint64             `json:"requests"`
	Errors   uint64             `json:"errors"`
	Latency  [NumBuckets]uint64 `json:"-"`
}

// Sub returns c minus earlier, bucket by bucket. A counter that went
// backwards (which counters never do) counts as zero.
func (c Counts) Sub(earlier Counts) Counts {
	out := Counts{Requests: sub(c.Requests, earlier.Requests), Errors: sub(c.Errors, earlier.Errors)}
	for i := range c.Latency {
		out.Latency[i] = sub(c.Latency[i], earlier.Latency[i])
	}
	return out
}

// Add returns c plus o, bucket by bucket.
func (c Counts) Add(o Counts) Counts {
	c.Requests += o.Requests
	c.Errors += o.Errors
	for i := range c.Latency {
		c.Latency[i] += o.Latency[i]
	}
	return c
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// ErrorRate is Errors/Requests, 0 without requests.
func (c Counts) ErrorRate() float64 {
	if c.Requests == 0 {
		return 0
	}
	return float64(c.Errors) / float64(c.Requests)
}

// Quantile returns the upper bound of the latency bucket that holds the
// q-quantile (0 < q ≤ 1), or 0 without requests. The last bucket has no
// upper bound; its lower bound is returned.
func (c *Counts) Quantile(q float64) time.Duration {
	var n uint64
	for _, v := range c.Latency {
		n += v
	}
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n))) // requests at or below the quantile
	var cum uint64
	for i, v := range c.Latency {
		cum += v
		if cum >= rank {
			return upperBound(i)
		}
	}
	return upperBound(NumBuckets - 1)
}

// SlowerThan counts the requests that were surely slower than d: those in
// buckets whose lower bound is d or more.
func (c *Counts) SlowerThan(d time.Duration) uint64 {
	var n uint64
	for i := NumBuckets - 1; i > 0 && upperBound(i-1) >= d; i-- {
		n += c.Latency[i]
	}
	return n
}

// bucketOf returns the histogram bucket of d.
func bucketOf(d time.Duration) int {
	if d < firstBound {
		return 0
	}
	v := uint64(d / firstBound) // ≥ 1
	l := bits.Len64(v)          // v in [2^(l-1), 2^l)
	half := 0
	if l >= 2 && v&(1<<(l-2)) != 0 {
		half = 1 // the upper half of the doubling
	} else if l == 1 && d >= firstBound*3/2 {
		half = 1
	}
	i := 1 + 2*(l-1) + half
	return min(i, NumBuckets-1)
}

// upperBound is the exclusive upper bound of bucket i; for the last bucket,
// which has none, its lower bound.
func upperBound(i int) time.Duration {
	if i >= NumBuckets-1 {
		i = NumBuckets - 2
	}
	// Bucket i ≥ 1 covers [b·2^((i-1)/2), b·2^(i/2)), approximately: the
	// half-way point of a doubling is taken as 1.5, not √2, which bucketOf
	// computes without floating point.
	k := i / 2
	base := firstBound << k
	if i%2 == 1 {
		return base * 3 / 2
	}
	return base
}

// Counter counts one color's requests with atomics: Observe is called on
// every request, on the request's goroutine, and costs three atomic adds.
// The zero value is ready to use.
type Counter struct {
	requests atomic.Uint64
	errors   atomic.Uint64
	latency  [NumBuckets]atomic.Uint64
}

// IsError reports whether a response status counts against a release: any
// 5xx, the app's own or bascule's 502, 503 and 504.
func IsError(status int) bool { return status >= 500 && status <= 599 }

// Observe counts one request answered with status after d.
func (c *Counter) Observe(status int, d time.Duration) {
	c.requests.Add(1)
	if IsError(status) {
		c.errors.Add(1)
	}
	c.latency[bucketOf(d)].Add(1)
}

// Read returns the counters. The fields are read one after the other, so a
// request counted meanwhile may show in one field and not yet in another;
// consecutive readings never go backwards.
func (c *Counter) Read() Counts {
	var out Counts
	for i := range c.latency {
		out.Latency[i] = c.latency[i].Load()
	}
	// Errors before requests: a request is counted in requests before its
	// error, so errors never exceed requests in a reading.
	out.Errors = c.errors.Load()
	out.Requests = c.requests.Load()
	return out
}
