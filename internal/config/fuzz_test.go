package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input crashes the loader, that every error
// points into the file (or is a whole-file error) and names it, and that
// whatever loads also passes Validate.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "- a", "a: [", cmdOK, cmdOK + "x-a: &a {interval: 1s}\nhealth_check: {<<: *a}\n",
		"a: &a [*a]\n", "health_check: &h {<<: *h}\n", "runtime: {process: {env: {<<: [*x, *y]}}}\n",
		"? [a]\n: b\n", "!!map {}\n", "---\n---\n", "app: a\n---\n", "app: |\n  x\n",
		cmdOK + "notify:\n  - url: https://h.example/a\n    secret_env: T\n    events: [flag]\n  - url_env: T\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse("f.yaml", data, env(map[string]string{"T": "t"}))
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("parse(%q) succeeded but Validate() = %v", data, verr)
			}
			return
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("parse(%q) = %v (%T), want non-empty Errors", data, err, err)
		}
		// go-yaml also breaks lines at a lone "\r".
		lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
		for _, e := range errs {
			if e.File != "f.yaml" || e.Line < 0 || e.Line > lines || e.Msg == "" {
				t.Errorf("parse(%q): error %+v has no usable position in a %d-line file", data, e, lines)
			}
		}
	})
}
