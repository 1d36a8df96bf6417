package postgres

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Only the sessions of a bascule process of this host that has ended are
// leftovers: never this process's, another live process's, nor another
// host's, whose process bascule cannot see.
func TestLeftover(t *testing.T) {
	me, ok := parseAppName(appName())
	if !ok {
		t.Fatalf("parseAppName(%q) failed", appName())
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	name := func(pid int, run, host string) string {
		return fmt.Sprintf("%spid=%d run=%s host=%s", appPrefix, pid, run, host)
	}
	cases := []struct {
		name string
		app  string
		want bool
	}{
		{"this process", appName(), false},
		{"an ended process of this host", name(dead.Process.Pid, "0badc0de", me.host), true},
		{"an earlier run with this pid", name(os.Getpid(), "0badc0de", me.host), true},
		{"a live process of this host", name(os.Getppid(), "0badc0de", me.host), false},
		{"another host", name(dead.Process.Pid, "0badc0de", me.host+"-other"), false},
		{"the old name", "bascule migrate", false},
		{"another app", "psql", false},
	}
	for _, c := range cases {
		if got := leftover(c.app); got != c.want {
			t.Errorf("%s: leftover(%q) = %v, want %v", c.name, c.app, got, c.want)
		}
	}
	if n := len(appName()); n > 63 {
		t.Errorf("appName() is %d bytes; PostgreSQL keeps 63", n)
	}
}
