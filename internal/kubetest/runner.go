package kubetest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/bascule/bascule/internal/netnstest"
	"github.com/bascule/bascule/internal/testproc"
)

// Image is what a PodRunner runs for a container image: a program of this
// machine, since there is no container runtime here to unpack the image.
// The image's filesystem is this machine's.
type Image struct {
	// Entrypoint is the image's ENTRYPOINT; its first element is the path
	// of a program on this machine. A container's command replaces it.
	Entrypoint []string
	// Cmd is the image's CMD: the arguments when the container has none.
	Cmd []string
	// Env is the image's environment, before the container's own.
	Env []string
	// Dir is the working directory; "" means a temporary directory of
	// the runner.
	Dir string
}

// PodRunnerOptions configure NewPodRunner.
type PodRunnerOptions struct {
	// Network gives each pod a network namespace of its own with an
	// address of the network (EndpointSlices refuse loopback addresses);
	// required.
	Network *netnstest.Network
	// Images maps an image reference, exactly as a container names it
	// (REPOSITORY@sha256:…), to the program that stands for it. A pod of
	// an image not listed waits in ErrImagePull, as on a real node.
	Images map[string]Image
	// RestartBackoff is the wait before the first restart of a container
	// that exited; it doubles at each restart up to eight times itself.
	// Zero means one second (a kubelet starts at ten: tests need not wait
	// that long for a crash loop).
	RestartBackoff time.Duration
}

// PodRunner is the test's stand-in for a kubelet's container runtime and
// prober — NOT a kubelet, and not a container runtime: no image is pulled,
// no cgroup or filesystem isolation is made. Its Run (a RunFunc) gives each
// pod a network namespace with the pod's own IP address (internal/netnstest)
// and runs the pod's one container there as a process of this machine (the
// program Options.Images maps its image to), with the container's command,
// arguments and environment; it reports the pod Ready while the container's
// readiness probe (an HTTP GET of the pod's address) passes, the container
// exited (exit code, restart count, CrashLoopBackOff) when the process
// dies, restarts it or ends the pod as its restartPolicy says (so that the
// real Job controller sees its pods succeed or fail), and stops the process
// when the pod is deleted: SIGTERM, then SIGKILL after the pod's
// terminationGracePeriodSeconds. What the container writes (stdout and
// stderr) is kept, for ContainerLog: given to KubeletOptions.Logs, the
// API server's pods/log reads it.
//
// What it leaves out: liveness and startup probes, init and sidecar
// containers, pods of more than one container (they fail at once), $(VAR)
// references in commands, volumes, resource limits, and the previous
// container's log (one log per container, across restarts).
type PodRunner struct {
	opts PodRunnerOptions
	dir  string // logs, and the working directory of images without one
	logf func(string, ...any)

	mu   sync.Mutex
	pods map[string]*podProcess // by namespace/name
}

// podProcess is the running process of a pod's container, for Signal.
type podProcess struct {
	mu   sync.Mutex
	proc *process // nil between two runs
}

// NewPodRunner returns a runner whose pods live until they are deleted or
// the kubelet stops; their namespaces go with opts.Network, in t.Cleanup.
func NewPodRunner(t testing.TB, opts PodRunnerOptions) *PodRunner {
	t.Helper()
	if opts.Network == nil {
		t.Fatal("kubetest: NewPodRunner needs a network (netnstest.New)")
	}
	if opts.RestartBackoff <= 0 {
		opts.RestartBackoff = time.Second
	}
	return &PodRunner{opts: opts, dir: t.TempDir(), logf: t.Logf, pods: map[string]*podProcess{}}
}

// Run runs pod; see PodRunner. It is a RunFunc.
func (r *PodRunner) Run(ctx context.Context, pod *Pod) {
	st := &statusWriter{pod: pod, logf: r.logf}
	if len(pod.Spec.Containers) != 1 || len(pod.Spec.InitContainers) > 0 {
		st.fail(ctx, "Unsupported", "kubetest's pod runner runs pods of exactly one container and no init container")
		return
	}
	c := pod.Spec.Containers[0]
	// Like a kubelet, try again while the container cannot be made (a
	// Secret it needs may come later).
	cmd, why := r.command(ctx, pod, c)
	for last := ""; why != nil; cmd, why = r.command(ctx, pod, c) {
		if why.msg != last {
			st.wait(ctx, why.reason, why.msg)
			last = why.msg
		}
		if !sleep(ctx, r.opts.RestartBackoff) {
			return
		}
	}
	host := r.opts.Network.AddHost()
	pp := r.track(pod)
	defer r.untrack(pod)
	backoff := r.opts.RestartBackoff
	for {
		code, stopped := r.runOnce(ctx, pod, c, cmd, host, st, pp)
		if stopped {
			return
		}
		always := pod.Spec.RestartPolicy == corev1.RestartPolicyAlways || pod.Spec.RestartPolicy == ""
		if !always && (code == 0 || pod.Spec.RestartPolicy == corev1.RestartPolicyNever) {
			st.finish(ctx, code)
			return
		}
		st.crashLoop(ctx, backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 8*r.opts.RestartBackoff)
	}
}

