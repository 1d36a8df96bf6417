package config

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
)

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

// scalarText returns the text of a scalar as written: quotes removed, but
// numbers kept verbatim (0123 stays "0123", not 123).
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return tokenValue(n), true
	}
	return "", false
}

func tokenValue(n ast.Node) string {
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// kind names the YAML type of n for messages: "expected a list, got a string".
func kind(n ast.Node) string {
	switch n.(type) {
	case nil, *ast.NullNode:
		return "nothing"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	case *ast.SequenceNode:
		return "a list"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	}
	return "a " + n.Type().String()
}

// describe shows a scalar as written, quoting strings (`"yes"`, `20000`),
// and names the kind of anything else.
func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := scalarText(n)
		return fmt.Sprintf("%q", s)
	}
	if s, ok := scalarText(n); ok {
		return s
	}
	return kind(n)
}
