package flag

import (
	"slices"
	"strings"
)

// Describe says in one line what a flag serves, in evaluation order, e.g.
// "segment internal-users: on; everyone: 10% on; else off",
// "if base-feature is not on: off; else on", "off (disabled)" or "on".
func Describe(f *Flag) string {
	if !f.Enabled {
		return f.OffVariant + " (disabled)"
	}
	cs := clauses(f)
	if len(cs) == 1 && cs[0].step == stepDefault {
		return cs[0].serves
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.text()
	}
	return strings.Join(parts, "; ")
}

// clause is one step of an enabled flag's evaluation as Describe tells it:
// to whom it applies and what they get.
type clause struct {
	step   clauseStep
	who    string // "if base-feature is not on", "segment staff", "everyone", "schedule …"; "else" for the default
	serves string
	// variants are those the clause can serve.
	variants []string
}

// clauseStep says which step of evaluation a clause describes.
type clauseStep int

const (
	stepPrerequisite clauseStep = iota // the prerequisite not met
	stepRule                           // a rule
	stepSchedule                       // the schedule
	stepDefault                        // the default variant
)

func (c clause) text() string {
	switch c.step {
	case stepDefault:
		return "else " + c.serves
	case stepSchedule:
		return "schedule " + c.serves
	}
	return c.who + ": " + c.serves
}

// clauses follows evaluation (see package feature): a user who fails the
// prerequisite gets the off variant, whatever the default variant; then the
// rules in order, the schedule, and the default variant. A rule for everyone
// ends the walk: what follows it is never reached.
func clauses(f *Flag) []clause {
	var cs []clause
	if p := f.Prerequisite; p != nil {
		cs = append(cs, clause{step: stepPrerequisite, who: "if " + p.Flag + " is not " + p.Variant,
			serves: f.OffVariant, variants: []string{f.OffVariant}})
	}
	texts := rulesText(f.Rules)
	for i, r := range f.Rules {
		who, serves, _ := strings.Cut(texts[i], ": ")
		vs := []string{r.Variant}
		if len(r.Split) > 0 {
			vs = splitVariants(r.Split)
		}
		cs = append(cs, clause{step: stepRule, who: who, serves: serves, variants: vs})
		if r.Segment == "" {
			return cs
		}
	}
	if steps := stepsText(f.Schedule); len(steps) > 0 {
		var vs []string
		for _, st := range f.Schedule {
			vs = append(vs, splitVariants(st.Split)...)
		}
		slices.Sort(vs)
		cs = append(cs, clause{step: stepSchedule, who: "schedule", serves: strings.Join(steps, ", "),
			variants: slices.Compact(vs)})
	}
	return append(cs, clause{step: stepDefault, who: "else", serves: f.DefaultVariant, variants: []string{f.DefaultVariant}})
}

// splitVariants lists the variants a split gives a share to.
func splitVariants(split []Weighted) []string {
	var out []string
	for _, w := range split {
		if w.Weight > 0 {
			out = append(out, w.Variant)
		}
	}
	return out
}

// ExportFlag writes one flag in flags-file form, for showing it. Unlike
// Export's output, it is not a complete file: segments it names are left out.
func ExportFlag(f *Flag) []byte {
	return Export(&Snapshot{Flags: map[string]*Flag{f.Key: f}})
}