// runOnce runs the container once, from start to exit. stopped means the
// pod was deleted (or the kubelet stopped) and the process was stopped.
func (r *PodRunner) runOnce(ctx context.Context, pod *Pod, c corev1.Container, cmd containerCommand, host *netnstest.Host,
	st *statusWriter, pp *podProcess) (code int32, stopped bool) {
	p, err := r.start(pod, c, cmd, host)
	if err != nil {
		st.wait(ctx, "RunContainerError", err.Error())
		return 128, false
	}
	pp.set(p)
	defer pp.set(nil)
	st.running(ctx, host.Addr, c.ReadinessProbe == nil)
	pctx, stopProbe := context.WithCancel(ctx)
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		if c.ReadinessProbe != nil {
			probe(pctx, host.Addr, c, func(ok bool) { st.setReady(pctx, ok) })
		}
	}()
	select {
	case <-p.Done():
	case <-ctx.Done():
		stopProbe()
		<-probeDone
		r.terminate(pod, p)
		return 0, true
	}
	stopProbe()
	<-probeDone
	code = exitCode(p)
	st.exited(ctx, code)
	return code, false
}

// terminate stops p as a kubelet stops a container: SIGTERM, then SIGKILL
// of its process group after the pod's grace period (its deletion's, or
// its spec's).
func (r *PodRunner) terminate(pod *Pod, p *process) {
	if err := p.Stop(syscall.SIGTERM, pod.GracePeriod()); err != nil {
		r.logf("kubelet: pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

// exitCode is the container's exit code as a kubelet reports it: the
// process's, or 128 plus the signal that killed it.
func exitCode(p *process) int32 {
	ps := p.ProcessState()
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(ps.ExitCode())
}

// start starts the container's process in host's namespace, its output
// appended to the container's log.
func (r *PodRunner) start(pod *Pod, c corev1.Container, cmd containerCommand, host *netnstest.Host) (*process, error) {
	logPath := r.logPath(pod.Namespace, pod.Name, c.Name)
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	defer f.Close() // the child holds its own descriptor
	ec := host.Command(context.Background(), cmd.argv[0], cmd.argv[1:]...)
	ec.Env, ec.Dir = cmd.env, cmd.dir
	ec.Stdout, ec.Stderr = f, f
	tp, err := testproc.Start(pod.Namespace+"/"+pod.Name+"/"+c.Name, ec, syscall.SIGKILL)
	if err != nil {
		return nil, err
	}
	return &process{Process: tp, log: logPath}, nil
}

func (r *PodRunner) logPath(namespace, pod, container string) string {
	return filepath.Join(r.dir, namespace+"_"+pod+"_"+container+".log")
}

// ContainerLog returns what the container of the pod wrote so far, stdout
// and stderr interleaved, across its restarts. Its error wraps
// fs.ErrNotExist when that container never ran here. It is a LogSource.
func (r *PodRunner) ContainerLog(namespace, pod, container string) ([]byte, error) {
	b, err := os.ReadFile(r.logPath(namespace, pod, container))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("container %s of pod %s/%s never ran here: %w", container, namespace, pod, err)
	}
	return b, err
}

// Signal sends sig to the running process of the pod's container — kill
// -9 of an app, as an out-of-memory kill or a crash would end it. It
// returns an error when the container runs no process at the moment.
func (r *PodRunner) Signal(namespace, pod string, sig syscall.Signal) error {
	r.mu.Lock()
	pp := r.pods[namespace+"/"+pod]
	r.mu.Unlock()
	if pp == nil {
		return fmt.Errorf("pod %s/%s does not run here", namespace, pod)
	}
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.proc == nil || pp.proc.Exited() {
		return fmt.Errorf("pod %s/%s runs no process now", namespace, pod)
	}
	return pp.proc.Signal(sig)
}

func (r *PodRunner) track(pod *Pod) *podProcess {
	pp := &podProcess{}
	r.mu.Lock()
	r.pods[pod.Namespace+"/"+pod.Name] = pp
	r.mu.Unlock()
	return pp
}

func (r *PodRunner) untrack(pod *Pod) {
	r.mu.Lock()
	delete(r.pods, pod.Namespace+"/"+pod.Name)
	r.mu.Unlock()
}

func (pp *podProcess) set(p *process) {
	pp.mu.Lock()
	pp.proc = p
	pp.mu.Unlock()
}
