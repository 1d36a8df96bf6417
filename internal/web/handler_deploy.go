package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/bascule/bascule/internal/auth"
)

// deploy starts a deployment of the chosen release and shows it as it
// happens. A second click while one runs gets the deploy service's 409,
// which names the deployment in the way.
func (h *Handler) deploy(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	version := strings.TrimSpace(r.PostFormValue("version"))
	if version == "" {
		return h.overviewError(w, r, p, "Deploy", badRequest("Choose a release to deploy."))
	}
	if !confirmed(r) {
		return h.askConfirm(w, p, confirmView{Action: "/deploy", Question: "Deploy " + version + "?",
			Detail: "It is started and verified on the idle color; production does not change until you go live.",
			Button: "Deploy " + version, Fields: map[string]string{"version": version}})
	}
	d, err := h.opts.Deploy.Deploy(r.Context(), version, reason(r), p.Name)
	if err != nil {
		return h.overviewError(w, r, p, "Deploy "+version, err)
	}
	http.Redirect(w, r, fmt.Sprintf("/deployments/%d", d.ID), http.StatusSeeOther)
	return nil
}
