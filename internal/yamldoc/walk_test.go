package yamldoc

import (
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
)

// value parses src and returns the Go value of its document.
func value(t *testing.T, src string) any {
	t.Helper()
	d, root, msgs := parse(t, Options{}, src)
	v, err := root.Value()
	if err != nil || msgs != nil || len(d.Errors()) > 0 {
		t.Fatalf("Value(%q) = %v, %v, errors %q", src, v, err, d.Errors())
	}
	return v
}

// goccy decodes src into an any with goccy's own decoder.
func goccy(t *testing.T, src string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatalf("yaml.Unmarshal(%q): %v", src, err)
	}
	return v
}

// Anchors, aliases, tags and merge keys give the values goccy's own
// decoder gives, wherever goccy follows the YAML merge-key specification.
func TestValueAsGoccyDecodes(t *testing.T) {
	for name, src := range map[string]string{
		"scalar alias":          "a: &x 1\nb: *x\n",
		"alias to a mapping":    "a: &m {x: 1, y: [2, 3]}\nb: *m\n",
		"alias to a list":       "a: &l [1, two, 3.5, true, null]\nb: {c: *l}\n",
		"aliases in a list":     "a: &s shop\nb: &n 7\nc: [*s, *n, *s]\n",
		"alias in a block list": "defaults: &d\n  interval: 1s\nchecks:\n  - *d\n  - {interval: 2s}\n",
		"merge, then override":  "base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n  z: 4\n",
		"merge a list":          "a: &a {x: 1}\nb: &b {y: 2}\nc: {<<: [*a, *b], z: 3}\n",
		"merge in a list item":  "r: &r {segment: staff, variant: on}\nrules:\n  - <<: *r\n  - {<<: *r, variant: off}\n",
		"merge through a chain": "a: &a {x: 1}\nb: &b {<<: *a, y: 2}\nc: {<<: *b, z: 3}\n",
		"anchor defined again":  "a: &x 1\nb: *x\nc: &x 2\nd: *x\ne: [&y 3, *y, &y 4, *y]\n",
		"tags":                  "a: !!str 5\nb: !!float 1\nc: !!str true\nd: !!int '7'\n",
		"scalars as goccy types": "i: -3\nu: 18446744073709551615\nf: 0.5\nh: 0x1f\nt: true\nn: ~\ns: '007'\n" +
			"lit: |\n  two\n  lines\n",
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(goccy(t, src), value(t, src)); diff != "" {
				t.Errorf("Value(%q) differs from goccy's decoding (-goccy +yamldoc):\n%s", src, diff)
			}
		})
	}
}

// Where goccy's decoder departs from the merge-key specification
// (https://yaml.org/type/merge.html), yamldoc keeps to it, as config did
// before it: a key written in the mapping wins wherever the "<<" stands,
// and of several merged mappings the first wins. goccy gives the last
// written. This test fails if goccy changes, so that the choice is
// revisited then.
func TestMergeKeysFollowTheSpecWhereGoccyDoesNot(t *testing.T) {
	tests := []struct {
		name, src  string
		spec, gocc any
	}{
		{"own key before <<", "b: &b {x: 1, y: 2}\nc: {y: 3, <<: *b}\n",
			map[string]any{"x": uint64(1), "y": uint64(3)}, map[string]any{"x": uint64(1), "y": uint64(2)}},
		{"first merged mapping wins", "a: &a {x: 1}\nb: &b {x: 2}\nc: {<<: [*a, *b]}\n",
			map[string]any{"x": uint64(1)}, map[string]any{"x": uint64(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := value(t, tt.src).(map[string]any)["c"]
			if diff := cmp.Diff(tt.spec, got); diff != "" {
				t.Errorf("Value(%q).c (-spec +got):\n%s", tt.src, diff)
			}
			if diff := cmp.Diff(tt.gocc, goccy(t, tt.src).(map[string]any)["c"]); diff != "" {
				t.Errorf("goccy now decodes %q differently (-was +now); is it spec-conformant now?\n%s", tt.src, diff)
			}
		})
	}
}

func TestEntriesLines(t *testing.T) {
	src := "x-base: &b\n  interval: 1s\n  timeout: 2s\ncheck:\n  <<: *b\n  timeout: 3s\n"
	d, root, _ := parse(t, Options{}, src)
	top, _ := d.Entries(root, func(Node) { t.Fatal("root is not a mapping") })
	entries, ok := d.Entries(top[1].Value(), func(Node) { t.Fatal("check is not a mapping") })
	type kl struct {
		Key  string
		Line int
	}
	var got []kl
	for _, e := range entries {
		got = append(got, kl{e.Key, e.Line})
	}
	// The written key first, on its line; the merged one where the anchor
	// wrote it.
	want := []kl{{"timeout", 6}, {"interval", 2}}
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("Entries(check) (-want +got):\n%s", diff)
	}
}

func TestItemsRefLine(t *testing.T) {
	d, root, _ := parse(t, Options{}, "a: &m {k: v}\nl:\n  - x\n  - *m\n")
	top, _ := d.Entries(root, func(Node) {})
	items, ok := d.Items(top[1].Value())
	if !ok || len(items) != 2 {
		t.Fatalf("Items = %v, %v", items, ok)
	}
	if items[1].Kind() != Map || items[1].Line() != 1 || items[1].RefLine() != 4 {
		t.Errorf("alias item: kind %v, Line %d, RefLine %d; want a mapping written on line 1, referred to on line 4",
			items[1].Kind(), items[1].Line(), items[1].RefLine())
	}
	if items[0].Line() != 3 || items[0].RefLine() != 3 {
		t.Errorf("plain item: Line %d, RefLine %d; want 3, 3", items[0].Line(), items[0].RefLine())
	}
}

func TestAliasProblems(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown anchor", "a: *nope\n", `f.yaml:1: unknown anchor "nope"`},
		{"merge of a scalar", "a: &s x\nb: {<<: *s}\n", `f.yaml:1: expected a mapping to merge, got a string`},
		{"merge into itself", "a: &a {<<: *a}\n", `merge keys nested too deeply`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, root, _ := parse(t, Options{}, tt.src)
			top, _ := d.Entries(root, func(Node) {})
			var got []string
			for _, e := range top {
				d.Entries(e.Value(), func(bad Node) { d.Errorf(bad.Line(), "expected a mapping to merge, got %s", bad.KindName()) })
			}
			for _, e := range d.Errors() {
				got = append(got, e.Error())
			}
			if !strings.Contains(strings.Join(got, "\n"), tt.want) {
				t.Errorf("errors of %q = %q, want %q among them", tt.src, got, tt.want)
			}
		})
	}
}

// A few hundred bytes of aliases must not make a walk run for ever nor
// fill memory: each level here multiplies the last by nine.
func TestAliasExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("l0: &l0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("l" + string(rune('0'+i)) + ": &l" + string(rune('0'+i)) + " [")
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*l" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	src := b.String()
	for _, src := range []string{src, "a: &a [*a, *a]\n"} {
		start := time.Now()
		d, root, _ := parse(t, Options{}, src)
		v, err := root.Value()
		if err == nil {
			t.Errorf("Value(%d-byte bomb) = %T, nil error; want an error", len(src), v)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("Value(%d-byte bomb) took %v", len(src), el)
		}
		_ = d
	}
}
