package flag

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bascule/bascule/feature"
)

func parseExample(t *testing.T) *Snapshot {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "flags.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseFile("flags.yaml", data)
	if err != nil {
		t.Fatalf("ParseFile(testdata/flags.yaml): %v", err)
	}
	s, err := doc.Snapshot(7)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return s
}

func TestParseExample(t *testing.T) {
	s := parseExample(t)
	staff := user("user-1", "email", "ada@example.com")
	tests := []struct {
		key, variant string
		ctx          EvalContext
	}{
		{"checkout-v2", "on", staff},
		{"checkout-v2", "on", user("user-qa-2")},
		{"button-color", "control", user("u", "app_version", "2.3.9", "country", "FR")},
		{"search-reindex", "off", staff},
		{"page-size", "large", staff},
	}
	for _, tt := range tests {
		if got := feature.Evaluate(s, tt.key, tt.ctx); got.Variant != tt.variant {
			t.Errorf("Evaluate(%s, %+v) = %s (%s), want %s", tt.key, tt.ctx, got.Variant, got.Reason, tt.variant)
		}
	}
	want := &Flag{
		Key: "button-color", Owner: "growth", Type: TypeExperiment, Enabled: true,
		Variants:   map[string]any{"control": "#0a0", "red": "#a00", "blue": "#00a"},
		OffVariant: "control", DefaultVariant: "control",
		Rules: []Rule{{Segment: "modern-app", Split: []Weighted{{Variant: "blue", Weight: 25000}, {Variant: "control", Weight: 50000}, {Variant: "red", Weight: 25000}}}},
	}
	if diff := cmp.Diff(want, s.Flags["button-color"]); diff != "" {
		t.Errorf("button-color parsed wrong (-want +got):\n%s", diff)
	}
	if got := s.Flags["page-size"].Variants["large"]; got != 50.5 {
		t.Errorf("page-size large = %#v, want 50.5", got)
	}
}

func TestExportRoundTrip(t *testing.T) {
	s := parseExample(t)
	out := Export(s)
	doc, err := ParseFile("exported.yaml", out)
	if err != nil {
		t.Fatalf("ParseFile(Export(s)): %v\n%s", err, out)
	}
	s2, err := doc.Snapshot(s.Version)
	if err != nil {
		t.Fatal(err)
	}
	opts := cmp.Options{cmpopts.IgnoreFields(Flag{}, "CreatedAt", "UpdatedAt"), cmpopts.IgnoreUnexported(Snapshot{})}
	if diff := cmp.Diff(s, s2, opts); diff != "" {
		t.Errorf("Parse(Export(s)) != s (-s +parsed):\n%s\nexported:\n%s", diff, out)
	}
	if again := Export(s2); string(again) != string(out) {
		t.Errorf("Export is not stable:\n%s\nthen\n%s", out, again)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"syntax", "flags:\n  - key: a\n   enabled: true\n", "f.yaml:3:"},
		{"unknown top-level field", "flag:\n  - key: a\n", `f.yaml:1: unknown field "flag" in file`},
		{"unknown flag field", "flags:\n  - key: a\n    enable: true\n", `f.yaml:3: unknown field "enable" in flag`},
		{"repeated field", "flags:\n  - key: a\n    key: b\n", `f.yaml:3: mapping key "key" already defined`},
		{"unknown rule field", "flags:\n  - key: a\n    rules:\n      - segmnt: x\n", `f.yaml:4: unknown field "segmnt" in rule`},
		{"enabled not bool", "flags:\n  - key: a\n    enabled: yes\n", `f.yaml:3: enabled must be true or false`},
		{"flags not a list", "flags: {key: a}\n", `f.yaml:1: flags must be a list`},
		{"bad percentage", "flags:\n  - key: a\n    rules:\n      - percentage: ten\n", `f.yaml:4: percentage: "ten" is not a percentage like 10% or 12.5`},
		{"too precise", "flags:\n  - key: a\n    rules:\n      - percentage: 10.0005\n", `f.yaml:4: percentage: "10.0005" has more than three decimals`},
		{"over 100", "flags:\n  - key: a\n    rules:\n      - percentage: 101\n", `f.yaml:4: percentage: "101" is more than 100%`},
		{"both split forms", "flags:\n  - key: a\n    rules:\n      - {percentage: 1, rollout: {on: 1%, off: 99%}}\n", `write either percentage or rollout, not both`},
		{"bad weights", "flags:\n  - key: a\n    enabled: true\n    rules:\n      - rollout: {on: 10%, off: 80%}\n",
			`f.yaml:5: flag "a": rule 1: weights sum to 90.000%, want 100%`},
		{"unknown segment on its rule's line", "flags:\n  - key: a\n    rules:\n      - percentage: 5\n      - segment: staff\n        variant: on\n",
			`f.yaml:5: flag "a": rule 2: unknown segment "staff"`},
		{"unknown default variant on its line", "flags:\n  - key: a\n\n    default_variant: maybe\n",
			`f.yaml:4: flag "a": default_variant: unknown variant "maybe"`},
		{"bad condition", "segments:\n  - key: s\n    conditions:\n      - {attribute: v, op: semver_gte, value: x}\n",
			`f.yaml:4: segment "s": condition 1: "x" is not a semantic version`},
		{"cycle", "flags:\n  - key: a\n    prerequisite: {flag: b, variant: on}\n  - key: b\n    prerequisite: {flag: a, variant: on}\n",
			`f.yaml:3: flag "a": prerequisite: cycle a → b → a`},
		{"bad time", "flags:\n  - key: a\n    schedule:\n      - {at: monday, percentage: 5}\n", `f.yaml:4: at: want a time like 2025-06-02T09:00:00Z`},
		{"step without split", "flags:\n  - key: a\n    schedule:\n      - at: 2025-06-02T09:00:00Z\n", `f.yaml:4: schedule step needs a percentage or a rollout`},
		{"bad lifetime", "flags:\n  - key: a\n    expected_lifetime: a month\n", `f.yaml:3: expected_lifetime: "a month" is not a duration like 30d or 36h`},
		{"two documents", "flags: []\n---\nflags: []\n", `a flags file holds one YAML document`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile("f.yaml", []byte(tt.yaml))
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFile error = %v, want a *FileError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseFile error =\n  %v\nwant it to contain\n  %s", err, tt.want)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := ParseFile("f.yaml", []byte("flags:\n  - key: a\n    colour: red\n  - key: b\n    enabled: maybe\n"))
	var fe *FileError
	if !errors.As(err, &fe) || len(fe.Errors) != 2 {
		t.Fatalf("ParseFile error = %v, want 2 line errors", err)
	}
}

// A file with field-level and meaning-level mistakes reports all of them in
// one run, in line order, and nothing that only repeats a field's own error
// (the rollout that does not parse is not also said to sum to 90 %).
func TestParseReportsFieldAndMeaningErrorsTogether(t *testing.T) {
	const file = `segments:
  - key: staff
    conditions:
      - {attribute: v, op: semver_gte, value: x}
flags:
  - key: a
    enabled: maybe
    rules:
      - segment: nobody
        variant: on
  - key: b
    colour: red
    rules:
      - rollout: {on: ten, off: 90%}
  - key: c
    prerequisite: {flag: d, variant: on}
  - key: d
    prerequisite: {flag: c, variant: on}
  - key: b
`
	_, err := ParseFile("flags.yaml", []byte(file))
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("ParseFile error = %v, want a *FileError", err)
	}
	want := []string{
		`flags.yaml:4: segment "staff": condition 1: "x" is not a semantic version`,
		`flags.yaml:7: enabled must be true or false`,
		`flags.yaml:9: flag "a": rule 1: unknown segment "nobody"`,
		`flags.yaml:12: unknown field "colour" in flag`,
		`flags.yaml:14: rollout: "ten" is not a percentage like 10% or 12.5`,
		`flags.yaml:16: flag "c": prerequisite: cycle c → d → c`,
		`flags.yaml:19: flag "b": key: defined twice`,
	}
	if diff := cmp.Diff(want, strings.Split(fe.Error(), "\n")); diff != "" {
		t.Errorf("ParseFile errors (-want +got):\n%s", diff)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "# nothing yet\n", "flags: []\nsegments: []\n"} {
		doc, err := ParseFile("f.yaml", []byte(in))
		if err != nil || len(doc.Flags) != 0 {
			t.Errorf("ParseFile(%q) = %+v, %v; want an empty document", in, doc, err)
		}
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]int{"10%": 10000, "12.5": 12500, "0.001%": 1, "100": 100000, " 33.333 % ": 33333, "0": 0} {
		if got, err := ParsePercent(in); err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "%", "-1", "+1", "1.-1", ".5", "1e2", "100.001"} {
		if got, err := ParsePercent(in); err == nil {
			t.Errorf("ParsePercent(%q) = %d, want an error", in, got)
		}
	}
}

