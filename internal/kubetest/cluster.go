package kubetest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bascule/bascule/internal/testreport"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Controllers are the kube-controller-manager controllers the cluster runs:
// those a Deployment needs to become pods and its pods to become endpoints,
// the one that gives each namespace its default service account (pods are
// refused until it exists), the Job controller (a Job's pods, its
// completion or failure), and the garbage collector, which removes what a
// deleted object owned (a Job's pods, a Deployment's ReplicaSets) as in
// any real cluster.
var Controllers = []string{
	"serviceaccount-controller",
	"deployment-controller",
	"replicaset-controller",
	"endpointslice-controller",
	"job-controller",
	"garbage-collector-controller",
}

const (
	// startTimeout bounds Launch: the API server's start is the slow part,
	// several seconds on two cores busy with other test binaries.
	startTimeout = 2 * time.Minute
	// stopGrace is how long each program may take to exit after SIGTERM.
	stopGrace = 10 * time.Second
	// portAttempts is how many free ports are tried: another process may
	// take the port between our probe and the program's bind.
	portAttempts = 3
	// ServiceCIDR is the range cluster IPs of Services are allocated from.
	ServiceCIDR = "10.96.0.0/16"
)

// Cluster is a control plane started by this process: etcd,
// kube-apiserver and kube-controller-manager, listening on 127.0.0.1 only.
type Cluster struct {
	dir        string // the temporary directory of data, certificates, logs; removed by Stop
	certs      *certificates
	files      certFiles
	etcdURL    string
	host       string // the API server's URL
	kubeconfig string

	etcd, apiserver, manager *process

	stopOnce sync.Once
	stopErr  error
}

// Launch starts a control plane in a new temporary directory. It returns an
// error wrapping ErrNotInstalled if the binaries are not in the cache that
// scripts/kube-testenv.sh fills. The caller must call Stop.
func Launch(ctx context.Context) (*Cluster, error) {
	if testreport.Without("kubernetes") {
		return nil, fmt.Errorf("%s=kubernetes: %w", testreport.WithoutEnv, ErrNotInstalled)
	}
	bins, err := findBinaries(assetsDir(os.Getenv))
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	if err := c.launch(ctx, bins); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

func (c *Cluster) launch(ctx context.Context, bins binaries) error {
	var err error
	if c.dir, err = makeDir(); err != nil {
		return err
	}
	if c.certs, err = newCertificates(); err != nil {
		return err
	}
	if c.files, err = c.certs.write(c.dir); err != nil {
		return err
	}
	if err := retryPort(func() error { return c.startEtcd(ctx, bins.etcd) }); err != nil {
		return err
	}
	if err := retryPort(func() error { return c.startAPIServer(ctx, bins.apiserver) }); err != nil {
		return err
	}
	c.kubeconfig = filepath.Join(c.dir, "admin.kubeconfig")
	if err := c.writeKubeconfig(c.kubeconfig, "kubetest-admin", c.certs.admin); err != nil {
		return err
	}
	return retryPort(func() error { return c.startControllerManager(ctx, bins.controllerManager) })
}

// errPortTaken means a program lost the race for its port.
var errPortTaken = errors.New("port taken")

func retryPort(start func() error) error {
	var err error
	for range portAttempts {
		if err = start(); !errors.Is(err, errPortTaken) {
			return err
		}
	}
	return err
}

func (c *Cluster) startEtcd(ctx context.Context, path string) error {
	client, err := freePort()
	if err != nil {
		return err
	}
	peer, err := freePort()
	if err != nil {
		return err
	}
	c.etcdURL = "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	p, err := startProcess("etcd", path, filepath.Join(c.dir, "etcd.log"),
		"--name=kubetest", "--data-dir="+filepath.Join(c.dir, "etcd"),
		"--listen-client-urls="+c.etcdURL, "--advertise-client-urls="+c.etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL, "--initial-cluster-state=new",
		"--quota-backend-bytes=1073741824")
	if err != nil {
		return err
	}
	c.etcd = p
	health := c.etcdURL + "/health"
	return waitReady(ctx, p, func(ctx context.Context) error { return httpOK(ctx, http.DefaultClient, health) })
}

