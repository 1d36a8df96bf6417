package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
)

// decoder lays a YAML AST onto a Config by hand rather than through
// reflection, so that it can report every problem (not only the first) and
// remember the line of every key for the validator.
type decoder struct {
	file    string
	errs    Errors
	lines   map[string]int      // dotted key path → line of the key
	failed  map[string]bool     // paths whose value could not be decoded
	anchors map[string]ast.Node // anchor name → anchored node
	budget  int                 // merged entries left; bounds merge-key fan-out
}

// field decodes the value of one key; path is the key's dotted path.
type field func(path string, n ast.Node)

// section maps the keys allowed in one mapping to their decoders.
type section map[string]field

const (
	maxMergeDepth   = 8
	maxMergeEntries = 10000
	maxAliasChain   = 16
)

func newDecoder(file string) *decoder {
	return &decoder{
		file:    file,
		lines:   map[string]int{},
		failed:  map[string]bool{},
		anchors: map[string]ast.Node{},
		budget:  maxMergeEntries,
	}
}

func (d *decoder) errorf(line int, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// fail reports that the value at path has the wrong shape, and marks path
// so the validator does not pile a second complaint onto the same key.
func (d *decoder) fail(path string, n ast.Node, format string, args ...any) {
	d.failed[path] = true
	msg := fmt.Sprintf(format, args...)
	if path == "" {
		d.errorf(nodeLine(n), "the top level must be a mapping of keys such as listen: and runtime:, got %s", kind(n))
		return
	}
	d.errorf(nodeLine(n), "%s: %s", path, msg)
}

// collectAnchors records every anchor so aliases can be resolved.
func (d *decoder) collectAnchors(root ast.Node) {
	ast.Walk(anchorVisitor(d.anchors), root)
}

type anchorVisitor map[string]ast.Node

func (v anchorVisitor) Visit(n ast.Node) ast.Visitor {
	if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
		if _, seen := v[a.Name.String()]; !seen {
			v[a.Name.String()] = a.Value
		}
	}
	return v
}

// resolve looks through anchors, aliases and tags to the node that holds
// the value. It returns nil for an unknown alias, after reporting it.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for range maxAliasChain {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			name := ""
			if v.Value != nil {
				name = v.Value.String()
			}
			target, ok := d.anchors[name]
			if !ok {
				d.errorf(nodeLine(v), "unknown anchor %q", name)
				return nil
			}
			n = target
		default:
			return n
		}
	}
	d.errorf(nodeLine(n), "alias chain too long")
	return nil
}

// mapping decodes a mapping whose allowed keys are fields. A null value
// (an empty section) is fine and leaves the defaults.
func (d *decoder) mapping(path string, n ast.Node, fields section) {
	entries, ok := d.entries(path, n, 0)
	if !ok {
		return
	}
	for _, e := range entries {
		key, keyLine := d.key(e)
		p := joinPath(path, key)
		if path == "" && strings.HasPrefix(key, "x-") {
			continue // a place for anchors, as in docker compose
		}
		f, known := fields[key]
		if !known {
			d.unknownKey(keyLine, path, key, fields)
			continue
		}
		d.lines[p] = keyLine
		f(p, d.resolve(e.Value))
	}
}

func (d *decoder) unknownKey(line int, path, key string, fields section) {
	msg := fmt.Sprintf("unknown key %q", key)
	if path != "" {
		msg += " in " + path
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if s := suggest(key, keys); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.errorf(line, "%s", msg)
}

// entries returns a mapping's key/value pairs with merge keys ("<<")
// expanded. As YAML specifies, keys written in the mapping win over merged
// ones, and earlier merged mappings win over later ones.
func (d *decoder) entries(path string, n ast.Node, depth int) ([]*ast.MappingValueNode, bool) {
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case nil, *ast.NullNode:
		return nil, true
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		d.fail(path, n, "expected a mapping, got %s", kind(n))
		return nil, false
	}
	var own, merged []*ast.MappingValueNode
	for _, v := range values {
		if v.Key != nil && v.Key.IsMergeKey() {
			merged = append(merged, d.merge(path, v, depth)...)
			continue
		}
		own = append(own, v)
	}
	return d.appendNew(own, merged), true
}

