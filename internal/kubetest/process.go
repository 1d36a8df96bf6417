package kubetest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/bascule/bascule/internal/testproc"
)

// process is one program of the control plane, or a container's, started
// by this test binary, with the file its output goes to.
type process struct {
	*testproc.Process
	log string
}

// startProcess starts path in its own process group, its output appended to
// logPath, with SIGKILL as its parent-death signal so that it goes away even
// if the test binary panics, times out or is killed.
func startProcess(name, path, logPath string, args ...string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A small, predictable environment: no KUBECONFIG or ETCD* of the
	// developer's leaks in.
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
	p, err := testproc.Start(name, cmd, syscall.SIGKILL)
	if err != nil {
		return nil, err
	}
	return &process{Process: p, log: logPath}, nil
}

// logTail returns the end of the program's log, for error messages.
func (p *process) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
