package yamldoc

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Value returns the value as goccy decodes it into an any: nil, bool,
// int64 or uint64, float64, string, []any, map[string]any (tags applied,
// so "!!str 5" is "5"). Aliases and merge keys are expanded as Entries
// does; a merged value that is not a mapping is an error, and so is a
// value that expands to more than a file written by hand could hold.
func (n Node) Value() (any, error) {
	if n.d == nil {
		return nil, nil
	}
	return n.d.value(n, 0)
}

// maxValueDepth bounds nesting, which an alias to its own anchor makes endless.
const maxValueDepth = 1000

func (d *Decoder) value(n Node, depth int) (any, error) {
	if depth > maxValueDepth {
		return nil, fmt.Errorf("nested more than %d deep (an alias inside its own anchor?)", maxValueDepth)
	}
	switch n.Kind() {
	case Null:
		return nil, nil
	case Map:
		var bad error
		entries, _ := d.Entries(n, func(b Node) {
			bad = errors.Join(bad, fmt.Errorf("line %d: expected a mapping to merge, got %s", b.Line(), b.KindName()))
		})
		if bad != nil {
			return nil, bad
		}
		if d.tooMany {
			return nil, errors.New("too many values")
		}
		m := make(map[string]any, len(entries))
		for _, e := range entries {
			k, err := d.value(d.node(e.key), depth+1)
			if err != nil {
				return nil, err
			}
			v, err := d.value(e.Value(), depth+1)
			if err != nil {
				return nil, err
			}
			m[mapKey(k)] = v
		}
		return m, nil
	case List:
		items, _ := d.Items(n)
		if d.tooMany {
			return nil, errors.New("too many values")
		}
		l := make([]any, len(items))
		for i, it := range items {
			v, err := d.value(it, depth+1)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	}
	switch sc := n.tagged.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		// An untagged scalar: its value is what goccy's decoder takes,
		// without the cost of a decoder per value.
		return sc.(interface{ GetValue() any }).GetValue(), nil
	}
	var v any
	if err := yaml.NodeToValue(n.tagged, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// mapKey is the string goccy makes of a key's value: 00 is "0", ~ "null".
func mapKey(k any) string {
	switch k := k.(type) {
	case nil:
		return "null"
	case string:
		return k
	}
	return fmt.Sprint(k)
}
