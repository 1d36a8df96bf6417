package web

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/bascule/bascule/internal/auth"
)

// confirmView asks before an action. The overview's script asks in a
// dialog on the page; this page is the same question for a browser that
// runs no script, so no action ever happens on a single click.
type confirmView struct {
	Action   string // where the form posts
	Question string
	Detail   string
	Button   string
	Fields   map[string]string // carried as hidden fields
}

// confirmed reports whether the form says the user confirmed.
func confirmed(r *http.Request) bool { return r.PostFormValue("confirm") == "yes" }

func (h *Handler) askConfirm(w http.ResponseWriter, p auth.Principal, v confirmView) error {
	h.render(w, http.StatusOK, "confirm", page{Title: v.Question, Nav: "overview", User: p, Data: v})
	return nil
}

// maxReason bounds the reason recorded in the audit log.
const maxReason = 200

// reason is the one-line reason given with an action: whitespace folded,
// bounded.
func reason(r *http.Request) string {
	s := strings.Join(strings.Fields(r.PostFormValue("reason")), " ")
	for len(s) > 0 && utf8.RuneCountInString(s) > maxReason {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