// merge expands the value of one "<<" key: a mapping or a list of them.
func (d *decoder) merge(path string, v *ast.MappingValueNode, depth int) []*ast.MappingValueNode {
	if depth >= maxMergeDepth {
		d.errorf(nodeLine(v), "merge keys nested too deeply")
		return nil
	}
	src := d.resolve(v.Value)
	items := []ast.Node{src}
	if seq, ok := src.(*ast.SequenceNode); ok {
		items = seq.Values
	}
	var out []*ast.MappingValueNode
	for _, it := range items {
		es, ok := d.entries(path, d.resolve(it), depth+1)
		if !ok {
			return out
		}
		d.budget -= len(es)
		if d.budget < 0 {
			d.errorf(nodeLine(v), "too many merged keys")
			return out
		}
		out = d.appendNew(out, es)
	}
	return out
}

// appendNew appends the entries of extra whose key is not yet in base.
func (d *decoder) appendNew(base, extra []*ast.MappingValueNode) []*ast.MappingValueNode {
	if len(extra) == 0 {
		return base
	}
	seen := make(map[string]bool, len(base))
	for _, e := range base {
		k, _ := d.keyText(e)
		seen[k] = true
	}
	for _, e := range extra {
		if k, _ := d.keyText(e); !seen[k] {
			seen[k] = true
			base = append(base, e)
		}
	}
	return base
}

// key returns the text and line of an entry's key.
func (d *decoder) key(e *ast.MappingValueNode) (string, int) {
	k, n := d.keyText(e)
	return k, nodeLine(n)
}

