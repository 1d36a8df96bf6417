package flag

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/bascule/bascule/feature"
)

// Document is a parsed, validated flags-as-code file (see the package doc
// for the format).
type Document struct {
	Flags    []*Flag
	Segments []*Segment
}

// Snapshot builds the snapshot the document describes. For a Document
// returned by ParseFile it cannot fail.
func (d *Document) Snapshot(version int64) (*Snapshot, error) {
	return feature.NewSnapshot(version, d.Flags, d.Segments)
}

// LineError is one problem in a flags file, at a line.
type LineError struct {
	File    string
	Line    int
	Message string
}

// Error reads `file:line: message`.
func (e LineError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
}

// FileError lists every problem found in a flags file, one per line of its
// message, each as `file:line: message`.
type FileError struct {
	Errors []LineError
}

// Error puts one `file:line: message` per line.
func (e *FileError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, le := range e.Errors {
		msgs[i] = le.Error()
	}
	return strings.Join(msgs, "\n")
}

// ParseFile parses and validates a flags file. name is used in messages only.
// It returns a *FileError listing every problem, syntax and meaning alike
// (unknown fields, bad percentages, unknown segments, prerequisite cycles…),
// so that nothing is applied from a file with any mistake in it.
func ParseFile(name string, data []byte) (*Document, error) {
	p := &yamlParser{file: name, flagPos: map[string][]*entryPos{}, segPos: map[string][]*entryPos{}}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, p.syntaxError(err)
	}
	doc := &Document{}
	if len(f.Docs) > 1 {
		p.errorf(f.Docs[1].Body, "a flags file holds one YAML document, found %d", len(f.Docs))
	}
	if len(f.Docs) > 0 && f.Docs[0].Body != nil {
		p.fields(f.Docs[0].Body, "file", map[string]func(ast.Node){
			"segments": func(n ast.Node) {
				p.each(n, "segments", func(n ast.Node) { doc.Segments = append(doc.Segments, p.segment(n)) })
			},
			"flags": func(n ast.Node) { p.each(n, "flags", func(n ast.Node) { doc.Flags = append(doc.Flags, p.flag(n)) }) },
		})
	}
	// Meaning is checked even when some fields did not parse, so that one
	// run reports every mistake; locate leaves out what a field's own error
	// already explains.
	if _, err := doc.Snapshot(0); err != nil {
		p.locate(err)
	}
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, byLine)
		return nil, &FileError{Errors: p.errs}
	}
	return doc, nil
}

// byLine orders errors by line, those without a line last.
func byLine(a, b LineError) int {
	switch {
	case a.Line == b.Line:
		return 0
	case a.Line == 0:
		return 1
	case b.Line == 0:
		return -1
	}
	return a.Line - b.Line
}

// yamlParser walks the YAML syntax tree by hand, rather than decoding into
// structs, so that every error, including semantic ones found later by
// validation, points at its line, and so that all of them are reported at once.
type yamlParser struct {
	file string
	errs []LineError
	// flagPos and segPos hold where each key was written, more than once
	// when it is defined twice.
	flagPos map[string][]*entryPos
	segPos  map[string][]*entryPos
	// in is the flag or segment being read and its field (and 1-based
	// item) being read, which errorf marks as faulty; nil outside entries.
	in *entryPos
	at fieldAt
}

// fieldAt names a field of a flag or segment, with the rule, schedule step
// or condition number (0 for other fields), as a Problem does.
type fieldAt struct {
	field string
	index int
}

// entryPos remembers where a flag or segment and its parts were written.
type entryPos struct {
	line   int
	fields map[string]int
	items  []int // lines of rules or conditions
	steps  []int // lines of schedule steps
	// faulty are the fields that did not parse: what validation says of
	// them follows from that error and would only repeat it.
	faulty map[fieldAt]bool
}

func newEntryPos(n ast.Node) *entryPos {
	return &entryPos{line: lineOf(n), fields: map[string]int{}, faulty: map[fieldAt]bool{}}
}

// enter makes pos the entry being read, until the returned func is called.
func (p *yamlParser) enter(pos *entryPos) (leave func()) {
	prevIn, prevAt := p.in, p.at
	p.in, p.at = pos, fieldAt{}
	return func() { p.in, p.at = prevIn, prevAt }
}

// field wraps a field's handler so that errors in it mark that field.
func (p *yamlParser) field(name string, fn func(ast.Node)) func(ast.Node) {
	return func(n ast.Node) {
		prev := p.at
		p.at = fieldAt{field: name}
		defer func() { p.at = prev }()
		fn(n)
	}
}

