package web

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/flag"
)

// changeFlag reviews, then saves, one change to a flag: field "op" says
// which (enable, disable, rollout, describe, add-rule, remove-rule, delete).
func (h *Handler) changeFlag(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	key := r.PathValue("key")
	c, err := flagChangeOf(key, r)
	if err != nil {
		return err
	}
	c.what, c.back = "flag "+key, "/flags/"+url.PathEscape(key)
	c.action = c.back + "/change"
	if c.edit.Action == "flag.delete" {
		c.done = "/flags"
	}
	if r.PostFormValue("from") == "list" {
		c.done = "/flags"
	}
	return h.reviewOrSave(w, r, p, c)
}

// flagChangeOf reads the change a flag form asks for.
func flagChangeOf(key string, r *http.Request) (change, error) {
	ed := func(action string, apply func(*flag.Draft) error) (change, error) {
		return change{edit: flag.Edit{Action: action, Target: key}, apply: apply}, nil
	}
	form := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	switch op := r.PostFormValue("op"); op {
	case "enable", "disable":
		on := op == "enable"
		return ed("flag."+op, func(d *flag.Draft) error { return d.SetEnabled(key, on) })
	case "rollout":
		weight, err := rolloutWeight(form("percentage"))
		if err != nil {
			return change{}, err
		}
		return ed("flag.rollout", func(d *flag.Draft) error { return d.SetRollout(key, weight) })
	case "describe":
		desc, owner := form("description"), form("owner")
		return ed("flag.update", editFlag(key, func(f *flag.Flag) error {
			f.Description, f.Owner = desc, owner
			return nil
		}))
	case "add-rule":
		rule := flag.Rule{Segment: form("segment"), Variant: form("variant")}
		if rule.Segment == "" || rule.Variant == "" {
			return change{}, badRequest("Choose a segment and the variant it gets.")
		}
		return ed("flag.update", editFlag(key, func(f *flag.Flag) error {
			f.Rules = slices.Insert(f.Rules, 0, rule) // segments first: they decide before any percentage
			return nil
		}))
	case "remove-rule":
		n, err := strconv.Atoi(form("rule"))
		return ed("flag.update", editFlag(key, func(f *flag.Flag) error {
			if err != nil || n < 1 || n > len(f.Rules) {
				return badRequest("There is no such rule to remove.")
			}
			f.Rules = slices.Delete(f.Rules, n-1, n)
			return nil
		}))
	case "delete":
		return ed("flag.delete", func(d *flag.Draft) error { return d.DeleteFlag(key) })
	}
	return change{}, badRequest("Unknown change.")
}

func editFlag(key string, fn func(*flag.Flag) error) func(*flag.Draft) error {
	return func(d *flag.Draft) error {
		f, err := d.Flag(key)
		if err != nil {
			return err
		}
		return fn(f)
	}
}

// rolloutWeight reads a percentage from 0 to 100 with at most 3 decimals.
func rolloutWeight(s string) (int, error) {
	pct, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	w := math.Round(pct * 1000)
	if err != nil || pct < 0 || pct > 100 || math.Abs(pct*1000-w) > 1e-6 {
		return 0, badRequest("The rollout must be a percentage from 0 to 100, with at most 3 decimals.")
	}
	return int(w), nil
}
