package yamldoc

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Options say how a kind of file speaks of itself in messages. The zero
// value gives "a YAML file holds one YAML document" and "unknown key".
type Options struct {
	// Kind names the file: "config" gives "a config file holds one YAML
	// document". Empty: "YAML".
	Kind string
	// KeyWord is what the file calls a mapping key in "unknown key \"x\"":
	// "key" (empty) or "field".
	KeyWord string
	// SyntaxPrefix starts the message of a YAML syntax error, such as
	// "invalid YAML: ". Empty: goccy's message alone.
	SyntaxPrefix string
}

// Decoder reads one file and collects its problems. It is not safe for
// concurrent use; make one per file read.
type Decoder struct {
	file    string
	opts    Options
	errs    Errors
	anchors map[string][]*ast.AnchorNode // anchor name → its definitions, in document order
	merged  int                          // entries merged so far; bounds merge-key fan-out
	steps   int                          // values handed out so far; bounds alias fan-out
	tooMany bool                         // the steps bound was reported
}

// Bounds on what a small file can make a walk do through aliases and
// merge keys (a "billion laughs"): far above any real file.
const (
	maxMergeDepth   = 8
	maxMergeEntries = 10000
	maxAliasChain   = 16
	maxSteps        = 200_000
)

// NewDecoder returns a Decoder for the file named file (used in messages).
func NewDecoder(file string, opts Options) *Decoder {
	return &Decoder{file: file, opts: opts, anchors: map[string][]*ast.AnchorNode{}}
}

// Errorf reports a problem at line (0: the whole file).
func (d *Decoder) Errorf(line int, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// Errors returns the problems reported so far, in the order found.
func (d *Decoder) Errors() Errors { return d.errs }

// Parse parses data and returns the top-level value of its document, null
// for an empty file. ok is false, after reporting why, when data is not
// YAML (a syntax error: root is null) or holds more than one document (root
// is the first, for a caller that reports what it can of it).
func (d *Decoder) Parse(data []byte) (root Node, ok bool) {
	// The parser is third-party code fed a person's input; a panic in it
	// must become an error in the file, not crash bascule.
	defer func() {
		if r := recover(); r != nil {
			d.Errorf(0, "parse yaml: %v", r)
			root, ok = Node{}, false
		}
	}()
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		d.syntaxError(err, data)
		return Node{}, false
	}
	if len(f.Docs) == 0 {
		return Node{d: d}, true
	}
	kind := d.opts.Kind
	if kind == "" {
		kind = "YAML"
	}
	for _, doc := range f.Docs[1:] {
		d.Errorf(nodeLine(doc), "a %s file holds one YAML document; remove this one or the \"---\" before it", kind)
	}
	body := f.Docs[0].Body
	if body == nil {
		return Node{d: d}, len(f.Docs) == 1
	}
	ast.Walk(anchorVisitor(d.anchors), body)
	return d.node(body), len(f.Docs) == 1
}

type anchorVisitor map[string][]*ast.AnchorNode

func (v anchorVisitor) Visit(n ast.Node) ast.Visitor {
	if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
		v[a.Name.String()] = append(v[a.Name.String()], a)
	}
	return v
}

// anchor returns the node an alias refers to: as YAML says, that of the
// last anchor of its name before it. An alias written before any anchor of
// its name (which YAML does not allow, but bascule.yaml always has)
// refers to the first.
func (d *Decoder) anchor(alias *ast.AliasNode, name string) (ast.Node, bool) {
	defs := d.anchors[name]
	if len(defs) == 0 {
		return nil, false
	}
	at := alias.GetToken().Position
	found := defs[0]
	for _, a := range defs[1:] {
		if p := a.GetToken().Position; p.Line < at.Line || p.Line == at.Line && p.Column < at.Column {
			found = a
		}
	}
	return found.Value, true
}

var goccyPos = regexp.MustCompile(`at \[(\d+):\d+\]`)

// syntaxError reports a goccy error as "file:line: msg", its "[line:col]"
// references rewritten into words.
func (d *Decoder) syntaxError(err error, data []byte) {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		d.Errorf(0, "parse yaml: %v", err)
		return
	}
	line := 0
	if tk := ye.GetToken(); tk != nil && tk.Position != nil {
		line = tk.Position.Line
		if strings.HasPrefix(ye.GetMessage(), "mapping value is not allowed") {
			// The token is a plain scalar that ran on over the next lines
			// (a key indented too far); the stray ':' is on its last line.
			line += strings.Count(strings.TrimRight(tk.Origin, " \t\n"), "\n")
		}
	}
	msg := goccyPos.ReplaceAllString(ye.GetMessage(), "on line $1")
	// A [ or { left open is noticed where the parser gave up, often a
	// line or more later; the writer needs the line that opened it.
	for _, b := range [...]struct{ open, close byte }{{'[', ']'}, {'{', '}'}} {
		if strings.HasPrefix(msg, "',' or '"+string(b.close)+"' must be specified") && line > 0 {
			if open := unclosedOn(data, line, b.open, b.close); open > 0 && open < line {
				d.Errorf(open, "%sthe %c opened on this line is not closed (',' or '%c' expected by line %d)",
					d.opts.SyntaxPrefix, b.open, b.close, line)
				return
			}
		}
	}
	d.Errorf(line, "%s%s", d.opts.SyntaxPrefix, msg)
}

// unclosedOn returns the line of the last open bracket still unclosed
// before line upto, ignoring brackets in quotes and comments; 0 if none.
func unclosedOn(data []byte, upto int, open, close byte) int {
	var stack []int
	lineNo := 1
	var quote byte
	comment := false
	for _, c := range data {
		if c == '\n' {
			lineNo++
			comment, quote = false, 0
			if lineNo >= upto {
				break
			}
			continue
		}
		switch {
		case comment:
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			comment = true
		case c == open:
			stack = append(stack, lineNo)
		case c == close && len(stack) > 0:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) == 0 {
		return 0
	}
	return stack[len(stack)-1]
}
