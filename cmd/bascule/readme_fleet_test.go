package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bascule/bascule/internal/testreport"
)

// TestReadmeFleetExample runs examples/fleet/run.sh, the README's "More
// than one machine" example (PostgreSQL, two control-plane instances, two
// routers, two instances per color, the leader killed), with the real
// binary, and compares what it prints with the README's block marked
// <!-- readme: fleet-example -->, masked as TestReadme masks.
func TestReadmeFleetExample(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and six bascule processes: not with -short")
	}
	if !havePostgres() {
		if testreport.Mandatory(os.Getenv) {
			t.Fatal("the fleet example needs PostgreSQL's initdb and pg_ctl, which are not installed")
		}
		t.Skip("SKIPPED: the fleet example needs PostgreSQL's initdb and pg_ctl, which are not installed")
	}
	blocks, err := readmeBlocks("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var block *readmeBlock
	for i, b := range blocks {
		if b.mark == "fleet-example" {
			block = &blocks[i]
		}
	}
	if block == nil {
		t.Fatal("README.md has no <!-- readme: fleet-example --> block")
	}
	command, want, _ := strings.Cut(block.body, "\n")
	if command != "$ examples/fleet/run.sh" {
		t.Fatalf("README.md:%d: the fleet example's block starts with %q, want \"$ examples/fleet/run.sh\"", block.line, command)
	}

	bin := t.TempDir()
	self, _ := os.Executable()
	if err := os.Symlink(self, filepath.Join(bin, "bascule")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("../../examples/fleet/run.sh")
	cmd.Env = []string{"BASCULE_E2E_EXEC=1", "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"TMPDIR=/tmp", "PORT_BASE=" + strconv.Itoa(freePortBase(t))}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("examples/fleet/run.sh: %v; it printed:\n%s", err, out)
	}
	host, _ := os.Hostname()
	got := strings.ReplaceAll(string(out), host, "myhost")
	if diff := compareOutput(want, got); diff != "" {
		t.Errorf("README.md:%d: examples/fleet/run.sh prints other than the README shows:\n%s", block.line, diff)
	}
}

// havePostgres reports whether initdb is on the PATH or where Debian's
// packages put it, as the example looks for it.
func havePostgres() bool {
	if _, err := exec.LookPath("initdb"); err == nil {
		return true
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	return len(found) > 0
}

// freePortBase returns a base below the ephemeral range whose 99 ports
// above it are free now.
func freePortBase(t *testing.T) int {
	for base := 24000; base < 32000; base += 100 {
		free := true
		for p := base + 1; p < base+100 && free; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				continue
			}
			ln.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free block of 100 ports between 24000 and 32000")
	return 0
}
