// Package kubetest starts a real Kubernetes control plane for tests: etcd,
// kube-apiserver and kube-controller-manager, with no mock of the API
// server, and plays the kubelet's part, since no kubelet can run here.
//
// # The control plane
//
// The programs are children of the test binary, in a fresh temporary
// directory (in /dev/shm when there is one: etcd syncs every write), on free
// ports of 127.0.0.1. The certificates (a CA, the API server's serving
// certificate, client certificates in group system:masters) and the
// service-account signing key are made by each start; the API server
// authorizes by RBAC. kube-controller-manager runs only the controllers of
// Controllers: Deployments become ReplicaSets and pods, ready pods become
// EndpointSlices, each namespace gets its default service account — the
// real controllers of Kubernetes Version, not imitations.
//
// The binaries come from a cache outside the repository that
// scripts/kube-testenv.sh fills: $BASCULE_KUBE_ASSETS, else
// ${XDG_CACHE_HOME:-$HOME/.cache}/bascule/kube-v1.37.2. When they are
// missing, tests that need a cluster are skipped with a loud message (also
// listed at the end of `make test`), except when $CI is true: there they
// fail, because these tests are mandatory in CI. .ci/run runs the script.
//
// One cluster per test package is enough (it takes seconds to start);
// tests share it by taking a namespace each. Declare a Shared and stop it
// from TestMain:
//
//	var kube kubetest.Shared
//
//	func TestMain(m *testing.M) { os.Exit(kube.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		cluster := kube.Cluster(t)
//		client := cluster.Client(t) // or cluster.Config(), cluster.Kubeconfig()
//		...
//	}
//
// Start gives a test its own cluster, stopped in t.Cleanup.
//
// # The kubelet's part
//
// No kubelet can run here (no container runtime), and no scheduler runs, so
// a Kubelet started by Cluster.StartKubelet plays both parts for one Node:
// it registers the Node as Ready, binds the pods nobody bound to it, hands
// each bound pod to a RunFunc — the hook that stands for the container
// runtime — and, when a pod is deleted, stops that RunFunc and removes the
// pod. The RunFunc decides when a pod is Running and Ready and with which
// address (Pod.ReportRunning); ReadyPods reports every pod ready at once,
// with addresses where nothing listens.
//
// PodRunner is the RunFunc that really runs pods — still the test's
// stand-in, not a kubelet: each pod gets a network namespace of
// internal/netnstest with its own address (EndpointSlices refuse loopback
// addresses), its container runs there as a process of this machine (the
// program PodRunnerOptions.Images maps its image to) with the container's
// command, arguments and environment; the readiness probe decides Ready,
// an exit is reported with its code and restarted or ends the pod as its
// restartPolicy says (Jobs complete or fail through the real Job
// controller), and a deleted pod's process gets SIGTERM, then SIGKILL
// after its grace period. Given as KubeletOptions.Logs too, with NodeIP an
// address of the test's network (Network.AddAddr), the kubelet serves the
// containers' logs over HTTPS as a real one does, and the API server's
// pods/log works:
//
//	nw := netnstest.New(t)
//	runner := kubetest.NewPodRunner(t, kubetest.PodRunnerOptions{Network: nw,
//		Images: map[string]kubetest.Image{ref: {Entrypoint: []string{os.Args[0], "-test.run=^$"}}}})
//	cluster.StartKubelet(t, kubetest.KubeletOptions{Namespace: ns, NodeIP: nw.AddAddr(),
//		Run: runner.Run, Logs: runner})
//
// Never send traffic to a pod address outside the test's own namespaces.
//
// # Never orphaned
//
// Each program runs in its own process group with SIGKILL as its
// parent-death signal, so it goes away even if the test binary panics,
// times out or is killed. Stop stops each by its PID (SIGTERM, then SIGKILL
// of its group after ten seconds) and removes the directory; directories
// left by a test binary that died are removed by the next start.
package kubetest