func lineOf(n ast.Node) int {
	if n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

func (p *yamlParser) errorf(n ast.Node, format string, args ...any) {
	p.errs = append(p.errs, LineError{File: p.file, Line: lineOf(n), Message: fmt.Sprintf(format, args...)})
	if p.in != nil {
		p.in.faulty[p.at] = true
	}
}

func (p *yamlParser) syntaxError(err error) error {
	var ye yaml.Error
	le := LineError{File: p.file, Message: err.Error()}
	if errors.As(err, &ye) {
		le.Message = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil {
			le.Line = tk.Position.Line
		}
	}
	return &FileError{Errors: []LineError{le}}
}

// locate turns validation problems into line errors, pointing at the rule,
// step, condition or field at fault when it was written down.
func (p *yamlParser) locate(err error) {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		p.errs = append(p.errs, LineError{File: p.file, Message: err.Error()})
		return
	}
	for _, pr := range ve.Problems {
		all := p.flagPos[pr.Key]
		if pr.Kind == "segment" {
			all = p.segPos[pr.Key]
		}
		if slices.ContainsFunc(all, func(pos *entryPos) bool { return pos.faulty[fieldAt{pr.Field, pr.Index}] }) {
			continue
		}
		line := 0
		switch {
		case len(all) == 0:
		case pr.Field == "key" && len(all) > 1:
			line = all[len(all)-1].line // defined twice: the second time
		default:
			line = all[0].lineFor(pr)
		}
		p.errs = append(p.errs, LineError{File: p.file, Line: line, Message: pr.Error()})
	}
}

func (e *entryPos) lineFor(pr Problem) int {
	items := e.items
	if pr.Field == "schedule" {
		items = e.steps
	}
	if pr.Index > 0 && pr.Index <= len(items) {
		return items[pr.Index-1]
	}
	if l, ok := e.fields[pr.Field]; ok {
		return l
	}
	return e.line
}

// mappingValues returns the key/value pairs of a mapping node, or reports
// that the node is not one.
func (p *yamlParser) mappingValues(n ast.Node, what string) []*ast.MappingValueNode {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}
	}
	p.errorf(n, "%s must be a mapping", what)
	return nil
}

// fields dispatches each key of a mapping to its handler, reporting unknown
// and repeated keys.
func (p *yamlParser) fields(n ast.Node, what string, handlers map[string]func(ast.Node)) {
	seen := map[string]bool{}
	for _, mv := range p.mappingValues(n, what) {
		k := mv.Key.GetToken().Value
		h, ok := handlers[k]
		switch {
		case !ok:
			p.errorf(mv.Key, "unknown field %q in %s", k, what)
		case seen[k]:
			p.errorf(mv.Key, "field %q repeated in %s", k, what)
		default:
			seen[k] = true
			h(mv.Value)
		}
	}
}

// each calls fn for every entry of a sequence node.
func (p *yamlParser) each(n ast.Node, what string, fn func(ast.Node)) {
	if _, null := n.(*ast.NullNode); null {
		return
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		p.errorf(n, "%s must be a list", what)
		return
	}
	for _, v := range seq.Values {
		fn(v)
	}
}

// scalar returns a scalar's text as written (so `on`, `3` and `true` are all
// text to us), or reports that the node is not a scalar.
func (p *yamlParser) scalar(n ast.Node, what string) string {
	switch s := n.(type) {
	case *ast.StringNode:
		return s.Value
	case *ast.LiteralNode:
		return s.Value.Value
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return s.GetToken().Value
	case *ast.NullNode:
		return ""
	}
	p.errorf(n, "%s must be a single value", what)
	return ""
}

// stringList reads a scalar or a list of scalars.
func (p *yamlParser) stringList(n ast.Node, what string) []string {
	if _, ok := n.(*ast.SequenceNode); !ok {
		return []string{p.scalar(n, what)}
	}
	var out []string
	p.each(n, what, func(n ast.Node) { out = append(out, p.scalar(n, what)) })
	return out
}

func (p *yamlParser) boolean(n ast.Node, what string) bool {
	b, ok := n.(*ast.BoolNode)
	if !ok {
		p.errorf(n, "%s must be true or false", what)
		return false
	}
	return b.Value
}

// value decodes any YAML value (a variant's value) into Go.
func (p *yamlParser) value(n ast.Node, what string) any {
	if _, ok := n.(*ast.AliasNode); ok {
		p.errorf(n, "%s: aliases are not supported", what)
		return nil
	}
	var v any
	if err := yaml.NodeToValue(n, &v); err != nil {
		p.errorf(n, "%s: %v", what, err)
	}
	return v
}
