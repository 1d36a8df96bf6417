package web

import (
	"net/http"
	"strings"

	"github.com/bascule/bascule/internal/auth"
	"github.com/bascule/bascule/internal/store"
)

type usersView struct {
	Users      []store.User
	Tokens     []store.Token
	Roles      []string
	TokenRoles []string
	Once       *secretView // a password or token secret, shown this once
}

// secretView is a secret bascule shows once and never stores in clear.
type secretView struct {
	What, Secret string
}

var (
	userRoles  = []string{store.RoleViewer, store.RoleDeployer, store.RoleAdmin}
	tokenRoles = []string{store.RoleEvaluator, store.RoleRouter, store.RoleViewer, store.RoleDeployer, store.RoleAdmin}
)

// usersPage lists users and API tokens for admins.
func (h *Handler) usersPage(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	flash := ""
	if r.URL.Query().Get("saved") == "1" {
		flash = "Saved."
	}
	return h.showUsers(w, r, p, http.StatusOK, flash, "", nil)
}

func (h *Handler) showUsers(w http.ResponseWriter, r *http.Request, p auth.Principal, status int, flash, problem string, once *secretView) error {
	users, err := h.opts.Auth.Users().List(r.Context())
	if err != nil {
		return err
	}
	tokens, err := h.opts.Store.ListTokens(r.Context())
	if err != nil {
		return err
	}
	v := usersView{Users: users, Tokens: tokens, Roles: userRoles, TokenRoles: tokenRoles, Once: once}
	h.render(w, status, "users", page{Title: "Users and tokens", Nav: "users", User: p, Data: v, Flash: flash, Error: problem})
	return nil
}

// userResult shows the users page after a change: the error if it failed,
// the secret if there is one, else a redirect (so a reload repeats nothing).
func (h *Handler) userResult(w http.ResponseWriter, r *http.Request, p auth.Principal, err error, once *secretView) error {
	if err != nil {
		pe := describe(err)
		if pe.Status == http.StatusInternalServerError {
			return err
		}
		return h.showUsers(w, r, p, pe.Status, "", pe.Msg, nil)
	}
	if once != nil {
		return h.showUsers(w, r, p, http.StatusOK, "", "", once)
	}
	http.Redirect(w, r, "/users?saved=1", http.StatusSeeOther)
	return nil
}

// addUser creates a user; without a password given, one is generated and
// shown once.
func (h *Handler) addUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	name, role, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role"), r.PostFormValue("password")
	var once *secretView
	if password == "" {
		var err error
		if password, err = auth.GeneratePassword(); err != nil {
			return err
		}
		once = &secretView{What: "Password of " + name, Secret: password}
	}
	_, err := h.opts.Auth.Users().Create(r.Context(), name, role, password)
	h.auditResult(r, p, "user.add", name, "role "+role, err)
	return h.userResult(w, r, p, err, once)
}

// changeUser changes a user's role (op=role), disables or enables them,
// gives them a new generated password (shown once), or removes them.
func (h *Handler) changeUser(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	ctx, name := r.Context(), r.PathValue("name")
	var ch auth.UserChange
	var once *secretView
	switch op := r.PostFormValue("op"); op {
	case "role":
		ch.Role = r.PostFormValue("role")
	case "disable", "enable":
		off := op == "disable"
		ch.Disabled = &off
	case "password":
		pw, err := auth.GeneratePassword()
		if err != nil {
			return err
		}
		ch.Password, once = pw, &secretView{What: "New password of " + name, Secret: pw}
	case "delete":
		err := h.opts.Auth.Users().Delete(ctx, name)
		h.auditResult(r, p, "user.remove", name, "", err)
		return h.userResult(w, r, p, err, nil)
	default:
		return badRequest("Unknown change.")
	}
	_, err := h.opts.Auth.Users().Update(ctx, name, ch)
	h.auditResult(r, p, "user.update", name, describeUserChange(ch), err)
	return h.userResult(w, r, p, err, once)
}

// describeUserChange says what changed, never the password itself.
func describeUserChange(ch auth.UserChange) string {
	switch {
	case ch.Role != "":
		return "role " + ch.Role
	case ch.Password != "":
		return "password changed"
	case ch.Disabled != nil && *ch.Disabled:
		return "disabled"
	}
	return "enabled"
}

// auditResult records a UI change and whether it worked.
func (h *Handler) auditResult(r *http.Request, p auth.Principal, action, target, detail string, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "failed"
		detail = strings.TrimPrefix(detail+"; "+describe(err).Msg, "; ")
	}
	h.audit(r, p, action, target, outcome, detail)
}
