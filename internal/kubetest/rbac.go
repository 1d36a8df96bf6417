package kubetest

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"

	manifests "github.com/bascule/bascule/deploy/kubernetes"
)

// ApplyRBAC creates the objects of deploy/kubernetes/rbac.yaml in ns (the
// service accounts, Roles and RoleBindings of the control plane and the
// routers), so that a test acting as one of those service accounts shows
// the manifest grants enough. It fails t if the manifest holds anything
// but those namespace-scoped kinds.
func ApplyRBAC(t testing.TB, client kubernetes.Interface, ns string) {
	t.Helper()
	raw, err := manifests.FS.ReadFile("rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("decode rbac.yaml: %v", err)
		}
		switch o := obj.(type) {
		case *corev1.ServiceAccount:
			o.Namespace = ns
			_, err = client.CoreV1().ServiceAccounts(ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.Role:
			o.Namespace = ns
			_, err = client.RbacV1().Roles(ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			o.Namespace = ns
			for i := range o.Subjects {
				o.Subjects[i].Namespace = ns
			}
			_, err = client.RbacV1().RoleBindings(ns).Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Fatalf("rbac.yaml holds a %T; want only ServiceAccounts, Roles and RoleBindings (namespace-scoped)", obj)
		}
		if err != nil {
			t.Fatalf("apply rbac.yaml: %v", err)
		}
	}
}
