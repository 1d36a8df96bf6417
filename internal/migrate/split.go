package migrate

import "strings"

// This file is a small SQL lexer, just enough to split a migration file into
// statements the way psql does: a semicolon ends a statement unless it is
// inside a string, a quoted identifier, a dollar-quoted body, a comment or
// parentheses. It does not need a database or cgo, so a runner can apply
// files without the linter's parser.

// comment is a comment found by the lexer; text is its content without the
// comment markers.
type comment struct {
	start, end int
	text       string
}

// scanResult is where a statement scan stopped.
type scanResult struct {
	// next is where scanning resumes.
	next int
	// last is the end of the statement's last token (after the semicolon
	// when there is one), so trailing comments stay out of the statement.
	last int
	// comments are the comments met inside the statement.
	comments []comment
}

// scanStatement scans one statement starting at a token at start, stopping
// after a top-level semicolon, before a goose annotation line, or at limit.
// When split is false semicolons do not end it: the whole range up to limit
// is one statement (a StatementBegin block).
func scanStatement(src string, start, limit int, split bool) scanResult {
	depth := 0
	r := scanResult{last: start}
	i := start
	for i < limit {
		c := src[i]
		switch {
		case c == '\'' || c == '"':
			i = skipQuoted(src, i, limit, isEscapeString(src, start, i))
			r.last = i
		case c == '$' && dollarTag(src, i, limit) != "":
			i = skipDollar(src, i, limit)
			r.last = i
		case c == '-' && i+1 < limit && src[i+1] == '-':
			if split && atLineStart(src, i) && isAnnotation(src[i:lineEnd(src, i, limit)]) {
				r.next = lineStartOf(src, i)
				return r
			}
			end := lineEnd(src, i, limit)
			r.comments = append(r.comments, comment{i, end, src[i+2 : end]})
			i = end
		case c == '/' && i+1 < limit && src[i+1] == '*':
			end := skipBlockComment(src, i, limit)
			r.comments = append(r.comments, comment{i, end, blockText(src, i, end)})
			i = end
		case isSpace(c):
			i++
		case isIdentByte(c):
			for i < limit && isIdentByte(src[i]) {
				i++
			}
			r.last = i
		default:
			i++
			r.last = i
			if c == '(' {
				depth++
			} else if c == ')' && depth > 0 {
				depth--
			} else if c == ';' && depth == 0 && split {
				r.next = i
				return r
			}
		}
	}
	r.next = limit
	return r
}

// isEscapeString reports whether the quote at i opens an E'...' string, in
// which a backslash escapes the next byte.
func isEscapeString(src string, start, i int) bool {
	if src[i] != '\'' || i == start || (src[i-1] != 'e' && src[i-1] != 'E') {
		return false
	}
	return i-1 == start || !isIdentByte(src[i-2])
}

// skipQuoted returns the position after the string or quoted identifier
// opened at i; a doubled quote stays inside. An unterminated one runs to
// limit, as in PostgreSQL, which then reports the error.
func skipQuoted(src string, i, limit int, backslash bool) int {
	q := src[i]
	for i++; i < limit; i++ {
		switch src[i] {
		case '\\':
			if backslash {
				i++
			}
		case q:
			if i+1 < limit && src[i+1] == q {
				i++
				continue
			}
			return i + 1
		}
	}
	return limit
}

// dollarTag returns the opening delimiter ("$$" or "$tag$") of a dollar
// quote starting at i, or "" when the dollar sign is something else, such as
// the parameter $1.
func dollarTag(src string, i, limit int) string {
	if i > 0 && isIdentByte(src[i-1]) {
		return ""
	}
	j := i + 1
	for j < limit && isIdentByte(src[j]) && src[j] != '$' {
		if j == i+1 && src[j] >= '0' && src[j] <= '9' {
			return ""
		}
		j++
	}
	if j < limit && src[j] == '$' {
		return src[i : j+1]
	}
	return ""
}

// skipDollar returns the position after the dollar-quoted body opened at i.
func skipDollar(src string, i, limit int) int {
	tag := dollarTag(src, i, limit)
	body := i + len(tag)
	end := strings.Index(src[body:limit], tag)
	if end < 0 {
		return limit
	}
	return body + end + len(tag)
}

// skipBlockComment returns the position after the /* */ comment at i;
// PostgreSQL's block comments nest.
func skipBlockComment(src string, i, limit int) int {
	depth := 0
	for i < limit {
		switch {
		case i+1 < limit && src[i] == '/' && src[i+1] == '*':
			depth++
			i += 2
		case i+1 < limit && src[i] == '*' && src[i+1] == '/':
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return limit
}

// blockText is the content of the block comment src[start:end], without its
// markers even when it is unterminated.
func blockText(src string, start, end int) string {
	return strings.TrimSuffix(src[start+2:end], "*/")
}

// lineEnd returns the position of the newline ending the line that holds i,
// or limit.
func lineEnd(src string, i, limit int) int {
	if j := strings.IndexByte(src[i:limit], '\n'); j >= 0 {
		return i + j
	}
	return limit
}

// lineStartOf returns the position of the first byte of the line holding i.
func lineStartOf(src string, i int) int {
	return strings.LastIndexByte(src[:i], '\n') + 1
}

// atLineStart reports whether only blanks precede i on its line.
func atLineStart(src string, i int) bool {
	return strings.TrimLeft(src[lineStartOf(src, i):i], " \t\r\f\v") == ""
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isIdentByte reports whether c can continue an identifier or a number;
// bytes of multi-byte UTF-8 characters count as letters, as in PostgreSQL.
func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
