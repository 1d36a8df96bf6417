package flag

import (
	"slices"
	"time"
)

// StaleFlag is a release flag ready to remove: it has served one variant to
// everyone for longer than its expected lifetime, so the code can keep that
// path and lose the flag.
type StaleFlag struct {
	Key         string `json:"key"`
	Owner       string `json:"owner,omitempty"`
	Description string `json:"description,omitempty"`
	// Variant is what everyone gets: "on" for a feature to keep, the off
	// variant for one never switched on, whose code can go too.
	Variant string `json:"variant"`
	// Since is when the flag last changed, or when its last schedule step
	// began, whichever is later: it has served Variant alone since then.
	Since time.Time `json:"since"`
	// ExpectedLifetime is the flag's, or DefaultExpectedLifetime, as
	// written in flags files ("30d").
	ExpectedLifetime string `json:"expected_lifetime"`
}

// Stale lists, in key order, the release flags of s that as of now have
// served a single variant to everyone for longer than their expected
// lifetime (DefaultExpectedLifetime unless the flag says). Flags of the other
// types are meant to stay and are never listed.
func Stale(s *Snapshot, now time.Time) []StaleFlag {
	out := []StaleFlag{}
	for _, k := range s.FlagKeys() {
		f := s.Flags[k]
		if f.Type != TypeRelease {
			continue
		}
		variant, since, ok := soleVariant(f, now)
		lifetime := f.ExpectedLifetime
		if lifetime == 0 {
			lifetime = DefaultExpectedLifetime
		}
		if !ok || since.IsZero() || now.Sub(since) <= lifetime {
			continue
		}
		out = append(out, StaleFlag{Key: f.Key, Owner: f.Owner, Description: f.Description, Variant: variant,
			Since: since, ExpectedLifetime: formatLifetime(lifetime)})
	}
	return out
}

// soleVariant reports whether f, as configured and as of now, can only ever
// serve one variant whatever the context, and since when. It follows
// evaluation: a rule for everyone ends the walk, segment rules may or may not
// match, a pending schedule step means the flag is still moving.
func soleVariant(f *Flag, now time.Time) (string, time.Time, bool) {
	if !f.Enabled {
		return f.OffVariant, f.UpdatedAt, true
	}
	since := f.UpdatedAt
	served := map[string]bool{}
	if f.Prerequisite != nil {
		served[f.OffVariant] = true
	}
	addSplit := func(split []Weighted) {
		for _, w := range split {
			if w.Weight > 0 {
				served[w.Variant] = true
			}
		}
	}
	everyone := false
	for _, r := range f.Rules {
		if r.Variant != "" {
			served[r.Variant] = true
		} else {
			addSplit(r.Split)
		}
		if r.Segment == "" {
			everyone = true
			break
		}
	}
	if !everyone {
		i := slices.IndexFunc(f.Schedule, func(st Step) bool { return st.At.After(now) })
		switch {
		case i >= 0:
			return "", time.Time{}, false // a step is still to come
		case len(f.Schedule) > 0:
			last := f.Schedule[len(f.Schedule)-1]
			addSplit(last.Split)
			if last.At.After(since) {
				since = last.At
			}
		default:
			served[f.DefaultVariant] = true
		}
	}
	if len(served) != 1 {
		return "", time.Time{}, false
	}
	for v := range served {
		return v, since, true
	}
	return "", time.Time{}, false
}
