package guard

import (
	"sync"
	"time"
)

// History keeps the latest readings of one color's counts, each with the
// moment it was taken, so that the counts as of a past moment (the start
// of a baseline) can be read after it. Its methods are safe for
// concurrent use.
type History struct {
	mu      sync.Mutex
	keep    int         // readings kept
	at      []time.Time // ring, oldest at next when full
	reading []Counts
	next    int
}

// NewHistory returns a History that keeps its readings for about keep at
// one Record every `every`.
func NewHistory(keep, every time.Duration) *History {
	return &History{keep: int(keep/max(every, time.Millisecond)) + 2}
}

// Record keeps c as the reading taken at now, forgetting the oldest when
// full.
func (h *History) Record(now time.Time, c Counts) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.at) < h.keep {
		h.at = append(h.at, now)
		h.reading = append(h.reading, c)
		return
	}
	h.at[h.next], h.reading[h.next] = now, c
	h.next = (h.next + 1) % h.keep
}

// At returns the latest reading taken at or before t; when every reading
// is later, the oldest (the past before it is forgotten); without
// readings, zero counts.
func (h *History) At(t time.Time) Counts {
	h.mu.Lock()
	defer h.mu.Unlock()
	best, bestAt := -1, time.Time{}
	oldest, oldestAt := -1, time.Time{}
	for i, at := range h.at {
		if !at.After(t) && (best < 0 || at.After(bestAt)) {
			best, bestAt = i, at
		}
		if oldest < 0 || at.Before(oldestAt) {
			oldest, oldestAt = i, at
		}
	}
	switch {
	case best >= 0:
		return h.reading[best]
	case oldest >= 0:
		return h.reading[oldest]
	}
	return Counts{}
}
