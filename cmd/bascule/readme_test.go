package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README's tour is the binary's own output: TestReadme runs `bascule
// demo` and every command of the README's session blocks with the real
// binary, and compares what they print with what the README shows.
//
// Every ```console block, and the block that shows the demo's banner, is
// marked by the HTML comment on the line before it:
//
//	<!-- readme: demo-banner -->       the output of `bascule demo`
//	<!-- readme: session -->           run: each "$ " line is a command, the
//	                                   lines up to the next one its output
//	<!-- readme: fleet-example -->     examples/fleet/run.sh and its output,
//	                                   run by TestReadmeFleetExample
//	<!-- readme: not run (why) -->     shown, not run (a console block must
//	                                   say so: a new one is never unchecked
//	                                   by accident)
//
// Only these parts of the output may differ from the README, each masked
// on both sides before comparing (readmeMasks): addresses' ports, pids,
// durations, times, API and preview tokens, the demo's password. A "…" in
// the README stands for any text without spaces. Runs of spaces count as
// one, so columns may realign. In commands, 127.0.0.1:8080 and :8081 (the
// demo's defaults) are replaced with the addresses the test's demo got.
func TestReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo and runs the tour: not with -short")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the README's tour uses curl, which is not installed")
		}
		t.Skip("SKIPPED: the README's tour uses curl, which is not installed")
	}
	blocks, err := readmeBlocks("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var banner *readmeBlock
	var sessions []readmeBlock
	for i, b := range blocks {
		switch {
		case b.mark == "demo-banner":
			banner = &blocks[i]
		case b.mark == "session":
			sessions = append(sessions, b)
		case strings.HasPrefix(b.mark, "not run"), b.mark == "fleet-example": // TestReadmeFleetExample
		case b.lang == "console":
			t.Errorf("README.md:%d: a console block without a mark: put <!-- readme: session --> (the test runs it) "+
				"or <!-- readme: not run (why) --> on the line before it", b.line)
		}
	}
	if banner == nil || len(sessions) == 0 {
		t.Fatalf("README.md has no <!-- readme: demo-banner --> block or no <!-- readme: session --> block")
	}

	bin := t.TempDir()
	self, _ := os.Executable()
	if err := os.Symlink(self, filepath.Join(bin, "bascule")); err != nil {
		t.Fatal(err)
	}
	env := []string{"BASCULE_E2E_EXEC=1", "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "TMPDIR=/tmp"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BASCULE_") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	demo := exec.Command(filepath.Join(bin, "bascule"), "demo", "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0")
	demo.Env = env
	out := &syncBuffer{}
	demo.Stdout = out
	demo.Stderr = &syncBuffer{} // its log, not part of what the README shows
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { demo.Wait(); close(exited) }()
	t.Cleanup(func() {
		demo.Process.Signal(syscall.SIGINT) // Ctrl-C: the demo stops its apps, deletes its temp dir
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			demo.Process.Kill()
			<-exited
		}
	})
	waitFor(t, 60*time.Second, "the demo's banner", func() bool {
		select {
		case <-exited:
			t.Fatalf("bascule demo exited; it said:\n%s\n%s", out, demo.Stderr)
		default:
		}
		return strings.Contains(out.String(), "Ctrl-C stops the demo")
	})
	got := strings.TrimLeft(out.String(), "\n")
	if diff := compareOutput(banner.body, got); diff != "" {
		t.Errorf("README.md:%d: the demo's banner differs from the README's:\n%s", banner.line, diff)
	}

	// The user copies the banner's export line into the other terminal.
	exports := regexp.MustCompile(`(?m)^\s*export (.*)$`).FindStringSubmatch(got)
	if exports == nil {
		t.Fatalf("the demo's banner has no export line:\n%s", got)
	}
	env = append(env, strings.Fields(exports[1])...)
	router := match(t, `production +http://(\S+)/`, got)
	control := match(t, `control/API +http://(\S+)/`, got)
	_, routerPort, _ := strings.Cut(router, ":")
	addrs := strings.NewReplacer("127.0.0.1:8080", router, "127.0.0.1:8081", control, "localhost:8080", "localhost:"+routerPort)

	for _, s := range sessions {
		for _, c := range parseSession(s) {
			cmd := exec.Command("bash", "-c", addrs.Replace(c.command))
			cmd.Env = env
			output, err := cmd.CombinedOutput()
			if _, ok := err.(*exec.ExitError); err != nil && !ok {
				t.Fatalf("README.md:%d: run %q: %v", c.line, c.command, err)
			}
			if diff := compareOutput(c.want, string(output)); diff != "" {
				t.Errorf("README.md:%d: $ %s\nprints other than the README shows (%v):\n%s", c.line, c.command, err, diff)
			}
		}
	}
}

