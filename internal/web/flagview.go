package web

import (
	"strings"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/flag"
)

// flagRow is a flag as the list shows it.
type flagRow struct {
	*flag.Flag
	Serves     string
	Boolean    bool
	HasRollout bool
	Rollout    int // weight of "on" in the last percentage rule
}

func newFlagRow(f *flag.Flag) flagRow {
	row := flagRow{Flag: f, Serves: flag.Describe(f), Boolean: isBoolean(f.Variants)}
	if !row.Boolean {
		return row
	}
	for i := len(f.Rules) - 1; i >= 0; i-- {
		if split := f.Rules[i].Split; len(split) > 0 {
			row.HasRollout = true
			for _, w := range split {
				if w.Variant == "on" {
					row.Rollout = w.Weight
				}
			}
			break
		}
	}
	return row
}

// RolloutPercent is the rollout as the slider holds it, in whole percent.
func (f flagRow) RolloutPercent() int {
	return (f.Rollout + flag.TotalWeight/200) * 100 / flag.TotalWeight
}

// isBoolean reports the on/off pair that a rollout percentage needs.
func isBoolean(v map[string]any) bool {
	return len(v) == 2 && v["on"] == true && v["off"] == false
}

// ruleView is one targeting rule in words.
type ruleView struct {
	Index int // from 1, as the diff numbers rules
	Text  string
}

func ruleText(r flag.Rule) string {
	who := "everyone"
	if r.Segment != "" {
		who = "segment " + r.Segment
	}
	switch split := r.Split; {
	case len(split) == 0:
		return who + " → " + r.Variant
	case len(split) == 2 && split[0].Variant == "off" && split[1].Variant == "on":
		return who + " → " + pct(split[1].Weight) + " on"
	}
	parts := make([]string, len(r.Split))
	for i, w := range r.Split {
		parts[i] = pct(w.Weight) + " " + w.Variant
	}
	return who + " → " + strings.Join(parts, ", ")
}

// pct writes a weight as a short percentage: "10%", "12.5%".
func pct(weight int) string {
	s := strings.TrimRight(strings.TrimSuffix(feature.FormatPercent(weight), "%"), "0")
	return strings.TrimSuffix(s, ".") + "%"
}
