package guard

import (
	"context"
	"time"
)

// Meter counts the requests of the two colors, blue and green, and keeps
// readings of those counts taken once a Record, so that the counts of a
// past interval (a baseline) can be read after it. Its methods are safe
// for concurrent use.
type Meter struct {
	colors [2]meterColor
}

type meterColor struct {
	Counter
	hist *History
}

// NewMeter returns a Meter that keeps its readings for about keep at one
// Record every `every`.
func NewMeter(keep, every time.Duration) *Meter {
	m := &Meter{}
	for i := range m.colors {
		m.colors[i].hist = NewHistory(keep, every)
	}
	return m
}

func (m *Meter) color(c string) *meterColor {
	switch c {
	case "blue":
		return &m.colors[0]
	case "green":
		return &m.colors[1]
	}
	return nil
}

// Observe counts a request to color c (blue or green; others are
// ignored) answered with status after d.
func (m *Meter) Observe(c string, status int, d time.Duration) {
	if mc := m.color(c); mc != nil {
		mc.Observe(status, d)
	}
}

// Read returns color c's counts now.
func (m *Meter) Read(c string) Counts {
	if mc := m.color(c); mc != nil {
		return mc.Read()
	}
	return Counts{}
}

// At returns color c's counts as of the latest reading taken at or before
// t; when every reading is later, the oldest (the past before it is
// forgotten); without readings, zero counts.
func (m *Meter) At(c string, t time.Time) Counts {
	if mc := m.color(c); mc != nil {
		return mc.hist.At(t)
	}
	return Counts{}
}

// Since returns color c's counts from the reading at or before t (see At)
// until now.
func (m *Meter) Since(c string, t time.Time) Counts {
	then := m.At(c, t)
	return m.Read(c).Sub(then)
}

// Record takes a reading of both colors' counts, as of now.
func (m *Meter) Record(now time.Time) {
	for i := range m.colors {
		mc := &m.colors[i]
		mc.hist.Record(now, mc.Read())
	}
}

// Run records a reading every `every` until ctx ends.
func (m *Meter) Run(ctx context.Context, every time.Duration) {
	m.Record(time.Now())
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.Record(now)
		}
	}
}