// readmeBlock is one fenced code block of the README.
type readmeBlock struct {
	lang, mark string
	line       int // of its first line of content
	body       string
}

var readmeMark = regexp.MustCompile(`^<!-- readme: (.*?) -->$`)

func readmeBlocks(path string) ([]readmeBlock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var blocks []readmeBlock
	var cur *readmeBlock
	var prev string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &readmeBlock{lang: strings.TrimPrefix(line, "```"), line: n + 1}
			if m := readmeMark.FindStringSubmatch(strings.TrimSpace(prev)); m != nil {
				cur.mark = m[1]
			}
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.body += line + "\n"
		}
		prev = line
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: a code block is never closed", path, cur.line-1)
	}
	return blocks, sc.Err()
}

// sessionCommand is a "$ " line of a session block and the output shown
// after it.
type sessionCommand struct {
	command, want string
	line          int
}

func parseSession(b readmeBlock) []sessionCommand {
	var cmds []sessionCommand
	for i, line := range strings.Split(strings.TrimSuffix(b.body, "\n"), "\n") {
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			cmds = append(cmds, sessionCommand{command: cmd, line: b.line + i})
			continue
		}
		if len(cmds) > 0 {
			cmds[len(cmds)-1].want += line + "\n"
		}
	}
	return cmds
}

// readmeMasks are the parts of the output that may differ from run to run,
// each replaced with a placeholder in the README's text and the binary's
// output alike.
var readmeMasks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b(127\.0\.0\.1|localhost):\d+`), "$1:PORT"},
	{regexp.MustCompile(`\bpid \d+`), "pid PID"},
	{regexp.MustCompile(`\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b`), "TIME"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|ms|s)\b`), "DURATION"},
	{regexp.MustCompile(`\bbsc_[A-Za-z0-9_-]{20,}`), "bsc_TOKEN"},
	{regexp.MustCompile(`\b[0-9a-f]{32}\b`), "PREVIEW_TOKEN"},
	{regexp.MustCompile(`(admin / )[A-Za-z0-9_-]{16,}`), "${1}PASSWORD"},
}

func maskOutput(s string) []string {
	for _, m := range readmeMasks {
		s = m.re.ReplaceAllString(s, m.with)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return lines
}

// compareOutput returns "" when got is what the README shows (want),
// else both, masked, with the first differing line marked.
func compareOutput(want, got string) string {
	w, g := maskOutput(want), maskOutput(got)
	first := -1
	for i := 0; i < max(len(w), len(g)); i++ {
		if i >= len(w) || i >= len(g) || !wildcardMatch(w[i], g[i]) {
			first = i
			break
		}
	}
	if first < 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d of the output\n--- README (masked)\n", first+1)
	for i, l := range w {
		fmt.Fprintf(&b, "%s %s\n", marker(i == first), l)
	}
	b.WriteString("--- binary (masked)\n")
	for i, l := range g {
		fmt.Fprintf(&b, "%s %s\n", marker(i == first), l)
	}
	return b.String()
}

func marker(here bool) string {
	if here {
		return ">"
	}
	return " "
}

// wildcardMatch matches a README line, where "…" stands for any text
// without spaces, against a line of output.
func wildcardMatch(want, got string) bool {
	if !strings.Contains(want, "…") {
		return want == got
	}
	parts := strings.Split(want, "…")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `\S*`) + `$`).MatchString(got)
}
