package pgtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// dirPrefix names the directories the harness creates, so that stale ones
// can be recognized.
const dirPrefix = "bascule-pgtest-"

// ownerFile holds the PID of the test binary that created the directory.
const ownerFile = "owner.pid"

func writeOwner(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("record postgres directory owner: %w", err)
	}
	return nil
}

// reapStale removes directories left by test binaries that died without
// stopping their server (a panic, a timeout, kill -9). A data directory is
// tens of megabytes; leaving one per crash would fill /tmp on a busy CI
// runner. A directory is removed only when both the test binary that made it
// and its postmaster are gone. Errors are ignored: reaping is best effort.
func reapStale(root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, dirPrefix+"*"))
	for _, dir := range dirs {
		owner, ok := readPID(filepath.Join(dir, ownerFile))
		if !ok || alive(owner) {
			continue
		}
		if postmaster, ok := readPID(filepath.Join(dir, "data", "postmaster.pid")); ok && alive(postmaster) {
			continue
		}
		os.RemoveAll(dir)
	}
}

// readPID reads the PID on the first line of path.
func readPID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	pid, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	return pid, err == nil && pid > 0
}

// alive reports whether a process with that PID exists and is not a
// zombie. EPERM means it exists but belongs to someone else. Zombies count as
// dead: in a container whose init does not reap, an orphaned postmaster that
// exited stays one forever.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: trust kill
	}
	// The state follows the command name, which is in parentheses and may
	// itself hold spaces or parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}
