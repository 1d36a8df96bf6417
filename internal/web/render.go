package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/bascule/bascule/internal/auth"
)

//go:embed templates/*.html
var templateFS embed.FS

// shared are parsed into every page: the layout and the fragments that
// live updates send on their own.
var shared = []string{"layout.html", "parts.html", "overview_panel.html", "deployment_live.html"}

// pages holds one parsed template set per page file.
type pages struct {
	sets map[string]*template.Template
}

func mustParsePages() *pages {
	p, err := parsePages()
	if err != nil {
		panic(err)
	}
	return p
}

func parsePages() (*pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{sets: map[string]*template.Template{}}
	for _, name := range names {
		base := strings.TrimPrefix(name, "templates/")
		if isShared(base) {
			continue
		}
		files := []string{name}
		for _, s := range shared {
			files = append(files, "templates/"+s)
		}
		t, err := template.New(base).Funcs(funcs()).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", base, err)
		}
		p.sets[strings.TrimSuffix(base, ".html")] = t
	}
	return p, nil
}

func isShared(name string) bool {
	for _, s := range shared {
		if s == name {
			return true
		}
	}
	return false
}

// page is what every template gets: the layout's needs, and the page's
// own Data.
type page struct {
	Title string
	Nav   string // which main navigation entry is current
	App   string
	User  auth.Principal
	Flash string // a success message
	Error string // why the last action did not happen
	Data  any
}

// Can reports whether the user holds role; templates show an action only
// to those who may take it (the server checks again).
func (p page) Can(role string) bool { return p.User.Can(role) }

// CSRF is the token every form carries.
func (p page) CSRF() string { return p.User.CSRFToken }

// exec renders the template named name of the page file set into a string.
func (ps *pages) exec(set, name string, data any) (string, error) {
	t, ok := ps.sets[set]
	if !ok {
		return "", fmt.Errorf("render %s: no such page", set)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s/%s: %w", set, name, err)
	}
	return b.String(), nil
}

// render writes a whole page with status. It renders into memory first,
// so a template error becomes a clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, pg page) {
	if pg.App == "" {
		pg.App = h.opts.Deploy.App()
	}
	out, err := h.pages.exec(name, "layout", pg)
	if err != nil {
		h.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error; see the bascule log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(out))
}

// fail shows err as a page with its status; an unknown error is logged and
// shown as a short message.
// WriteError shows err as the UI shows its own errors, for what the
// control plane refuses in front of the UI (a cross-origin change).
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	setSecurityHeaders(w.Header())
	h.fail(w, r, auth.Principal{}, err)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, p auth.Principal, err error) {
	pe := describe(err)
	if pe.Status == http.StatusInternalServerError {
		h.log.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	h.render(w, pe.Status, "error", page{Title: http.StatusText(pe.Status), User: p, Data: pe})
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, auth.Principal{}, &pageError{Status: http.StatusNotFound, Msg: "There is no page at " + r.URL.Path + "."})
}