func FuzzParseFile(f *testing.F) {
	seed, _ := os.ReadFile(filepath.Join("testdata", "flags.yaml"))
	f.Add(string(seed))
	f.Add("flags:\n  - key: a\n    rules: [{percentage: 5}]\n")
	f.Fuzz(func(t *testing.T, in string) {
		doc, err := ParseFile("f.yaml", []byte(in))
		if err != nil {
			return
		}
		// Whatever parses must build, export and parse back.
		s, err := doc.Snapshot(1)
		if err != nil {
			t.Fatalf("ParseFile accepted a document its Snapshot refuses: %v", err)
		}
		if _, err := ParseFile("again.yaml", Export(s)); err != nil {
			t.Fatalf("ParseFile(Export(s)): %v\n%s", err, Export(s))
		}
	})
}

// A rule written once can be reused by alias, or merged and changed, and a
// variant's value may hold an alias, as in bascule.yaml.
func TestParseAnchorsAliasesAndMergeKeys(t *testing.T) {
	const file = `segments:
  - key: staff
    keys: [u1]
flags:
  - key: a
    enabled: true
    rules:
      - &staff-on {segment: staff, variant: on}
  - key: b
    enabled: true
    rules: [*staff-on]
  - key: c
    enabled: true
    variants: {red: &red {hex: "#a00"}, blue: {hex: "#00a", was: *red}}
    off_variant: red
    rules:
      - {<<: *staff-on, variant: blue}
`
	doc, err := ParseFile("flags.yaml", []byte(file))
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	s, err := doc.Snapshot(1)
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{{Segment: "staff", Variant: "on"}}
	if diff := cmp.Diff(want, s.Flags["b"].Rules); diff != "" {
		t.Errorf("b's aliased rule (-want +got):\n%s", diff)
	}
	want = []Rule{{Segment: "staff", Variant: "blue"}}
	if diff := cmp.Diff(want, s.Flags["c"].Rules); diff != "" {
		t.Errorf("c's merged rule (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"hex": "#00a", "was": map[string]any{"hex": "#a00"}}, s.Flags["c"].Variants["blue"]); diff != "" {
		t.Errorf("c's blue variant (-want +got):\n%s", diff)
	}
}

// A flags file read by the API is bounded: aliases that expand to billions
// of values are an error, quickly.
func TestParseAliasBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("flags:\n  - key: a\n    variants:\n      l0: &l0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "      l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	_, err := ParseFile("f.yaml", []byte(b.String()))
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "values through its aliases") {
		t.Errorf("ParseFile(alias bomb) = %v, want a *FileError about aliases", err)
	}
}
