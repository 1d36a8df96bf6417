package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
	root, ok := d.Parse(data)
	if !ok {
		return 0
	}
	c := Default()
	d.root(root, &c)
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
	root, ok := d.Parse(data)
	if !ok {
		// Not YAML, or more than one document: nothing to decode.
		return Config{}, d.Errors().Err()
	}
	d.root(root, &c)
	if d.failed[""] {
		// Not a mapping at all: checking the defaults would only add noise.
		return Config{}, d.Errors().Err()
	}
	c.DataDir = expandHome(c.DataDir)
	v := &validator{file: name, lines: d.lines, failed: d.failed, errs: d.Errors()}
	v.webhookEnv(c.Notify, lookup) // before validate, which checks the URLs read
	// Not a secret, but each instance's own where they share the file;
	// before validate too, which checks it.
	c.ControlAdvertiseURL = v.secret("control_advertise_url", c.ControlAdvertiseURL, c.ControlAdvertiseURLEnv, lookup)
	v.validate(&c)
	v.secrets(&c, lookup)
	if err := v.errs.Err(); err != nil {
		return Config{}, err
	}
	return c, nil
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
