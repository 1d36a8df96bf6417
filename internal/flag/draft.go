package flag

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/bascule/bascule/internal/store"

	"github.com/bascule/bascule/feature"
)

// ErrExists is returned when creating a flag or segment whose key is taken.
var ErrExists = errors.New("already exists")

// ErrNotBoolean is returned when a rollout percentage is set on a flag whose
// variants are not the boolean on/off pair.
var ErrNotBoolean = errors.New("not a boolean flag")

// Draft is a private, mutable copy of the configuration that an Update edits.
// Its methods make the common edits; an edit may also change the maps
// directly. Nothing is checked until the whole draft is validated.
type Draft struct {
	Flags    map[string]*Flag
	Segments map[string]*Segment
}

func newDraft(s *Snapshot) *Draft {
	d := &Draft{Flags: make(map[string]*Flag, len(s.Flags)), Segments: make(map[string]*Segment, len(s.Segments))}
	for k, f := range s.Flags {
		d.Flags[k] = f.Clone()
	}
	for k, seg := range s.Segments {
		d.Segments[k] = seg.Clone()
	}
	return d
}

func (d *Draft) snapshot(version int64) (*Snapshot, error) {
	flags := make([]*Flag, 0, len(d.Flags))
	for _, k := range slices.Sorted(maps.Keys(d.Flags)) {
		flags = append(flags, d.Flags[k])
	}
	segs := make([]*Segment, 0, len(d.Segments))
	for _, k := range slices.Sorted(maps.Keys(d.Segments)) {
		segs = append(segs, d.Segments[k])
	}
	return feature.NewSnapshot(version, flags, segs)
}

// Flag returns the flag to edit in place, or an error matching
// store.ErrNotFound.
func (d *Draft) Flag(key string) (*Flag, error) {
	f, ok := d.Flags[key]
	if !ok {
		return nil, fmt.Errorf("flag %q: %w", key, store.ErrNotFound)
	}
	return f, nil
}

// CreateFlag adds f, or returns an error matching ErrExists.
func (d *Draft) CreateFlag(f *Flag) error {
	if _, ok := d.Flags[f.Key]; ok {
		return fmt.Errorf("flag %q %w", f.Key, ErrExists)
	}
	d.Flags[f.Key] = f
	return nil
}

// PutFlag adds f or replaces the flag with its key.
func (d *Draft) PutFlag(f *Flag) { d.Flags[f.Key] = f }

// DeleteFlag removes a flag, or returns an error matching store.ErrNotFound.
// Flags that name it as their prerequisite make the draft invalid.
func (d *Draft) DeleteFlag(key string) error {
	if _, err := d.Flag(key); err != nil {
		return err
	}
	delete(d.Flags, key)
	return nil
}

// SetEnabled flips a flag's kill switch.
func (d *Draft) SetEnabled(key string, on bool) error {
	f, err := d.Flag(key)
	if err != nil {
		return err
	}
	f.Enabled = on
	return nil
}

// SetRollout serves "on" to weight units of 0.001 % of a boolean flag's
// users (the rest get "off") through its last percentage rule, which it
// adds, for everyone, when there is none. Rules before it still decide
// first: "internal users, then 25 % of everyone" keeps its first rule.
func (d *Draft) SetRollout(key string, weight int) error {
	f, err := d.Flag(key)
	if err != nil {
		return err
	}
	if !isBoolean(f.Variants) {
		return fmt.Errorf("flag %q: %w: a rollout percentage needs the variants on: true and off: false; set a split instead", key, ErrNotBoolean)
	}
	if weight < 0 || weight > TotalWeight {
		return fmt.Errorf("flag %q: rollout %s: want 0%% to 100%%", key, feature.FormatPercent(weight))
	}
	for i := len(f.Rules) - 1; i >= 0; i-- {
		if len(f.Rules[i].Split) > 0 {
			f.Rules[i].Split = feature.Percent(weight)
			return nil
		}
	}
	f.Rules = append(f.Rules, Rule{Split: feature.Percent(weight)})
	return nil
}

// Segment returns the segment to edit in place, or an error matching
// store.ErrNotFound.
func (d *Draft) Segment(key string) (*Segment, error) {
	s, ok := d.Segments[key]
	if !ok {
		return nil, fmt.Errorf("segment %q: %w", key, store.ErrNotFound)
	}
	return s, nil
}

// CreateSegment adds s, or returns an error matching ErrExists.
func (d *Draft) CreateSegment(s *Segment) error {
	if _, ok := d.Segments[s.Key]; ok {
		return fmt.Errorf("segment %q %w", s.Key, ErrExists)
	}
	d.Segments[s.Key] = s
	return nil
}

// PutSegment adds s or replaces the segment with its key.
func (d *Draft) PutSegment(s *Segment) { d.Segments[s.Key] = s }

// DeleteSegment removes a segment, or returns an error matching
// store.ErrNotFound. Rules that name it make the draft invalid.
func (d *Draft) DeleteSegment(key string) error {
	if _, err := d.Segment(key); err != nil {
		return err
	}
	delete(d.Segments, key)
	return nil
}

// Replace makes the draft exactly doc's flags and segments: flags as code.
func (d *Draft) Replace(doc *Document) {
	d.Flags = make(map[string]*Flag, len(doc.Flags))
	for _, f := range doc.Flags {
		d.Flags[f.Key] = f
	}
	d.Segments = make(map[string]*Segment, len(doc.Segments))
	for _, s := range doc.Segments {
		d.Segments[s.Key] = s
	}
}