func (d *decoder) keyText(e *ast.MappingValueNode) (string, ast.Node) {
	var n ast.Node = e.Key
	if mk, ok := n.(*ast.MappingKeyNode); ok {
		n = mk.Value
	}
	if n == nil {
		return "", e
	}
	if s, ok := scalarText(n); ok {
		return s, n
	}
	return n.String(), n
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// isNull reports whether n is an explicit or implied YAML null. A null
// value leaves the default in place, so "header:" means "the default".
func isNull(n ast.Node) bool {
	switch n.(type) {
	case nil, *ast.NullNode:
		return true
	}
	return false
}

// str decodes any scalar as its text, so `token: 0123` keeps its zero.
func (d *decoder) str(dst *string) field {
	return func(path string, n ast.Node) {
		if isNull(n) {
			return
		}
		s, ok := scalarText(n)
		if !ok {
			d.fail(path, n, "expected a string, got %s", kind(n))
			return
		}
		*dst = s
	}
}

// strs decodes a list of scalars.
func (d *decoder) strs(dst *[]string) field {
	return func(path string, n ast.Node) {
		out := []string{}
		if d.list(path, n, `strings such as ["./app", "--serve"]`, func(p string, item ast.Node) {
			s, ok := scalarText(item)
			if !ok {
				d.fail(p, item, "expected a string, got %s", kind(item))
				return
			}
			out = append(out, s)
		}) {
			*dst = out
		}
	}
}

// addrs decodes one address, as a list of one, or a list of them.
func (d *decoder) addrs(dst *[]string) field {
	return func(path string, n ast.Node) {
		if s, ok := scalarText(n); ok && !isNull(n) {
			*dst = []string{s}
			return
		}
		out := []string{}
		if d.list(path, n, `addresses such as ["10.0.0.1:8080", "10.0.0.2:8080"]`, func(p string, item ast.Node) {
			s, ok := scalarText(item)
			if !ok {
				d.fail(p, item, "expected a string, got %s", kind(item))
				return
			}
			out = append(out, s)
		}) {
			*dst = out
		}
	}
}

// list decodes a YAML list at path, item by item with each, which gets the
// item's path ("path[i]", its line recorded) and its anchor-resolved node.
// It reports whether n was a list: null is not (the destination keeps its
// default) and any other non-list fails, saying what was wanted (what).
func (d *decoder) list(path string, n ast.Node, what string, each func(p string, item ast.Node)) bool {
	if isNull(n) {
		return false
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.fail(path, n, "expected a list of %s, got %s", what, kind(n))
		return false
	}
	for i, item := range seq.Values {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = nodeLine(item)
		each(p, d.resolve(item))
	}
	return true
}

// strMap decodes a mapping of scalars; a null value is an empty string.
func (d *decoder) strMap(dst *map[string]string) field {
	return func(path string, n ast.Node) {
		if isNull(n) {
			return
		}
		entries, ok := d.entries(path, n, 0)
		if !ok {
			return
		}
		out := make(map[string]string, len(entries))
		for _, e := range entries {
			key, line := d.key(e)
			p := joinPath(path, key)
			d.lines[p] = line
			v := d.resolve(e.Value)
			s, ok := scalarText(v)
			if !ok && !isNull(v) {
				d.fail(p, v, "expected a string, got %s", kind(v))
				continue
			}
			out[key] = s
		}
		*dst = out
	}
}

// duration decodes "500ms", "2s", "1m30s". A bare number is refused: a
// reader cannot tell whether 30 means seconds or milliseconds.
func (d *decoder) duration(dst *time.Duration) field {
	return func(path string, n ast.Node) {
		if isNull(n) {
			return
		}
		s, ok := scalarText(n)
		if !ok {
			d.fail(path, n, "expected a duration such as \"500ms\" or \"2s\", got %s", kind(n))
			return
		}
		v, err := parseDuration(s)
		if err != nil {
			d.fail(path, n, "%v", err)
			return
		}
		*dst = v
	}
}

// integer decodes a YAML integer that fits in an int.
func (d *decoder) integer(dst *int) field {
	return func(path string, n ast.Node) {
		if isNull(n) {
			return
		}
		in, ok := n.(*ast.IntegerNode)
		if !ok {
			// go-yaml leaves integers too big for 64 bits as strings.
			if s, _ := scalarText(n); s != "" && strings.Trim(s, "0123456789") == "" {
				d.fail(path, n, "%s is out of range", s)
				return
			}
			d.fail(path, n, "expected an integer, got %s", describe(n))
			return
		}
		switch v := in.Value.(type) {
		case int64:
			if v >= math.MinInt && v <= math.MaxInt {
				*dst = int(v)
				return
			}
		case uint64:
			if v <= math.MaxInt {
				*dst = int(v)
				return
			}
		}
		d.fail(path, n, "%s is out of range", tokenValue(n))
	}
}

// number decodes a YAML integer or floating-point number.
func (d *decoder) number(dst *float64) field {
	return func(path string, n ast.Node) {
		if isNull(n) {
			return
		}
		switch v := n.(type) {
		case *ast.FloatNode:
			*dst = v.Value
			return
		case *ast.IntegerNode:
			switch i := v.Value.(type) {
			case int64:
				*dst = float64(i)
				return
			case uint64:
				*dst = float64(i)
				return
			}
		}
		if t, _ := scalarText(n); strings.HasSuffix(strings.TrimSpace(t), "%") {
			d.fail(path, n, "write a share as a number: 0.02 for 2%%, got %s", describe(n))
			return
		}
		d.fail(path, n, "expected a number such as 0.02, got %s", describe(n))
	}
}

// boolean decodes true or false; "yes" and "on" are YAML 1.1 relics and
// are refused rather than guessed.
func (d *decoder) boolean(dst *bool) field {
	return func(path string, n ast.Node) {
		if isNull(n) {
			return
		}
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.fail(path, n, "expected true or false, got %s", describe(n))
			return
		}
		*dst = b.Value
	}
}

// portRange decodes "A-B". Whether A and B are usable ports is the
// validator's business.
func (d *decoder) portRange(dst *PortRange) field {
	return func(path string, n ast.Node) {
		if isNull(n) {
			return
		}
		s, _ := scalarText(n)
		lo, hi, found := strings.Cut(s, "-")
		a, errA := strconv.Atoi(strings.TrimSpace(lo))
		b, errB := strconv.Atoi(strings.TrimSpace(hi))
		if _, isStr := n.(*ast.StringNode); !isStr || !found || errA != nil || errB != nil {
			d.fail(path, n, "expected a range \"A-B\" such as \"20000-20999\", got %s", describe(n))
			return
		}
		*dst = PortRange{Min: a, Max: b}
	}
}
