package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// ParseError is a migration file that cannot be read as migrations: a bad
// name, a misplaced goose annotation, a malformed allow comment.
type ParseError struct {
	Path string
	// Line is 1-based; 0 when the error is about the file as a whole.
	Line int
	Msg  string
}

// Error reads "expand/003_x.sql:4: what is wrong".
func (e *ParseError) Error() string {
	if e.Line == 0 {
		return e.Path + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
}

// ParseFile parses one migration file. path is relative to the migrations
// folder ("expand/003_add_index.sql") and gives the phase, version and name.
// The file is plain SQL or uses goose's annotations; an error is a
// *ParseError.
func ParseFile(path string, data []byte) (*File, error) {
	phase, version, name, err := parseName(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	p := &parser{
		src: string(data),
		f: &File{
			Phase: phase, Version: version, Name: name, Path: path,
			Checksum: hex.EncodeToString(sum[:]),
		},
		prev: -1,
	}
	p.lines = lineStarts(p.src)
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.f, nil
}

// Sections of a goose file; a file without annotations is all Up.
const (
	sectionPlain = iota
	sectionUp
	sectionDown
)

type parser struct {
	src     string
	lines   []int
	f       *File
	section int
	// prev is the index of the last statement of the current section, -1
	// before the first; a trailing allow comment on its last line joins it.
	prev    int
	prevEnd int
	// pending are allow comments waiting for the next statement.
	pending []Allow
}

func (p *parser) run() error {
	pos := 0
	for pos < len(p.src) {
		var err error
		if pos, err = p.skipGap(pos, len(p.src), true); err != nil {
			return err
		}
		switch {
		case pos >= len(p.src):
		case strings.HasPrefix(p.src[pos:], "--"):
			end := lineEnd(p.src, pos, len(p.src))
			if pos, err = p.annotate(p.src[pos:end], pos, end); err != nil {
				return err
			}
		default:
			r := scanStatement(p.src, pos, len(p.src), true)
			if err := p.add(pos, r); err != nil {
				return err
			}
			pos = r.next
		}
	}
	return p.flushPending()
}

// skipGap skips blanks, empty statements and comments from pos, handing the
// comments to gapComment. It stops at the next token, at limit, or, when
// annotations is set, at a goose annotation line.
func (p *parser) skipGap(pos, limit int, annotations bool) (int, error) {
	for pos < limit {
		c := p.src[pos]
		var cm comment
		switch {
		case isSpace(c) || c == ';':
			pos++
			continue
		case strings.HasPrefix(p.src[pos:limit], "--"):
			end := lineEnd(p.src, pos, limit)
			if annotations && atLineStart(p.src, pos) && isAnnotation(p.src[pos:end]) {
				return pos, nil
			}
			cm = comment{pos, end, p.src[pos+2 : end]}
		case strings.HasPrefix(p.src[pos:limit], "/*"):
			end := skipBlockComment(p.src, pos, limit)
			cm = comment{pos, end, blockText(p.src, pos, end)}
		default:
			return pos, nil
		}
		if err := p.gapComment(cm); err != nil {
			return 0, err
		}
		pos = cm.end
	}
	return limit, nil
}

// add records the statement src[start:r.last] with the allows before it and
// inside it.
func (p *parser) add(start int, r scanResult) error {
	st := Statement{SQL: p.src[start:r.last], Line: p.lineOf(start), Offset: start, Allows: p.pending}
	p.pending = nil
	for _, c := range r.comments {
		a, ok, err := p.allow(c)
		if err != nil {
			return err
		}
		if ok {
			st.Allows = append(st.Allows, a)
		}
	}
	target := &p.f.Statements
	if p.section == sectionDown {
		target = &p.f.Down
	}
	*target = append(*target, st)
	p.prev, p.prevEnd = len(*target)-1, r.last
	return nil
}

// gapComment handles a comment between statements: an allow comment on the
// line where the previous statement ends belongs to it; any other waits for
// the next statement.
func (p *parser) gapComment(c comment) error {
	a, ok, err := p.allow(c)
	if err != nil || !ok {
		return err
	}
	if p.prev >= 0 && p.lineOf(c.start) == p.lineOf(p.prevEnd-1) {
		target := p.f.Statements
		if p.section == sectionDown {
			target = p.f.Down
		}
		target[p.prev].Allows = append(target[p.prev].Allows, a)
		return nil
	}
	p.pending = append(p.pending, a)
	return nil
}

// allow parses "bascule:allow rule reason…" out of a comment's text. An
// allow without a reason is kept (Lint refuses it, visibly); one without a
// rule name is malformed.
func (p *parser) allow(c comment) (Allow, bool, error) {
	text := strings.TrimSpace(c.text)
	rest, ok := strings.CutPrefix(text, "bascule:allow")
	if !ok || (rest != "" && !isSpace(rest[0])) {
		return Allow{}, false, nil
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return Allow{}, false, p.errorAt(c.start, "bascule:allow needs a rule name and a reason")
	}
	return Allow{Rule: fields[0], Reason: strings.Join(fields[1:], " "), Line: p.lineOf(c.start)}, true, nil
}

// flushPending refuses allow comments that no statement follows.
func (p *parser) flushPending() error {
	if len(p.pending) == 0 {
		return nil
	}
	a := p.pending[0]
	return &ParseError{Path: p.f.Path, Line: a.Line, Msg: "bascule:allow " + a.Rule + " is followed by no statement"}
}

func (p *parser) errorAt(pos int, msg string) error {
	return &ParseError{Path: p.f.Path, Line: p.lineOf(pos), Msg: msg}
}

// lineStarts returns the offset of the first byte of every line.
func lineStarts(src string) []int {
	starts := []int{0}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineOf returns the 1-based line holding offset pos.
func (p *parser) lineOf(pos int) int {
	n, found := slices.BinarySearch(p.lines, pos)
	if found {
		return n + 1
	}
	return n
}
