package flag

import (
	"strings"
)

// Describe says in one line what a flag serves, in evaluation order, e.g.
// "segment internal-users: on; everyone: 10% on", "off (disabled)" or "on".
func Describe(f *Flag) string {
	if !f.Enabled {
		return f.OffVariant + " (disabled)"
	}
	var parts []string
	if p := f.Prerequisite; p != nil {
		parts = append(parts, "if "+prerequisiteText(p))
	}
	parts = append(parts, rulesText(f.Rules)...)
	if steps := stepsText(f.Schedule); len(steps) > 0 {
		parts = append(parts, "schedule "+strings.Join(steps, ", "))
	}
	if len(parts) == 0 {
		return f.DefaultVariant
	}
	return strings.Join(append(parts, "else "+f.DefaultVariant), "; ")
}

// ExportFlag writes one flag in flags-file form, for showing it. Unlike
// Export's output, it is not a complete file: segments it names are left out.
func ExportFlag(f *Flag) []byte {
	return Export(&Snapshot{Flags: map[string]*Flag{f.Key: f}})
}
