package leader

import "time"

// LeadersAtOnce reports, for each elector of es, the token of its term if
// it leads, 0 if not, all at one instant: every elector's lock is held
// while it looks, so no term can begin or end between two of them. (Read
// one after the other, a term that ended just before a successor's began
// would look like an overlap.)
func LeadersAtOnce(es []*Elector) []int64 {
	for _, e := range es {
		e.mu.Lock()
	}
	defer func() {
		for _, e := range es {
			e.mu.Unlock()
		}
	}()
	now := time.Now()
	out := make([]int64, len(es))
	for i, e := range es {
		if e.token != 0 && now.Before(e.deadline) {
			out[i] = e.token
		}
	}
	return out
}
