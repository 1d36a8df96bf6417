package flagclient

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allowedModules are the only modules an application using the SDK links:
// bascule's own (only its public packages, checked below), xxhash for
// bucketing and the OpenFeature SDK.
var allowedModules = []string{
	"github.com/bascule/bascule",
	"github.com/cespare/xxhash/v2",
	"github.com/open-feature/go-sdk",
}

// The SDK must not drag bascule's server (its store, its YAML library, any
// internal package) into an application, and no internal type can appear in
// its API if it imports no internal package.
func TestDependencies(t *testing.T) {
	goCmd := goTool(t)
	out, err := exec.Command(goCmd, "list", "-deps",
		"-f", "{{if not .Standard}}{{.ImportPath}} {{with .Module}}{{.Path}}{{end}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		pkg, mod, _ := strings.Cut(line, " ")
		switch {
		case !slices.Contains(allowedModules, mod):
			t.Errorf("flagclient depends on %s (module %q); want only the standard library, %s", pkg, mod, strings.Join(allowedModules, ", "))
		case mod == "github.com/bascule/bascule" && !slices.Contains(ownPackages, pkg):
			t.Errorf("flagclient depends on bascule's %s; want only %s", pkg, strings.Join(ownPackages, ", "))
		}
	}
	// internal/sse is there so that one reader parses every stream bascule
	// serves; it never shows in the SDK's API, which names no internal type.
	doc, err := exec.Command(goCmd, "doc", "-all", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go doc: %v\n%s", err, doc)
	}
	if strings.Contains(string(doc), "sse.") || strings.Contains(string(doc), "internal/") {
		t.Errorf("flagclient's API names an internal package:\n%s", doc)
	}
}

// ownPackages are the packages of bascule's module the SDK may link: its
// public ones, and the event-stream reader, which uses the standard
// library only.
var ownPackages = []string{
	"github.com/bascule/bascule/feature",
	"github.com/bascule/bascule/flagclient",
	"github.com/bascule/bascule/internal/sse",
}

// The examples are copied into a module of their own, which requires
// bascule through a replace directive pointing at this checkout, then built
// and run there: they compile only if everything they use is public, as an
// application's code would.
func TestExamplesFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module")
	}
	goCmd := goTool(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/flagapp\n\ngo 1.26.0\n\n" +
		"require github.com/bascule/bascule v0.0.0\n\n" +
		"replace github.com/bascule/bascule => " + root + "\n"
	writeFile(t, filepath.Join(dir, "go.mod"), []byte(gomod))
	// bascule's go.sum holds the hashes of every module it requires, so
	// nothing needs the checksum database.
	writeFile(t, filepath.Join(dir, "go.sum"), readFile(t, filepath.Join(root, "go.sum")))
	writeFile(t, filepath.Join(dir, "example_test.go"), readFile(t, "example_test.go"))

	// -vet=off: vet would look for the Client the example names refer to in
	// this package; the point here is compiling and running them.
	cmd := exec.Command(goCmd, "test", "-count=1", "-vet=off", "-run", "^Example", "-v", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test in a separate module: %v\n%s", err, out)
	}
	for _, name := range []string{"Example", "ExampleClient_BoolDetail", "ExampleClient_OnChange", "ExampleNewProvider"} {
		if !strings.Contains(string(out), "--- PASS: "+name+" ") {
			t.Errorf("%s did not pass in the separate module:\n%s", name, out)
		}
	}
}

// goTool returns the go command, which CI must have.
func goTool(t *testing.T) string {
	t.Helper()
	name, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no go command on PATH: %v", err)
		}
		t.Skip("no go command on PATH")
	}
	return name
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
