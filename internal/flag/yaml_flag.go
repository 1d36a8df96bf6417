package flag

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/yamldoc"
)

func (p *yamlParser) segment(n yamldoc.Node) *Segment {
	s := &Segment{}
	pos := newEntryPos(n)
	defer p.enter(pos)()
	p.fields(n, "segment", map[string]func(yamldoc.Node){
		"key":         p.field("key", func(v yamldoc.Node) { s.Key = p.scalar(v, "key") }),
		"description": func(v yamldoc.Node) { s.Description = p.scalar(v, "description") },
		"keys": p.field("keys", func(v yamldoc.Node) {
			s.Keys = p.stringList(v, "keys")
			pos.fields["keys"] = v.Line()
		}),
		"match": p.field("match", func(v yamldoc.Node) {
			s.Match = Match(p.scalar(v, "match"))
			pos.fields["match"] = v.Line()
		}),
		"conditions": p.field("conditions", func(v yamldoc.Node) {
			p.each(v, "conditions", func(c yamldoc.Node) {
				pos.items = append(pos.items, c.RefLine())
				p.at.index = len(pos.items)
				s.Conditions = append(s.Conditions, p.condition(c))
			})
		}),
	})
	p.segPos[s.Key] = append(p.segPos[s.Key], pos)
	return s
}

func (p *yamlParser) condition(n yamldoc.Node) Condition {
	var c Condition
	p.fields(n, "condition", map[string]func(yamldoc.Node){
		"attribute": func(v yamldoc.Node) { c.Attribute = p.scalar(v, "attribute") },
		"op":        func(v yamldoc.Node) { c.Op = Operator(p.scalar(v, "op")) },
		"value":     func(v yamldoc.Node) { c.Values = append(c.Values, p.scalar(v, "value")) },
		"values":    func(v yamldoc.Node) { c.Values = append(c.Values, p.stringList(v, "values")...) },
	})
	return c
}

func (p *yamlParser) flag(n yamldoc.Node) *Flag {
	f := &Flag{}
	pos := newEntryPos(n)
	defer p.enter(pos)()
	at := func(field string, fn func(v yamldoc.Node)) func(yamldoc.Node) {
		return p.field(field, func(v yamldoc.Node) { pos.fields[field] = v.Line(); fn(v) })
	}
	p.fields(n, "flag", map[string]func(yamldoc.Node){
		"key":             p.field("key", func(v yamldoc.Node) { f.Key = p.scalar(v, "key") }),
		"description":     func(v yamldoc.Node) { f.Description = p.scalar(v, "description") },
		"owner":           func(v yamldoc.Node) { f.Owner = p.scalar(v, "owner") },
		"type":            at("type", func(v yamldoc.Node) { f.Type = Type(p.scalar(v, "type")) }),
		"enabled":         func(v yamldoc.Node) { f.Enabled = p.boolean(v, "enabled") },
		"variants":        at("variants", func(v yamldoc.Node) { f.Variants = p.variants(v) }),
		"off_variant":     at("off_variant", func(v yamldoc.Node) { f.OffVariant = p.scalar(v, "off_variant") }),
		"default_variant": at("default_variant", func(v yamldoc.Node) { f.DefaultVariant = p.scalar(v, "default_variant") }),
		"salt":            func(v yamldoc.Node) { f.Salt = p.scalar(v, "salt") },
		"expected_lifetime": at("expected_lifetime", func(v yamldoc.Node) {
			f.ExpectedLifetime = p.lifetime(v)
		}),
		"prerequisite": at("prerequisite", func(v yamldoc.Node) { f.Prerequisite = p.prerequisite(v) }),
		"rules": p.field("rules", func(v yamldoc.Node) {
			p.each(v, "rules", func(r yamldoc.Node) {
				pos.items = append(pos.items, r.RefLine())
				p.at.index = len(pos.items)
				f.Rules = append(f.Rules, p.rule(r))
			})
		}),
		"schedule": p.field("schedule", func(v yamldoc.Node) {
			p.each(v, "schedule", func(s yamldoc.Node) {
				pos.steps = append(pos.steps, s.RefLine())
				p.at.index = len(pos.steps)
				f.Schedule = append(f.Schedule, p.step(s))
			})
		}),
	})
	p.flagPos[f.Key] = append(p.flagPos[f.Key], pos)
	return f
}

func (p *yamlParser) variants(n yamldoc.Node) map[string]any {
	out := map[string]any{}
	for _, e := range p.entries(n, "variants") {
		out[e.Key] = p.value(e.Value(), "variant "+e.Key)
	}
	return out
}