func (c *Cluster) startAPIServer(ctx context.Context, path string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.host = "https://127.0.0.1:" + strconv.Itoa(port)
	p, err := startProcess("kube-apiserver", path, filepath.Join(c.dir, "kube-apiserver.log"),
		"--etcd-servers="+c.etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		// The reconciler of the "kubernetes" Service's endpoints refuses a
		// loopback address, and nothing here reaches the API server through
		// that Service: the tests and bascule use the kubeconfig.
		"--endpoint-reconciler-type=none",
		"--cert-dir="+filepath.Join(c.dir, "apiserver-certs"),
		"--tls-cert-file="+c.files.servingCert, "--tls-private-key-file="+c.files.servingKey,
		"--client-ca-file="+c.files.ca,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+c.files.saKey, "--service-account-signing-key-file="+c.files.saKey,
		"--service-cluster-ip-range="+ServiceCIDR,
		"--authorization-mode=RBAC",
		// pods/log: the API server fetches a pod's log from its node's
		// kubelet, at the node's InternalIP (the Hostname address, tried
		// first by default, names no host here), over TLS both ways.
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-certificate-authority="+c.files.ca,
		"--kubelet-client-certificate="+c.files.kubeletCert, "--kubelet-client-key="+c.files.kubeletKey,
		"--allow-privileged=true",
		"--profiling=false")
	if err != nil {
		return err
	}
	c.apiserver = p
	client, err := kubernetes.NewForConfig(c.Config())
	if err != nil {
		return fmt.Errorf("kube-apiserver client: %w", err)
	}
	return waitReady(ctx, p, func(ctx context.Context) error {
		return client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error()
	})
}

func (c *Cluster) startControllerManager(ctx context.Context, path string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(c.dir, "controller-manager.kubeconfig")
	if err := c.writeKubeconfig(kubeconfig, "system:kube-controller-manager", c.certs.manager); err != nil {
		return err
	}
	p, err := startProcess("kube-controller-manager", path, filepath.Join(c.dir, "kube-controller-manager.log"),
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig, "--authorization-kubeconfig="+kubeconfig,
		"--controllers="+strings.Join(Controllers, ","),
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--tls-cert-file="+c.files.servingCert, "--tls-private-key-file="+c.files.servingKey,
		"--profiling=false")
	if err != nil {
		return err
	}
	c.manager = p
	pool := x509.NewCertPool()
	pool.AddCert(c.certs.ca.parsed)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	healthz := "https://127.0.0.1:" + strconv.Itoa(port) + "/healthz"
	return waitReady(ctx, p, func(ctx context.Context) error { return httpOK(ctx, hc, healthz) })
}

// waitReady polls ready until it succeeds, the program exits, or ctx ends.
func waitReady(ctx context.Context, p *process, ready func(context.Context) error) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := ready(attempt)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.Done():
			log := p.logTail()
			if strings.Contains(log, "address already in use") {
				return fmt.Errorf("start %s: %w", p.Name(), errPortTaken)
			}
			return fmt.Errorf("start %s: exited (%v):\n%s", p.Name(), p.Err(), log)
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last: %v)\n%s", p.Name(), ctx.Err(), err, p.logTail())
		case <-tick.C:
		}
	}
}

func httpOK(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeKubeconfig writes a kubeconfig for user, authenticated by pair.
func (c *Cluster) writeKubeconfig(path, user string, pair keyPair) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubetest"] = &clientcmdapi.Cluster{Server: c.host, CertificateAuthorityData: c.certs.ca.cert}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: pair.cert, ClientKeyData: pair.key}
	cfg.Contexts["kubetest"] = &clientcmdapi.Context{Cluster: "kubetest", AuthInfo: user}
	cfg.CurrentContext = "kubetest"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Config returns a client configuration for the cluster's administrator
// (group system:masters). Each call returns a new copy to change at will.
// Its rate limit is far above client-go's default of 5 requests a second,
// which would make tests slow, not more real.
func (c *Cluster) Config() *rest.Config {
	return &rest.Config{
		Host: c.host,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   c.certs.ca.cert,
			CertData: c.certs.admin.cert,
			KeyData:  c.certs.admin.key,
		},
		QPS:   500,
		Burst: 1000,
	}
}

// Kubeconfig is the path of a kubeconfig file for the administrator, with
// the certificates inline; it lives as long as the cluster.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// Dir is the cluster's temporary directory, where each program's log is
// (etcd.log, kube-apiserver.log, kube-controller-manager.log).
func (c *Cluster) Dir() string { return c.dir }

// Stop stops the programs, newest first, each by its PID (SIGTERM, then
// SIGKILL of its process group after ten seconds), and removes the
// temporary directory. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var errs []error
		for _, p := range []*process{c.manager, c.apiserver, c.etcd} {
			if p != nil {
				errs = append(errs, p.Stop(syscall.SIGTERM, stopGrace))
			}
		}
		if c.dir != "" {
			if err := os.RemoveAll(c.dir); err != nil {
				errs = append(errs, fmt.Errorf("remove kubetest directory: %w", err))
			}
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}
