package flag

import (
	"errors"
	"maps"
	"slices"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/internal/yamldoc"
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

// FileError lists every problem found in a flags file, one per line of its
// message, each as `file:line: message`, in line order.
type FileError struct {
	Errors yamldoc.Errors
}

// Error puts one `file:line: message` per line.
func (e *FileError) Error() string { return e.Errors.Error() }

// Unwrap exposes each *yamldoc.Error to errors.As.
func (e *FileError) Unwrap() error { return e.Errors }

// ParseFile parses and validates a flags file. name is used in messages only.
// It returns a *FileError listing every problem, syntax and meaning alike
// (unknown fields, bad percentages, unknown segments, prerequisite cycles…),
// so that nothing is applied from a file with any mistake in it.
func ParseFile(name string, data []byte) (*Document, error) {
	p := &yamlParser{
		Decoder: yamldoc.NewDecoder(name, yamldoc.Options{Kind: "flags", KeyWord: "field"}),
		flagPos: map[string][]*entryPos{}, segPos: map[string][]*entryPos{},
	}
	root, ok := p.Parse(data)
	if !ok && root.IsNull() {
		// Not YAML: nothing to read. (A second document is reported, and
		// the first still read for what else it may say.)
		return nil, &FileError{Errors: p.Errors()}
	}
	doc := &Document{}
	if !root.IsNull() {
		p.fields(root, "file", map[string]func(yamldoc.Node){
			"segments": func(n yamldoc.Node) {
				p.each(n, "segments", func(n yamldoc.Node) { doc.Segments = append(doc.Segments, p.segment(n)) })
			},
			"flags": func(n yamldoc.Node) {
				p.each(n, "flags", func(n yamldoc.Node) { doc.Flags = append(doc.Flags, p.flag(n)) })
			},
		})
	}
	// Meaning is checked even when some fields did not parse, so that one
	// run reports every mistake; locate leaves out what a field's own error
	// already explains.
	if _, err := doc.Snapshot(0); err != nil {
		p.locate(err)
	}
	if errs := p.Errors(); len(errs) > 0 {
		return nil, &FileError{Errors: errs.Sorted()}
	}
	return doc, nil
}

// yamlParser walks the document (internal/yamldoc) rather than decoding into
// structs, so that every error, including semantic ones found later by
// validation, points at its line, and so that all of them are reported at once.
type yamlParser struct {
	*yamldoc.Decoder
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

func newEntryPos(n yamldoc.Node) *entryPos {
	return &entryPos{line: n.Line(), fields: map[string]int{}, faulty: map[fieldAt]bool{}}
}

// enter makes pos the entry being read, until the returned func is called.
func (p *yamlParser) enter(pos *entryPos) (leave func()) {
	prevIn, prevAt := p.in, p.at
	p.in, p.at = pos, fieldAt{}
	return func() { p.in, p.at = prevIn, prevAt }
}

// field wraps a field's handler so that errors in it mark that field.
func (p *yamlParser) field(name string, fn func(yamldoc.Node)) func(yamldoc.Node) {
	return func(n yamldoc.Node) {
		prev := p.at
		p.at = fieldAt{field: name}
		defer func() { p.at = prev }()
		fn(n)
	}
}

// errorf reports a problem at n's line and marks the field being read as
// faulty.
func (p *yamlParser) errorf(n yamldoc.Node, format string, args ...any) {
	p.Errorf(n.Line(), format, args...)
	p.markFaulty()
}

func (p *yamlParser) markFaulty() {
	if p.in != nil {
		p.in.faulty[p.at] = true
	}
}

// locate turns validation problems into line errors, pointing at the rule,
// step, condition or field at fault when it was written down.
func (p *yamlParser) locate(err error) {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		p.Errorf(0, "%s", err.Error())
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
		p.Errorf(line, "%s", pr.Error())
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

// entries returns the entries of a mapping, merge keys expanded, or
// reports that the node is not one.
func (p *yamlParser) entries(n yamldoc.Node, what string) []yamldoc.Entry {
	if n.IsNull() {
		p.errorf(n, "%s must be a mapping", what)
		return nil
	}
	entries, _ := p.Entries(n, func(bad yamldoc.Node) { p.errorf(bad, "%s must be a mapping", what) })
	return entries
}

// fields dispatches each key of a mapping to its handler, reporting unknown
// and repeated keys.
func (p *yamlParser) fields(n yamldoc.Node, what string, handlers map[string]func(yamldoc.Node)) {
	seen := map[string]bool{}
	for _, e := range p.entries(n, what) {
		h, ok := handlers[e.Key]
		switch {
		case !ok:
			p.UnknownKey(e, what, slices.Collect(maps.Keys(handlers)))
			p.markFaulty()
		case seen[e.Key]:
			p.Errorf(e.Line, "field %q repeated in %s", e.Key, what)
			p.markFaulty()
		default:
			seen[e.Key] = true
			h(e.Value())
		}
	}
}

// each calls fn for every item of a list; null is an empty list.
func (p *yamlParser) each(n yamldoc.Node, what string, fn func(yamldoc.Node)) {
	if n.IsNull() {
		return
	}
	items, ok := p.Items(n)
	if !ok {
		p.errorf(n, "%s must be a list", what)
		return
	}
	for _, it := range items {
		fn(it)
	}
}

// scalar returns a scalar's text as written (so `on`, `3` and `true` are all
// text to us), or reports that the node is not a scalar.
func (p *yamlParser) scalar(n yamldoc.Node, what string) string {
	if n.IsNull() {
		return ""
	}
	s, ok := n.Text()
	if !ok {
		p.errorf(n, "%s must be a single value", what)
	}
	return s
}

// stringList reads a scalar or a list of scalars.
func (p *yamlParser) stringList(n yamldoc.Node, what string) []string {
	if n.Kind() != yamldoc.List {
		return []string{p.scalar(n, what)}
	}
	var out []string
	p.each(n, what, func(n yamldoc.Node) { out = append(out, p.scalar(n, what)) })
	return out
}

func (p *yamlParser) boolean(n yamldoc.Node, what string) bool {
	b, ok := n.Bool()
	if !ok {
		p.errorf(n, "%s must be true or false", what)
	}
	return b
}

// value decodes any YAML value (a variant's value) into Go.
func (p *yamlParser) value(n yamldoc.Node, what string) any {
	v, err := n.Value()
	if err != nil {
		p.errorf(n, "%s: %v", what, err)
	}
	return v
}
