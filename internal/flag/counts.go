package flag

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// EvalCount is the number of evaluations of one flag that served one
// variant, or that failed when Variant is "". Flag is "" for evaluations of
// flags that do not exist, counted together whatever key was asked for, so
// that callers cannot create a series per typo.
type EvalCount struct {
	Flag    string
	Variant string
	N       uint64
}

// evalCounts counts evaluations. observe runs on every evaluation: it reads
// an immutable table through an atomic pointer and adds to an atomic
// counter, without lock or allocation. The table is rebuilt at each new
// snapshot from counters that outlive it, so counts never go backwards.
type evalCounts struct {
	table   atomic.Pointer[map[string]*flagCounts]
	unknown atomic.Uint64

	mu  sync.Mutex                           // guards all, used by track and each
	all map[string]map[string]*atomic.Uint64 // flag → variant ("" for errors) → count
}

// flagCounts are one flag's counters, for one snapshot's table.
type flagCounts struct {
	variants map[string]*atomic.Uint64
	errors   *atomic.Uint64
}

// track builds the table for a new snapshot.
func (c *evalCounts) track(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.all == nil {
		c.all = map[string]map[string]*atomic.Uint64{}
	}
	counter := func(flag, variant string) *atomic.Uint64 {
		if c.all[flag] == nil {
			c.all[flag] = map[string]*atomic.Uint64{}
		}
		n := c.all[flag][variant]
		if n == nil {
			n = new(atomic.Uint64)
			c.all[flag][variant] = n
		}
		return n
	}
	table := make(map[string]*flagCounts, len(s.Flags))
	for key, f := range s.Flags {
		fc := &flagCounts{variants: make(map[string]*atomic.Uint64, len(f.Variants)), errors: counter(key, "")}
		for v := range f.Variants {
			fc.variants[v] = counter(key, v)
		}
		table[key] = fc
	}
	c.table.Store(&table)
}

func (c *evalCounts) observe(r Result) {
	t := c.table.Load()
	if t == nil {
		return
	}
	fc := (*t)[r.Key]
	switch {
	case fc == nil:
		c.unknown.Add(1)
	case r.Reason == ReasonError:
		fc.errors.Add(1)
	default:
		if n := fc.variants[r.Variant]; n != nil {
			n.Add(1)
		}
	}
}

// each reports every counter, flags and variants in key order; counters of
// flags since deleted are kept, as Prometheus counters must not vanish and
// come back lower.
func (c *evalCounts) each(fn func(EvalCount)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, flag := range slices.Sorted(maps.Keys(c.all)) {
		vars := c.all[flag]
		for _, v := range slices.Sorted(maps.Keys(vars)) {
			fn(EvalCount{Flag: flag, Variant: v, N: vars[v].Load()})
		}
	}
	fn(EvalCount{N: c.unknown.Load()})
}
