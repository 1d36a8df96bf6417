package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Load reads the config file at path, applies defaults, validates it and
// resolves token_env and url_env from the environment.
//
// A file that cannot be read gives an error wrapping the os error (so
// errors.Is(err, fs.ErrNotExist) works); a file with problems gives
// Errors listing all of them.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, &missingError{path: path, err: err}
	}
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	return Parse(path, data)
}

// missingError is a config file that does not exist: it says where to
// start instead, and still wraps the os error.
type missingError struct {
	path string
	err  error
}

func (e *missingError) Error() string {
	return fmt.Sprintf("%s does not exist: copy the annotated examples/bascule.yaml (every key, with its default) "+
		"and edit it, or try bascule first with 'bascule demo'", e.path)
}

func (e *missingError) Unwrap() error { return e.err }

// KeyLine returns the line of key, a dotted path such as "listen", in the
// config file at path; 0 when the file does not set it or cannot be read.
// It places problems found after loading, such as an address in use.
func KeyLine(path, key string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	d := newDecoder(path)
	body, ok := d.document(data)
	if !ok || body == nil {
		return 0
	}
	d.collectAnchors(body)
	c := Default()
	d.root(d.resolve(body), &c)
	return d.lines[key]
}

// Parse is Load from bytes; name is used in error messages and as
// Config.Path. On error the returned Config is the zero value and the error
// is Errors.
func Parse(name string, data []byte) (Config, error) {
	return parse(name, data, os.LookupEnv)
}

// lookupFunc reads an environment variable; os.LookupEnv outside tests.
type lookupFunc func(string) (string, bool)

func parse(name string, data []byte, lookup lookupFunc) (Config, error) {
	c := Default()
	c.Path = name
	d := newDecoder(name)
	body, ok := d.document(data)
	if !ok {
		return Config{}, d.errs.asError()
	}
	if body != nil {
		d.collectAnchors(body)
		d.root(d.resolve(body), &c)
	}
	if d.failed[""] {
		// Not a mapping at all: checking the defaults would only add noise.
		return Config{}, d.errs.asError()
	}
	c.DataDir = expandHome(c.DataDir)
	v := &validator{file: name, lines: d.lines, failed: d.failed, errs: d.errs}
	v.webhookEnv(c.Notify, lookup) // before validate, which checks the URLs read
	v.validate(&c)
	v.secrets(&c, lookup)
	if err := v.errs.asError(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// document parses data and returns the body of its only document; nil for
// an empty file, which then means "all defaults".
func (d *decoder) document(data []byte) (body ast.Node, ok bool) {
	// The parser is third-party code fed operator input; a panic in it must
	// become a config error, not crash bascule at start-up.
	defer func() {
		if r := recover(); r != nil {
			d.errorf(0, "parse yaml: %v", r)
			body, ok = nil, false
		}
	}()
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		d.parseError(err, data)
		return nil, false
	}
	if len(f.Docs) == 0 {
		return nil, true
	}
	for _, doc := range f.Docs[1:] {
		d.errorf(nodeLine(doc), "a config file holds one YAML document; remove this one or the \"---\" before it")
	}
	return f.Docs[0].Body, len(f.Docs) == 1
}

var goccyPos = regexp.MustCompile(`at \[(\d+):\d+\]`)

// parseError turns a go-yaml error into "file:line: msg", rewriting its
// "[line:col]" references into words.
func (d *decoder) parseError(err error, data []byte) {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		d.errorf(0, "parse yaml: %v", err)
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
	// line or more later; the operator needs the line that opened it.
	for _, b := range [...]struct{ open, close byte }{{'[', ']'}, {'{', '}'}} {
		if strings.HasPrefix(msg, "',' or '"+string(b.close)+"' must be specified") && line > 0 {
			if open := unclosedOn(data, line, b.open, b.close); open > 0 && open < line {
				d.errorf(open, "invalid YAML: the %c opened on this line is not closed (',' or '%c' expected by line %d)",
					b.open, b.close, line)
				return
			}
		}
	}
	d.errorf(line, "invalid YAML: %s", msg)
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

// secrets resolves preview.token_env, database.url_env and store.url_env.
// It is part of loading, not of Validate, because after it both the value
// and the variable's name are set.
func (v *validator) secrets(c *Config, lookup lookupFunc) {
	c.Preview.Token = v.secret("preview.token", c.Preview.Token, c.Preview.TokenEnv, lookup)
	c.Database.URL = v.secret("database.url", c.Database.URL, c.Database.URLEnv, lookup)
	c.Store.URL = v.secret("store.url", c.Store.URL, c.Store.URLEnv, lookup)
}

// secret returns the literal value of path, or the value of the variable
// named by path+"_env"; it reports setting both, and a variable that is
// unset or empty.
func (v *validator) secret(path, literal, envName string, lookup lookupFunc) string {
	envPath := path + "_env"
	if envName == "" {
		return literal
	}
	if literal != "" {
		v.errorf(envPath, "set %s or %s, not both", lastKey(path), lastKey(envPath))
		return literal
	}
	if !isEnvName(envName) {
		v.errorf(envPath, "%q is not an environment variable name", envName)
		return ""
	}
	val, ok := lookup(envName)
	switch {
	case !ok:
		v.errorf(envPath, "environment variable %s is not set", envName)
	case val == "":
		v.errorf(envPath, "environment variable %s is empty", envName)
	}
	return val
}

func lastKey(path string) string {
	return path[strings.LastIndexByte(path, '.')+1:]
}

// expandHome expands a leading "~/", which operators write out of habit
// and which no shell expands inside a YAML file.
func expandHome(dir string) string {
	if dir != "~" && !strings.HasPrefix(dir, "~/") {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return dir
	}
	return filepath.Join(home, dir[1:])
}