func (p *yamlParser) prerequisite(n yamldoc.Node) *Prerequisite {
	pr := &Prerequisite{}
	p.fields(n, "prerequisite", map[string]func(yamldoc.Node){
		"flag":    func(v yamldoc.Node) { pr.Flag = p.scalar(v, "flag") },
		"variant": func(v yamldoc.Node) { pr.Variant = p.scalar(v, "variant") },
	})
	return pr
}

// splitFields are the two ways of writing a split, shared by rules and
// schedule steps: `percentage: 10` (booleans: 10 % on) or
// `rollout: {on: 10%, off: 90%}`.
func (p *yamlParser) splitFields(split *[]Weighted) map[string]func(yamldoc.Node) {
	return map[string]func(yamldoc.Node){
		"percentage": func(v yamldoc.Node) {
			if *split != nil {
				p.errorf(v, "write either percentage or rollout, not both")
			}
			*split = feature.Percent(p.percent(v, "percentage"))
		},
		"rollout": func(v yamldoc.Node) {
			if *split != nil {
				p.errorf(v, "write either percentage or rollout, not both")
			}
			*split = p.rollout(v)
		},
	}
}

func (p *yamlParser) rule(n yamldoc.Node) Rule {
	var r Rule
	h := p.splitFields(&r.Split)
	h["segment"] = func(v yamldoc.Node) { r.Segment = p.scalar(v, "segment") }
	h["variant"] = func(v yamldoc.Node) { r.Variant = p.scalar(v, "variant") }
	p.fields(n, "rule", h)
	return r
}

func (p *yamlParser) step(n yamldoc.Node) Step {
	var s Step
	h := p.splitFields(&s.Split)
	h["at"] = func(v yamldoc.Node) {
		t, err := time.Parse(time.RFC3339, p.scalar(v, "at"))
		if err != nil {
			p.errorf(v, "at: want a time like 2025-06-02T09:00:00Z")
		}
		s.At = t
	}
	p.fields(n, "schedule step", h)
	if s.Split == nil {
		p.errorf(n, "schedule step needs a percentage or a rollout")
	}
	return s
}

func (p *yamlParser) rollout(n yamldoc.Node) []Weighted {
	split := []Weighted{}
	for _, e := range p.entries(n, "rollout") {
		split = append(split, Weighted{Variant: e.Key, Weight: p.percent(e.Value(), "rollout")})
	}
	return split
}

// percent reads "10%", "12.5%", 10 or 12.5 as a weight in units of 0.001 %.
func (p *yamlParser) percent(n yamldoc.Node, what string) int {
	text := p.scalar(n, what)
	w, err := ParsePercent(text)
	if err != nil {
		p.errorf(n, "%s: %v", what, err)
	}
	return w
}

// ParsePercent reads a percentage with at most three decimals, with or
// without a trailing "%" ("12.5%", "10", "0.001"), as a weight in units of
// 0.001 %. It reads the decimal text itself, so 0.1 + 0.2 cannot drift.
func ParsePercent(text string) (int, error) {
	s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(text), "%"))
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 3 {
		return 0, fmt.Errorf("%q has more than three decimals", text)
	}
	w, err1 := strconv.Atoi(whole)
	f, err2 := strconv.Atoi(frac + strings.Repeat("0", 3-len(frac)))
	if err1 != nil || err2 != nil || whole[0] == '-' || whole[0] == '+' || strings.HasPrefix(frac, "-") {
		return 0, fmt.Errorf("%q is not a percentage like 10%% or 12.5", text)
	}
	weight := w*1000 + f
	if weight > TotalWeight {
		return 0, fmt.Errorf("%q is more than 100%%", text)
	}
	return weight, nil
}

// lifetime reads a duration, with "d" for days allowed ("30d", "36h").
func (p *yamlParser) lifetime(n yamldoc.Node) time.Duration {
	text := p.scalar(n, "expected_lifetime")
	d, err := ParseLifetime(text)
	if err != nil {
		p.errorf(n, "expected_lifetime: %v", err)
	}
	return d
}

// ParseLifetime reads a Go duration, or a whole number of days ("30d").
func ParseLifetime(text string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(text, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days like 30d", text)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 30d or 36h", text)
	}
	return d, nil
}

// formatLifetime writes a duration as ParseLifetime reads it, in days when whole.
func formatLifetime(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}
