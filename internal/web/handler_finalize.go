package web

import (
	"net/http"

	"github.com/bascule/bascule/internal/auth"
)

// finalize runs the live release's contract migrations. After it, rollback
// to the release before is refused, which the confirmation says.
func (h *Handler) finalize(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !confirmed(r) {
		return h.askConfirm(w, p, confirmView{Action: "/finalize", Question: "Finalize the live release?",
			Detail: "Its contract migrations run now; afterwards, rolling back to the release before is refused.",
			Button: "Finalize"})
	}
	if _, err := h.opts.Deploy.Finalize(r.Context(), p.Name, reason(r)); err != nil {
		return h.overviewError(w, r, p, "Finalize", err)
	}
	http.Redirect(w, r, "/?done=finalize", http.StatusSeeOther)
	return nil
}
