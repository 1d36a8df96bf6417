package yamldoc

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
)

// FuzzDecode feeds yamldoc what an operator may upload (a flags file comes
// over the API): no input may crash it or run unbounded, every error must
// point into the file, and a document without anchors, aliases or merge
// keys must decode to what goccy's own decoder gives.
func FuzzDecode(f *testing.F) {
	for _, glob := range []string{"../config/testdata/*.yaml", "../flag/testdata/*.yaml", "../../examples/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "- a", "a: [", "a: {b: x\nc: 1\n", "a: &a {x: 1}\nb: {<<: *a, y: 2}\n", "a: &a [*a]\n",
		"a: &a {<<: *a}\n", "b: {<<: [*x, *y]}\n", "? [a]\n: b\n", "!!map {}\n", "---\n---\n", "a: |\n  x\n",
		"a: !!str 5\nb: !!binary aGk=\n", "a: 1\na: 2\n", "a: *b\n", "a: &a 1\nb: &a 2\nc: *a\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder("f.yaml", Options{Kind: "fuzz"})
		root, ok := d.Parse(data)
		walk(d, root, 0)
		v, verr := root.Value()
		// goccy also breaks lines at a lone "\r".
		lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
		for _, e := range d.Errors() {
			if e.File != "f.yaml" || e.Line < 0 || e.Line > lines || e.Msg == "" {
				t.Errorf("Parse(%q): error %+v has no usable position in a %d-line file", data, e, lines)
			}
		}
		if !ok || verr != nil || len(d.Errors()) > 0 || bytes.ContainsAny(data, "&*<!?") {
			return
		}
		var want any
		if err := yaml.Unmarshal(data, &want); err != nil {
			return
		}
		if diff := cmp.Diff(want, v); diff != "" {
			t.Errorf("Value(%q) differs from goccy's decoding (-goccy +yamldoc):\n%s", data, diff)
		}
	})
}

// walk visits every value under n as a caller would.
func walk(d *Decoder, n Node, depth int) {
	if depth > 50 {
		return
	}
	switch n.Kind() {
	case Map:
		entries, _ := d.Entries(n, func(bad Node) { d.Errorf(bad.Line(), "not a mapping: %s", bad.Describe()) })
		for _, e := range entries {
			walk(d, e.Value(), depth+1)
		}
	case List:
		items, _ := d.Items(n)
		for _, it := range items {
			walk(d, it, depth+1)
		}
	default:
		n.Text()
		n.Int()
		n.Number()
		n.Bool()
	}
}
