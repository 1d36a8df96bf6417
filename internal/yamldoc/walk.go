package yamldoc

import (
	"fmt"
	"slices"

	"github.com/goccy/go-yaml/ast"
)

// Entry is one key of a mapping and its value.
type Entry struct {
	Key  string // the key's text as written
	Line int    // the key's line
	key  ast.Node
	raw  ast.Node
	d    *Decoder
}

// Value returns the entry's value, resolved. An alias is only resolved
// (and an unknown one reported) when the value is asked for, so a key that
// is skipped costs nothing.
func (e Entry) Value() Node {
	if e.d == nil {
		return Node{}
	}
	return e.d.node(e.raw)
}

// Entries returns the entries of mapping n with merge keys ("<<")
// expanded: as YAML specifies, keys written in the mapping win over merged
// ones, and earlier merged mappings win over later ones. A null n is an
// empty mapping. notMap is called for n, or for a merged value, that is
// not a mapping, for the caller to say so in its words; ok is false when
// n itself is not one.
func (d *Decoder) Entries(n Node, notMap func(bad Node)) (entries []Entry, ok bool) {
	values, ok := d.entries(n, notMap, 0)
	if !d.spend(len(values)) {
		return nil, ok
	}
	entries = make([]Entry, len(values))
	for i, v := range values {
		key, keyNode := keyText(v)
		entries[i] = Entry{Key: key, Line: nodeLine(keyNode), key: keyNode, raw: v.Value, d: d}
	}
	return entries, ok
}

func (d *Decoder) entries(n Node, notMap func(Node), depth int) ([]*ast.MappingValueNode, bool) {
	var values []*ast.MappingValueNode
	switch m := n.n.(type) {
	case nil, *ast.NullNode:
		return nil, true
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		notMap(n)
		return nil, false
	}
	var own, merged []*ast.MappingValueNode
	for _, v := range values {
		if v.Key != nil && v.Key.IsMergeKey() {
			merged = append(merged, d.merge(v, notMap, depth)...)
			continue
		}
		own = append(own, v)
	}
	return appendNew(own, merged), true
}

// merge expands the value of one "<<" key: a mapping or a list of them.
func (d *Decoder) merge(v *ast.MappingValueNode, notMap func(Node), depth int) []*ast.MappingValueNode {
	if depth >= maxMergeDepth {
		d.Errorf(nodeLine(v), "merge keys nested too deeply")
		return nil
	}
	src := d.node(v.Value)
	items := []Node{src}
	if seq, ok := src.n.(*ast.SequenceNode); ok {
		items = make([]Node, len(seq.Values))
		for i, it := range seq.Values {
			items[i] = d.node(it)
		}
	}
	var out []*ast.MappingValueNode
	for _, it := range items {
		es, ok := d.entries(it, notMap, depth+1)
		if !ok {
			return out
		}
		d.merged += len(es)
		if d.merged > maxMergeEntries {
			d.Errorf(nodeLine(v), "too many merged keys")
			return out
		}
		out = appendNew(out, es)
	}
	return out
}

// appendNew appends the entries of extra whose key is not yet in base.
func appendNew(base, extra []*ast.MappingValueNode) []*ast.MappingValueNode {
	if len(extra) == 0 {
		return base
	}
	seen := make(map[string]bool, len(base))
	for _, e := range base {
		k, _ := keyText(e)
		seen[k] = true
	}
	for _, e := range extra {
		if k, _ := keyText(e); !seen[k] {
			seen[k] = true
			base = append(base, e)
		}
	}
	return base
}

// keyText returns the text of an entry's key and the node that holds it.
func keyText(e *ast.MappingValueNode) (string, ast.Node) {
	var n ast.Node = e.Key
	if mk, ok := n.(*ast.MappingKeyNode); ok {
		n = mk.Value
	}
	if n == nil {
		return "", e
	}
	if s, ok := (Node{n: n}).Text(); ok {
		return s, n
	}
	return n.String(), n
}

// Items returns the items of list n, each resolved; ok is false when n is
// not a list (null included: the caller decides what null means).
func (d *Decoder) Items(n Node) ([]Node, bool) {
	seq, ok := n.n.(*ast.SequenceNode)
	if !ok {
		return nil, false
	}
	if !d.spend(len(seq.Values)) {
		return nil, true
	}
	items := make([]Node, len(seq.Values))
	for i, it := range seq.Values {
		items[i] = d.node(it)
	}
	return items, true
}

// spend counts n values handed out and reports false, once, when a walk
// has been handed more than any file written by hand holds: aliases can
// make a small file expand to billions of values.
func (d *Decoder) spend(n int) bool {
	d.steps += n
	if d.steps <= maxSteps {
		return true
	}
	if !d.tooMany {
		d.tooMany = true
		d.Errorf(0, "the file expands to more than %d values through its aliases", maxSteps)
	}
	return false
}

// UnknownKey reports that e's key is none of known, suggesting the closest.
func (d *Decoder) UnknownKey(e Entry, where string, known []string) {
	word := d.opts.KeyWord
	if word == "" {
		word = "key"
	}
	msg := fmt.Sprintf("unknown %s %q", word, e.Key)
	if where != "" {
		msg += " in " + where
	}
	keys := slices.Sorted(slices.Values(known))
	if s := Suggest(e.Key, keys); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.Errorf(e.Line, "%s", msg)
}
