package manifests_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/restmapper"

	manifests "github.com/bascule/bascule/deploy/kubernetes"
	"github.com/bascule/bascule/internal/config"
	"github.com/bascule/bascule/internal/kubetest"
	"github.com/bascule/bascule/internal/router"
)

var kube kubetest.Shared

func TestMain(m *testing.M) { os.Exit(kube.Run(m)) }

// namespace is the one the manifests are written for.
const namespace = "shop"

// doc is one YAML document of a manifest file.
type doc struct {
	file string
	raw  []byte
	obj  runtime.Object // typed, as client-go's scheme decodes it
}

func (d doc) String() string {
	m := d.obj.(metav1.Object)
	return fmt.Sprintf("%s: %T %s", d.file, d.obj, m.GetName())
}

// strict decodes a manifest refusing unknown and duplicate fields: a typo
// in a field name must fail, not be dropped.
var strict = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// load reads every document of every manifest, each decoded into its
// typed object: a kind or field the API does not know fails here.
func load(t *testing.T) []doc {
	t.Helper()
	files, err := fs.Glob(manifests.FS, "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var out []doc
	for _, f := range files {
		b, err := manifests.FS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, raw := range bytes.Split(b, []byte("\n---\n")) {
			obj, _, err := strict.Decode(raw, nil, nil)
			if err != nil {
				t.Fatalf("%s, document %d: %v", f, i+1, err)
			}
			out = append(out, doc{file: f, raw: raw, obj: obj})
		}
	}
	return out
}

// Every manifest is accepted by a real API server (server-side apply,
// dry-run: validation, defaulting and admission run, nothing is stored).
func TestManifestsApplyWithServerSideDryRun(t *testing.T) {
	cluster := kube.Cluster(t)
	client := cluster.Client(t)
	_, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cluster.Config())
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cluster.Config())
	if err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(disc)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	docs := load(t)
	for _, d := range docs {
		var u unstructured.Unstructured
		js, err := yaml.ToJSON(d.raw)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if err := u.UnmarshalJSON(js); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		_, err = dyn.Resource(m.Resource).Namespace(u.GetNamespace()).Apply(t.Context(), u.GetName(), &u,
			metav1.ApplyOptions{FieldManager: "bascule-manifests-test", DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Errorf("apply %s (server-side, dry-run): %v", d, err)
		}
	}
	if t.Failed() {
		return
	}
	// The dry-run stored nothing.
	if _, err := client.AppsV1().Deployments(namespace).Get(t.Context(), "bascule-router", metav1.GetOptions{}); err == nil {
		t.Error("the dry-run created deployment bascule-router")
	}
}

// objects sorts the documents by kind.
type objects struct {
	accounts    map[string]*corev1.ServiceAccount
	roles       map[string]*rbacv1.Role
	bindings    []*rbacv1.RoleBinding
	deployments map[string]*appsv1.Deployment
	services    []*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
}

func sortDocs(t *testing.T, docs []doc) objects {
	t.Helper()
	o := objects{accounts: map[string]*corev1.ServiceAccount{}, roles: map[string]*rbacv1.Role{},
		deployments: map[string]*appsv1.Deployment{}, configMaps: map[string]*corev1.ConfigMap{}}
	for _, d := range docs {
		if ns := d.obj.(metav1.Object).GetNamespace(); ns != namespace {
			t.Errorf("%s is in namespace %q, want %q: bascule needs rights in its namespace only", d, ns, namespace)
		}
		switch v := d.obj.(type) {
		case *corev1.ServiceAccount:
			o.accounts[v.Name] = v
		case *rbacv1.Role:
			o.roles[v.Name] = v
		case *rbacv1.RoleBinding:
			o.bindings = append(o.bindings, v)
		case *appsv1.Deployment:
			o.deployments[v.Name] = v
		case *corev1.Service:
			o.services = append(o.services, v)
		case *corev1.ConfigMap:
			o.configMaps[v.Name] = v
		}
	}
	return o
}

// allows reports whether the Roles bound to account grant verb on
// resource of group.
func (o objects) allows(account, group, resource, verb string) bool {
	for _, b := range o.bindings {
		bound := slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Name == account && s.Namespace == namespace
		})
		role := o.roles[b.RoleRef.Name]
		if !bound || b.RoleRef.Kind != "Role" || role == nil {
			continue
		}
		for _, r := range role.Rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
				return true
			}
		}
	}
	return false
}

