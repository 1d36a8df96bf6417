// Package manifests holds bascule's Kubernetes manifests, so that a test
// applies each of them, with server-side dry-run, to a real API server
// and checks that they name each other consistently. Apply them with
// kubectl (see the README's "On Kubernetes"):
//
//	rbac.yaml           service accounts and Roles of the control plane and the routers
//	config.yaml         the control plane's bascule.yaml, as a ConfigMap
//	control-plane.yaml  bascule serve ×2 on PostgreSQL, and its Service
//	routers.yaml        bascule router ×2 in the cluster, and the production Service
package manifests

import "embed"

// FS holds every manifest (*.yaml) of this directory.
//
//go:embed *.yaml
var FS embed.FS
