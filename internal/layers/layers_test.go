package layers_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/bascule/bascule/"

// layer ranks every package of the module, as docs/ARCHITECTURE.md lists
// them: a package may import only packages of a lower rank. A new package
// must be placed here (and in the document) before its test passes.
var layer = map[string]int{
	// Below everything: standard library only, so even the data plane may
	// use it.
	"internal/atomicfile": -1, // files a crash leaves whole: the old content or the new
	// Leaves: they import nothing of bascule. The router in particular
	// runs alone, and the public feature package never reaches inside.
	"feature":             0,
	"internal/artifact":   0,
	"internal/yamldoc":    0, // hand-written YAML: file:line errors, anchors, merge keys
	"internal/guard":      0,
	"internal/migrate":    0,
	"internal/netnstest":  1, // test support: hosts in network namespaces
	"internal/router":     0,
	"internal/runtime":    0,
	"internal/sampleapp":  0,
	"internal/sse":        0,
	"internal/store":      0,
	"internal/layers":     0,
	"deploy/kubernetes":   0, // the Kubernetes manifests, embedded for their test
	"internal/testreport": 0, // test support: how a skipped suite says so
	// Implementations of a leaf's interfaces, the public SDK, and the
	// config, read through yamldoc.
	"internal/config":             1,
	"flagclient":                  1,
	"internal/migrate/postgres":   1,
	"internal/migrate/sqlite":     1,
	"internal/runtime/process":    1,
	"internal/runtime/static":     1,
	"internal/runtime/kubernetes": 1,
	"internal/store/postgres":     1,
	"internal/store/sqlite":       1,
	"internal/store/storetest":    1,
	"internal/fleet":              1, // routers switching as one: the hub (control plane) and the agent (router)
	"internal/endpoints":          1, // a router's references to Kubernetes Services, expanded from EndpointSlices
	"internal/testproc":           1, // test support: the programs tests depend on, launched once, gone with the binary
	// The domain: who may act, flags, deployments, notifications.
	"internal/auth":   2,
	"internal/flag":   2,
	"internal/deploy": 2,
	// Test support: a real Kubernetes control plane whose pods run in
	// netnstest's namespaces.
	"internal/kubetest": 2,
	"internal/pgtest":   2, // test support: a real PostgreSQL, over testproc
	"internal/notify":   2,
	"internal/leader":   2,
	// What an HTTP answer says of the domain's errors, for both faces.
	"internal/httperr": 3,
	// Their faces: the JSON API, the web UI, the API's Go client.
	"internal/api":    4,
	"internal/web":    4,
	"internal/client": 4,
	// The composition root, then the command.
	"internal/server": 5,
	"cmd/bascule":     6,
}

// only narrows what some packages may import below their rank.
var only = map[string][]string{
	"flagclient":        {"feature", "internal/sse"}, // applications import it: the standard library's kind only
	"internal/router":   {"internal/atomicfile"},     // the data plane imports nothing of the control plane
	"feature":           {},
	"deploy/kubernetes": {},
}

func TestImportsPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(fields[0], module)
		rank, known := layer[pkg]
		if !known {
			t.Errorf("%s is in no layer: add it to docs/ARCHITECTURE.md and to this test's table", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			if allowed, narrowed := only[pkg]; narrowed && !contains(allowed, dep) {
				t.Errorf("%s imports %s; it may import only %q of bascule", pkg, dep, allowed)
			}
			if r, ok := layer[dep]; ok && r >= rank {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports point down only", pkg, rank, dep, r)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