// The manifests name each other consistently: service accounts, their
// rights, Services' selectors and ports, the ConfigMap and what it says,
// the routers' --control URL and --listen port.
func TestManifestsReferenceEachOther(t *testing.T) {
	o := sortDocs(t, load(t))
	cp, rt := o.deployments["bascule"], o.deployments["bascule-router"]
	if cp == nil || rt == nil {
		t.Fatalf("deployments %v, want bascule and bascule-router", keys(o.deployments))
	}
	for _, d := range []*appsv1.Deployment{cp, rt} {
		sa := d.Spec.Template.Spec.ServiceAccountName
		if o.accounts[sa] == nil {
			t.Errorf("deployment %s runs as service account %q, which rbac.yaml does not create", d.Name, sa)
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("deployment %s: its selector does not match its pods (%v)", d.Name, err)
		}
	}
	// Rights: the routers read EndpointSlices and nothing else; the
	// control plane has what the driver and its own router need.
	routerSA, cpSA := rt.Spec.Template.Spec.ServiceAccountName, cp.Spec.Template.Spec.ServiceAccountName
	for _, verb := range []string{"get", "list", "watch"} {
		if !o.allows(routerSA, "discovery.k8s.io", "endpointslices", verb) {
			t.Errorf("the routers' service account %s may not %s endpointslices", routerSA, verb)
		}
	}
	for _, want := range [][3]string{{"apps", "deployments", "create"}, {"apps", "deployments", "patch"}, {"", "services", "create"},
		{"discovery.k8s.io", "endpointslices", "watch"}, {"", "pods/log", "get"}, {"", "events", "list"}} {
		if !o.allows(cpSA, want[0], want[1], want[2]) {
			t.Errorf("the control plane's service account %s may not %s %s", cpSA, want[2], want[1])
		}
	}
	if o.allows(routerSA, "", "pods", "list") || o.allows(routerSA, "apps", "deployments", "patch") {
		t.Errorf("the routers' service account %s may do more than read endpointslices", routerSA)
	}

	// Each Service selects exactly one Deployment's pods, on a port they
	// declare.
	svcs := map[string]*corev1.Service{}
	for _, s := range o.services {
		svcs[s.Name] = s
		var target *appsv1.Deployment
		for _, d := range o.deployments {
			if labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
				if target != nil {
					t.Errorf("service %s selects the pods of both %s and %s", s.Name, target.Name, d.Name)
				}
				target = d
			}
		}
		if target == nil {
			t.Errorf("service %s selects no deployment's pods", s.Name)
			continue
		}
		for _, p := range s.Spec.Ports {
			if containerPort(target, p.TargetPort) == 0 {
				t.Errorf("service %s: target port %s is not a port of %s's container", s.Name, p.TargetPort.String(), target.Name)
			}
		}
	}

	// The control plane's bascule.yaml: mounted from the ConfigMap, loads,
	// and agrees with the manifests.
	cfg := controlConfig(t, o, cp)
	if cfg.Runtime.Driver != config.DriverKube || cfg.Runtime.Kubernetes.Namespace != namespace || cfg.Runtime.Kubernetes.Kubeconfig != "" {
		t.Errorf("bascule.yaml: runtime %s in namespace %q (kubeconfig %q); want kubernetes in %s, in-cluster",
			cfg.Runtime.Driver, cfg.Runtime.Kubernetes.Namespace, cfg.Runtime.Kubernetes.Kubeconfig, namespace)
	}
	if cfg.Store.Driver != config.DriverPostgres {
		t.Errorf("bascule.yaml: store %s, want postgres (several instances share it)", cfg.Store.Driver)
	}
	controlPort := port(t, cfg.Control)
	if containerPort(cp, intstr.FromString("control")) != controlPort {
		t.Errorf("bascule.yaml's control port %d is not the container's port named control", controlPort)
	}
	if containerPort(cp, intstr.FromString("router")) != port(t, cfg.Listen) {
		t.Errorf("bascule.yaml's listen port is not the container's port named router")
	}

	// The routers: in the cluster, reaching the control plane's Service,
	// listening where their container port and Service say.
	args := flags(rt.Spec.Template.Spec.Containers[0].Args)
	if _, ok := args["kubernetes"]; !ok || rt.Spec.Template.Spec.Containers[0].Args[0] != "router" {
		t.Errorf("routers run %v, want bascule router --kubernetes", rt.Spec.Template.Spec.Containers[0].Args)
	}
	u, err := url.Parse(args["control"])
	if err != nil {
		t.Fatalf("--control %q: %v", args["control"], err)
	}
	ctl := svcs[u.Hostname()]
	if ctl == nil || len(ctl.Spec.Ports) == 0 || fmt.Sprint(ctl.Spec.Ports[0].Port) != u.Port() {
		t.Errorf("routers' --control %s is not a Service of the manifests and its port", args["control"])
	} else if containerPort(cp, ctl.Spec.Ports[0].TargetPort) != controlPort {
		t.Errorf("service %s does not lead to the control plane's control port", ctl.Name)
	}
	if containerPort(rt, intstr.FromString("http")) != port(t, args["listen"]) {
		t.Errorf("routers' --listen %s is not their container port named http", args["listen"])
	}
	// The table's references name the Services the driver creates,
	// "<app>-<color>", in the namespace the routers watch (their own).
	ref := router.Ref{Namespace: cfg.Runtime.Kubernetes.Namespace, Service: cfg.App + "-blue", Port: "http"}
	if rt.Namespace != ref.Namespace {
		t.Errorf("the routers run in %s, but the colors' references name %s", rt.Namespace, ref)
	}
}

