package web

import (
	"net/http"

	"github.com/bascule/bascule/internal/auth"
)

// finalize runs the live release's contract migrations. The confirmation
// says what that does to a rollback, by the deploy package's rule.
func (h *Handler) finalize(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if !confirmed(r) {
		detail := "Its contract migrations, if it has any, run now."
		if st, err := h.opts.Deploy.Status(r.Context()); err == nil && st.FinalizeEffect != "" {
			detail = st.FinalizeEffect + "."
		}
		return h.askConfirm(w, p, confirmView{Action: "/finalize", Question: "Finalize the live release?",
			Detail: detail, Button: "Finalize"})
	}
	if _, err := h.opts.Deploy.Finalize(r.Context(), p.Name, reason(r)); err != nil {
		return h.overviewError(w, r, p, "Finalize", err)
	}
	http.Redirect(w, r, "/?done=finalize", http.StatusSeeOther)
	return nil
}
