package migrate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bounds on what a user's migration command may write into the deployment
// record: its whole output goes to the log, but a chatty tool must not
// bloat the record.
const (
	commandProgressLines = 40
	commandErrorLines    = 20
)

// Command is one run of a user's migration command (migrate.expand_command,
// contract_command or compat_command).
type Command struct {
	Argv []string
	// Version is the release whose tool runs; Dir is where that release
	// is unpacked here.
	Version, Dir string
	// DatabaseURL is the database the command works on: production, or a
	// shadow copy. It carries a password: never log it.
	DatabaseURL string
	// Label names the run in progress lines and errors, such as
	// "expand_command" or "expand_command on the shadow".
	Label string
}

// CommandRunner runs users' migration commands elsewhere than in
// bascule's own process: the kubernetes runtime driver runs each as a Job
// of the release's image, where the tool is. RunCommand sends the
// command's output lines to progress, prefixed with c.Label, returns a
// short note on where it ran for the deployment record ("" for none), and
// an error carrying the last output lines when the command fails. The
// command is stopped if ctx ends.
type CommandRunner interface {
	RunCommand(ctx context.Context, c Command, progress func(string)) (string, error)
}

// run runs c through Options.Commands, or here from the release directory.
func (m *Migrator) run(ctx context.Context, c Command, progress func(string)) (string, error) {
	if m.opts.Commands != nil {
		return m.opts.Commands.RunCommand(ctx, c, progress)
	}
	return "", runCommand(ctx, c.Argv, c.Dir, c.DatabaseURL, c.Label, progress)
}

// runCommand runs a user's migration command (migrate.expand_command or
// contract_command) from the release directory dir with DATABASE_URL set
// to url: production, or a shadow database when rehearsing. Its output
// lines go to progress, prefixed with label; a failure carries the last of
// them. The command and anything it started are killed if ctx ends.
func runCommand(ctx context.Context, argv []string, dir, url, label string, progress func(string)) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(withoutVar(os.Environ(), "DATABASE_URL"), "DATABASE_URL="+url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	out := &tail{max: commandErrorLines}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		out.read(pr, label, progress)
	}()
	err := cmd.Run()
	pw.Close()
	wg.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s %q failed: %w\n%s", label, strings.Join(argv, " "), err, strings.Join(out.lines, "\n"))
	}
	return nil
}

// tail keeps the last max lines read and forwards the first
// commandProgressLines of them to progress.
type tail struct {
	max   int
	lines []string
}

func (t *tail) read(r io.Reader, label string, progress func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		n++
		if n <= commandProgressLines {
			progress(label + ": " + line)
		}
		t.lines = append(t.lines, line)
		if len(t.lines) > t.max {
			t.lines = t.lines[1:]
		}
	}
	if n > commandProgressLines {
		progress(fmt.Sprintf("%s: … %d more lines", label, n-commandProgressLines))
	}
	// Drain what a too-long line left, so the command never blocks on a
	// full pipe.
	io.Copy(io.Discard, r)
}

func withoutVar(env []string, name string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
