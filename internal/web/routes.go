package web

import (
	"net/http"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

// route is one page or action and the least role that may use it. As in
// the API, one table makes "every mutating route checks the role" checkable.
type route struct {
	pattern string
	role    string
	handle  func(w http.ResponseWriter, r *http.Request, p auth.Principal) error
}

func (h *Handler) table() []route {
	viewer, deployer, admin := store.RoleViewer, store.RoleDeployer, store.RoleAdmin
	return []route{
		{"GET /{$}", viewer, h.overviewPage},
		{"GET /overview/events", viewer, h.overviewEvents},
		{"POST /deploy", deployer, h.deploy},
		{"POST /go-live", deployer, h.switchAction(actionGoLive)},
		{"POST /go-live/promote", deployer, h.progressAction("promote")},
		{"POST /go-live/pause", deployer, h.progressAction("pause")},
		{"POST /go-live/resume", deployer, h.progressAction("resume")},
		{"POST /rollback", deployer, h.switchAction(actionRollback)},
		{"POST /finalize", deployer, h.finalize},
		{"GET /deployments/{id}", viewer, h.deploymentPage},
		{"GET /deployments/{id}/events", viewer, h.deploymentEvents},
		{"GET /releases", viewer, h.releasesPage},
		{"GET /history", viewer, h.historyPage},
		{"GET /flags", viewer, h.flagsPage},
		{"POST /flags", deployer, h.createFlag},
		{"GET /flags/{key}", viewer, h.flagPage},
		{"POST /flags/{key}/change", deployer, h.changeFlag},
		{"GET /segments", viewer, h.segmentsPage},
		{"POST /segments", deployer, h.createSegment},
		{"GET /segments/{key}", viewer, h.segmentPage},
		{"POST /segments/{key}/change", deployer, h.changeSegment},
		{"GET /audit", viewer, h.auditPage},
		{"GET /notifications", viewer, h.notificationsPage},
		{"GET /users", admin, h.usersPage},
		{"POST /users", admin, h.addUser},
		{"POST /users/{name}/change", admin, h.changeUser},
		{"POST /tokens", admin, h.createToken},
		{"POST /tokens/{id}/revoke", admin, h.revokeToken},
	}
}

func (h *Handler) routes() {
	h.mux.Handle("GET /static/", staticHandler())
	h.mux.HandleFunc("GET /login", h.loginPage)
	h.mux.HandleFunc("POST /login", h.login)
	h.mux.HandleFunc("POST /logout", h.logout)
	for _, rt := range h.table() {
		h.mux.Handle(rt.pattern, h.guard(rt))
	}
	h.mux.HandleFunc("/", h.notFound)
}
