package migrate

import "strings"

// goose annotations, upper-cased with single spaces: goose itself matches
// them case-insensitively.
const (
	gooseUp             = "UP"
	gooseDown           = "DOWN"
	gooseBegin          = "STATEMENTBEGIN"
	gooseEnd            = "STATEMENTEND"
	gooseNoTransaction  = "NO TRANSACTION"
	annotationPrefix    = "+goose"
	annotationPrefixLen = len(annotationPrefix)
)

// isAnnotation reports whether a "--" comment line is a goose annotation.
func isAnnotation(line string) bool {
	text := strings.TrimSpace(strings.TrimPrefix(line, "--"))
	return len(text) >= annotationPrefixLen && strings.EqualFold(text[:annotationPrefixLen], annotationPrefix) &&
		(len(text) == annotationPrefixLen || isSpace(text[annotationPrefixLen]))
}

// annotationCommand returns the command of an annotation line, normalised:
// "-- +goose no  transaction" gives "NO TRANSACTION".
func annotationCommand(line string) string {
	text := strings.TrimSpace(strings.TrimPrefix(line, "--"))
	return strings.ToUpper(strings.Join(strings.Fields(text[annotationPrefixLen:]), " "))
}

// annotate applies the annotation on src[start:end] and returns where
// parsing resumes.
func (p *parser) annotate(line string, start, end int) (int, error) {
	switch cmd := annotationCommand(line); cmd {
	case gooseUp:
		if p.section != sectionPlain || len(p.f.Statements) > 0 {
			return 0, p.errorAt(start, "-- +goose Up must come once, before any statement")
		}
		p.section = sectionUp
	case gooseDown:
		if p.section == sectionDown {
			return 0, p.errorAt(start, "-- +goose Down must come only once")
		}
		if err := p.flushPending(); err != nil {
			return 0, err
		}
		p.section, p.prev = sectionDown, -1
	case gooseNoTransaction:
		p.f.NoTransaction = true
	case gooseBegin:
		return p.block(start, end)
	case gooseEnd:
		return 0, p.errorAt(start, "-- +goose StatementEnd without StatementBegin")
	default:
		return 0, p.errorAt(start, "unsupported goose annotation: "+strings.TrimSpace(line))
	}
	return end, nil
}

// block reads a StatementBegin … StatementEnd block, whose content is one
// statement whatever semicolons it holds (a function body, a DO block). As
// in goose, the block ends at the first StatementEnd line, even one that
// sits inside a quoted body.
func (p *parser) block(start, end int) (int, error) {
	bodyStart := min(end+1, len(p.src))
	for pos := bodyStart; pos < len(p.src); {
		lineEndPos := lineEnd(p.src, pos, len(p.src))
		line := strings.TrimSpace(p.src[pos:lineEndPos])
		if strings.HasPrefix(line, "--") && isAnnotation(line) {
			switch annotationCommand(line) {
			case gooseEnd:
				return lineEndPos, p.blockStatement(bodyStart, pos)
			case gooseBegin:
				return 0, p.errorAt(pos, "-- +goose StatementBegin inside a StatementBegin block")
			}
		}
		pos = lineEndPos + 1
	}
	return 0, p.errorAt(start, "-- +goose StatementBegin without StatementEnd")
}

// blockStatement adds the statement in src[from:to], after its leading
// blanks and comments, if there is one.
func (p *parser) blockStatement(from, to int) error {
	pos, err := p.skipGap(from, to, false)
	if err != nil || pos >= to {
		return err
	}
	return p.add(pos, scanStatement(p.src, pos, to, false))
}
