package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/flag"
)

func (s *stack) seedFlags() {
	s.t.Helper()
	_, err := s.flags.Update(context.Background(), flag.Edit{Actor: "ada", Action: "seed"}, func(d *flag.Draft) error {
		if err := d.CreateSegment(&flag.Segment{Key: "staff", Keys: []string{"u1"}}); err != nil {
			return err
		}
		return d.CreateFlag(&flag.Flag{Key: "banner", Enabled: true})
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

// TestFlagChangeShowsDiffBeforeSaving: a change first shows the flag
// service's diff and changes nothing; saved, it applies on the version the
// diff was made against, and is audited as the user's.
func TestFlagChangeShowsDiffBeforeSaving(t *testing.T) {
	s := newStack(t)
	s.seedFlags()
	dana := s.login("dana")
	cases := []struct {
		form url.Values
		diff string
		ok   func(*flag.Flag) bool
	}{
		{url.Values{"op": {"disable"}}, "enabled: true → false", func(f *flag.Flag) bool { return !f.Enabled }},
		{url.Values{"op": {"enable"}}, "enabled: false → true", func(f *flag.Flag) bool { return f.Enabled }},
		{url.Values{"op": {"rollout"}, "percentage": {"30"}}, "rule 1 added: everyone: 30% on", func(f *flag.Flag) bool { return len(f.Rules) == 1 }},
		{url.Values{"op": {"add-rule"}, "segment": {"staff"}, "variant": {"on"}}, "segment staff: on", func(f *flag.Flag) bool { return f.Rules[0].Segment == "staff" }},
		{url.Values{"op": {"remove-rule"}, "rule": {"1"}}, "rule", func(f *flag.Flag) bool { return len(f.Rules) == 1 }},
		{url.Values{"op": {"describe"}, "description": {"The summer banner"}, "owner": {"growth"}}, "owner", func(f *flag.Flag) bool { return f.Owner == "growth" }},
	}
	for _, c := range cases {
		op := c.form.Get("op")
		before := s.flags.Snapshot().Version
		r := dana.post("/flags/banner/change", c.form)
		if r.status != http.StatusOK || !strings.Contains(r.body, c.diff) || s.flags.Snapshot().Version != before {
			t.Fatalf("%s review = %d (version %d→%d), want the diff %q and nothing saved:\n%s", op, r.status, before, s.flags.Snapshot().Version, c.diff, excerpt(r.body, "diff-list"))
		}
		m := versionField.FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("%s review has no version field", op)
		}
		save := url.Values{"confirm": {"yes"}, "version": {m[1]}}
		for k, v := range c.form {
			save[k] = v
		}
		r = dana.post("/flags/banner/change", save)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/flags/banner?saved=") {
			t.Fatalf("%s save = %d to %q, want 303 back to the flag", op, r.status, r.header.Get("Location"))
		}
		if f := s.flags.Snapshot().Flags["banner"]; !c.ok(f) {
			t.Errorf("after %s the flag is %+v", op, f)
		}
	}
	if e := s.audit("flag.disable"); len(e) != 1 || e[0].Actor != "dana" {
		t.Errorf("flag.disable audit = %+v, want one entry by dana", e)
	}
	if page := dana.get("/flags/banner").body; !strings.Contains(page, "enabled: true → false") || !strings.Contains(page, "dana") {
		t.Error("the flag's history does not show dana's changes")
	}
}

// TestFlagSaveRefusesStaleReview: when someone else changed the flags
// between the review and the save, the save is refused with 409, not
// applied over their change.
func TestFlagSaveRefusesStaleReview(t *testing.T) {
	s := newStack(t)
	s.seedFlags()
	dana, dave := s.login("dana"), s.login("dave")
	review := dana.post("/flags/banner/change", url.Values{"op": {"rollout"}, "percentage": {"50"}})
	m := versionField.FindStringSubmatch(review.body)
	if m == nil {
		t.Fatal("no version in the review")
	}
	dave.post("/flags/banner/change", url.Values{"op": {"disable"}, "confirm": {"yes"}, "version": {m[1]}})
	r := dana.post("/flags/banner/change", url.Values{"op": {"rollout"}, "percentage": {"50"}, "confirm": {"yes"}, "version": {m[1]}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, "Someone changed the flags since you reviewed") {
		t.Errorf("a save on a stale review = %d, want 409 saying why", r.status)
	}
	if f := s.flags.Snapshot().Flags["banner"]; f.Enabled || len(f.Rules) != 0 {
		t.Errorf("banner = enabled %v with %d rules, want dave's change only", f.Enabled, len(f.Rules))
	}
}

// TestFlagBadInput: a bad change is refused at review with the service's
// own message and nothing is saved.
func TestFlagBadInput(t *testing.T) {
	s := newStack(t)
	s.seedFlags()
	dana := s.login("dana")
	cases := map[string]struct {
		path string
		form url.Values
		want string
	}{
		"rollout over 100": {"/flags/banner/change", url.Values{"op": {"rollout"}, "percentage": {"120"}}, "from 0 to 100"},
		"unknown flag":     {"/flags/nope/change", url.Values{"op": {"enable"}}, "not found"},
		"bad key":          {"/flags", url.Values{"key": {"Bad Key"}}, "may only contain"},
		"taken key":        {"/flags", url.Values{"key": {"banner"}}, "already exists"},
		"bad condition":    {"/segments", url.Values{"key": {"x"}, "conditions": {"email"}}, "Condition line 1"},
		"unknown operator": {"/segments", url.Values{"key": {"x"}, "conditions": {"email like x"}}, "like"},
	}
	for name, c := range cases {
		r := dana.post(c.path, c.form)
		if r.status < 400 || !strings.Contains(r.body, c.want) {
			t.Errorf("%s = %d, want a 4xx saying %q:\n%s", name, r.status, c.want, excerpt(r.body, "flash error"))
		}
	}
	if v := s.flags.Snapshot().Version; v != 1 {
		t.Errorf("the flags are at version %d after refused changes, want 1", v)
	}
}

// TestSegmentEditor creates a segment from the editor's text, then edits
// and deletes it, each after its review.
func TestSegmentEditor(t *testing.T) {
	s := newStack(t)
	s.seedFlags()
	dana := s.login("dana")
	save := func(path string, form url.Values) {
		t.Helper()
		r := dana.post(path, form)
		m := versionField.FindStringSubmatch(r.body)
		if r.status != http.StatusOK || m == nil {
			t.Fatalf("review of %s = %d:\n%s", path, r.status, excerpt(r.body, "flash error"))
		}
		form.Set("confirm", "yes")
		form.Set("version", m[1])
		if r := dana.post(path, form); r.status != http.StatusSeeOther {
			t.Fatalf("save of %s = %d:\n%s", path, r.status, excerpt(r.body, "flash error"))
		}
	}
	save("/segments", url.Values{"key": {"beta"}, "match": {"any"}, "conditions": {"email ends_with @example.com, @example.org\nplan in pro, team"}, "keys": {"u1\n\nu2 "}})
	seg := s.flags.Snapshot().Segments["beta"]
	if seg == nil || len(seg.Conditions) != 2 || len(seg.Conditions[0].Values) != 2 || len(seg.Keys) != 2 || seg.Match != flag.MatchAny {
		t.Fatalf("segment beta = %+v, want 2 conditions (the first with 2 values), 2 keys, match any", seg)
	}
	save("/segments/beta/change", url.Values{"op": {"update"}, "description": {"Beta testers"}, "conditions": {"plan equals pro"}})
	if seg := s.flags.Snapshot().Segments["beta"]; seg.Description != "Beta testers" || len(seg.Conditions) != 1 || len(seg.Keys) != 0 {
		t.Errorf("segment beta after update = %+v", seg)
	}
	save("/segments/beta/change", url.Values{"op": {"delete"}})
	if _, ok := s.flags.Snapshot().Segments["beta"]; ok {
		t.Error("segment beta still exists after delete")
	}
}