// controlConfig loads the bascule.yaml the control plane mounts, with the
// environment its container sets.
func controlConfig(t *testing.T, o objects, cp *appsv1.Deployment) config.Config {
	t.Helper()
	pod := cp.Spec.Template.Spec
	c := pod.Containers[0]
	path := ""
	for _, a := range c.Args {
		if strings.HasSuffix(a, ".yaml") {
			path = a
		}
	}
	var cm *corev1.ConfigMap
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil && strings.HasPrefix(path, m.MountPath+"/") {
				cm = o.configMaps[v.ConfigMap.Name]
			}
		}
	}
	if cm == nil {
		t.Fatalf("the control plane's %s is not mounted from a ConfigMap of the manifests", path)
	}
	data, ok := cm.Data[strings.TrimPrefix(path, "/etc/bascule/")]
	if !ok {
		t.Fatalf("ConfigMap %s has no %s", cm.Name, path)
	}
	// The variables the container sets, with values as the pod would see
	// them: a variable the file names that the container does not set
	// fails the load.
	plausible := map[string]string{"BASCULE_ADVERTISE_URL": "http://10.0.0.5:8081",
		"BASCULE_STORE_URL": "postgres://bascule@postgres.shop.svc/bascule"}
	for _, e := range c.Env {
		v, ok := plausible[e.Name]
		if !ok {
			v = "value-of-" + e.Name
		}
		t.Setenv(e.Name, v)
	}
	cfg, err := config.Parse("bascule.yaml (ConfigMap "+cm.Name+")", []byte(data))
	if err != nil {
		t.Fatalf("the control plane's bascule.yaml: %v", err)
	}
	return cfg
}

// containerPort returns the port of the deployment's first container that
// p names (by name or number), 0 when none.
func containerPort(d *appsv1.Deployment, p intstr.IntOrString) int {
	for _, cp := range d.Spec.Template.Spec.Containers[0].Ports {
		if p.Type == intstr.String && cp.Name == p.StrVal || p.Type == intstr.Int && cp.ContainerPort == p.IntVal {
			return int(cp.ContainerPort)
		}
	}
	return 0
}

func port(t *testing.T, hostPort string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(hostPort)
	if err != nil {
		t.Fatalf("%q: %v", hostPort, err)
	}
	var n int
	fmt.Sscan(p, &n)
	return n
}

// flags reads "--name=value" and "--name" arguments.
func flags(args []string) map[string]string {
	out := map[string]string{}
	for _, a := range args {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			k, v, _ := strings.Cut(name, "=")
			out[k] = v
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
