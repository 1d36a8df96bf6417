package yamldoc

import (
	"fmt"
	"math"

	"github.com/goccy/go-yaml/ast"
)

// Kind is the YAML type of a value.
type Kind int

// The kinds of value. Inf and NaN are Float; a block scalar ("|") is a
// String.
const (
	Null Kind = iota
	String
	Int
	Float
	Bool
	List
	Map
	Other
)

// Node is one value of a document with anchors, aliases and tags looked
// through. The zero Node is null.
type Node struct {
	n      ast.Node // the value itself; nil for null
	tagged ast.Node // n, or the tag around it: what goccy decodes
	ref    int      // line where this value was referred to (an alias's line)
	d      *Decoder
}

// node resolves n and remembers where it was written.
func (d *Decoder) node(n ast.Node) Node {
	resolved, tagged := d.resolve(n)
	return Node{n: resolved, tagged: tagged, ref: nodeLine(n), d: d}
}

// resolve looks through anchors, aliases and tags to the node that holds
// the value. An unknown alias is reported and gives nil, a null.
func (d *Decoder) resolve(n ast.Node) (value, tagged ast.Node) {
	for range maxAliasChain {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			tagged = v
			n = v.Value
		case *ast.AliasNode:
			tagged = nil
			name := ""
			if v.Value != nil {
				name = v.Value.String()
			}
			target, ok := d.anchor(v, name)
			if !ok {
				d.Errorf(nodeLine(v), "unknown anchor %q", name)
				return nil, nil
			}
			n = target
		default:
			if tagged == nil {
				tagged = n
			}
			return n, tagged
		}
	}
	d.Errorf(nodeLine(n), "alias chain too long")
	return nil, nil
}

// Line is the 1-based line where the value is written (for an alias, where
// its anchor is), or 0 if unknown.
func (n Node) Line() int { return nodeLine(n.n) }

// RefLine is the line where the value was referred to: an alias's own
// line, or Line for a value written in place.
func (n Node) RefLine() int {
	if n.ref > 0 {
		return n.ref
	}
	return n.Line()
}

// Kind is the YAML type of the value.
func (n Node) Kind() Kind {
	switch n.n.(type) {
	case nil, *ast.NullNode:
		return Null
	case *ast.StringNode, *ast.LiteralNode:
		return String
	case *ast.IntegerNode:
		return Int
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return Float
	case *ast.BoolNode:
		return Bool
	case *ast.SequenceNode:
		return List
	case *ast.MappingNode, *ast.MappingValueNode:
		return Map
	}
	return Other
}

// IsNull reports whether the value is an explicit or implied null ("key:").
func (n Node) IsNull() bool { return n.Kind() == Null }

// Text returns a scalar as written: quotes removed, but numbers and
// booleans verbatim (0123 stays "0123", not 123). ok is false for null,
// lists and mappings.
func (n Node) Text() (s string, ok bool) {
	switch v := n.n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return tokenValue(n.n), true
	}
	return "", false
}

// Bool returns a YAML boolean; ok is false for anything else, "yes" and
// "on" included.
func (n Node) Bool() (b, ok bool) {
	v, ok := n.n.(*ast.BoolNode)
	if !ok {
		return false, false
	}
	return v.Value, true
}

// Int returns a YAML integer that fits in an int. ok is false for any
// other value, and for an integer out of range (Kind is then Int, or
// String for one too big for 64 bits, which goccy leaves as text).
func (n Node) Int() (int, bool) {
	v, ok := n.n.(*ast.IntegerNode)
	if !ok {
		return 0, false
	}
	switch i := v.Value.(type) {
	case int64:
		if i >= math.MinInt && i <= math.MaxInt {
			return int(i), true
		}
	case uint64:
		if i <= math.MaxInt {
			return int(i), true
		}
	}
	return 0, false
}

// Number returns a YAML integer or floating-point number (not .inf or
// .nan); ok is false for anything else.
func (n Node) Number() (float64, bool) {
	switch v := n.n.(type) {
	case *ast.FloatNode:
		return v.Value, true
	case *ast.IntegerNode:
		switch i := v.Value.(type) {
		case int64:
			return float64(i), true
		case uint64:
			return float64(i), true
		}
	}
	return 0, false
}

// KindName names the kind for messages: "expected a list, got a string".
func (n Node) KindName() string {
	switch n.Kind() {
	case Null:
		return "nothing"
	case String:
		return "a string"
	case Int, Float:
		return "a number"
	case Bool:
		return "a boolean"
	case List:
		return "a list"
	case Map:
		return "a mapping"
	}
	return "a " + n.n.Type().String()
}

// Describe shows a scalar as written, quoting strings (`"yes"`, `20000`),
// and names the kind of anything else.
func (n Node) Describe() string {
	s, ok := n.Text()
	switch {
	case n.Kind() == String:
		return fmt.Sprintf("%q", s)
	case ok:
		return s
	}
	return n.KindName()
}

func tokenValue(n ast.Node) string {
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// nodeLine is the 1-based line where n starts, or 0 if unknown. A mapping
// entry is placed on its key's line: that is where a reader looks.
func nodeLine(n ast.Node) int {
	switch v := n.(type) {
	case nil:
		return 0
	case *ast.DocumentNode:
		// DocumentNode.GetToken dereferences a nil Body for empty documents.
		if v.Start != nil && v.Start.Position != nil {
			return v.Start.Position.Line
		}
		return nodeLine(v.Body)
	case *ast.MappingValueNode:
		if v.Key != nil {
			if l := nodeLine(v.Key); l > 0 {
				return l
			}
		}
	case *ast.MappingKeyNode:
		if v.Value != nil {
			return nodeLine(v.Value)
		}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0
	}
	return tk.Position.Line
}
