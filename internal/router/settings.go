package router

import (
	"slices"
	"time"
)

// Settings are the options that decide how a router treats a request
// before it routes it: preview, a progressive go-live's cohort keys, the
// concurrency limit. A control plane hands its own to every router of its
// fleet (fleet.Update), so that a request is treated the same whichever
// router it reaches, and bascule.yaml stays the one place they are set.
type Settings struct {
	PreviewHosts    []string      `json:"preview_hosts,omitempty"`
	PreviewHeader   string        `json:"preview_header,omitempty"`
	PreviewCookie   string        `json:"preview_cookie,omitempty"`
	PreviewToken    string        `json:"preview_token,omitempty"`
	Concurrency     int           `json:"concurrency,omitempty"`
	QueueTimeout    time.Duration `json:"queue_timeout,omitempty"`
	CohortKeyCookie string        `json:"cohort_key_cookie,omitempty"`
	CohortKeyHeader string        `json:"cohort_key_header,omitempty"`
	CohortCookie    string        `json:"cohort_cookie,omitempty"`
}

// Equal reports whether s and o set the same.
func (s Settings) Equal(o Settings) bool {
	type plain struct {
		header, cookie, token              string
		concurrency                        int
		queue                              time.Duration
		keyCookie, keyHeader, cohortCookie string
	}
	flat := func(s Settings) plain {
		return plain{s.PreviewHeader, s.PreviewCookie, s.PreviewToken, s.Concurrency, s.QueueTimeout,
			s.CohortKeyCookie, s.CohortKeyHeader, s.CohortCookie}
	}
	return slices.Equal(s.PreviewHosts, o.PreviewHosts) && flat(s) == flat(o)
}

func (o Options) settings() Settings {
	return Settings{PreviewHosts: slices.Clone(o.PreviewHosts), PreviewHeader: o.PreviewHeader, PreviewCookie: o.PreviewCookie,
		PreviewToken: o.PreviewToken, Concurrency: o.Concurrency, QueueTimeout: o.QueueTimeout,
		CohortKeyCookie: o.CohortKeyCookie, CohortKeyHeader: o.CohortKeyHeader, CohortCookie: o.CohortCookie}
}

// edge is a router's Settings ready for the request path, replaced whole
// by Configure: a request reads it once and sees one version.
type edge struct {
	settings Settings
	preview  *preview
	cohorts  *cohorts
	// stripped are the cookies removed from every proxied request, by both
	// fronts: the preview cookie and Options.StripCookies.
	stripped []string
}

func (r *Router) newEdge(s Settings) *edge {
	s.PreviewHosts = slices.Clone(s.PreviewHosts)
	e := &edge{settings: s, preview: newPreview(s), cohorts: newCohorts(s, r.bucket)}
	if e.preview != nil {
		e.stripped = append(e.stripped, e.preview.cookie)
	}
	e.stripped = append(e.stripped, r.strip...)
	return e
}

// Configure makes s the router's settings, for the requests that arrive
// from now on. A new concurrency limit or queue timeout applies to the
// instances the router starts sending to afterwards: requests already
// waiting for a slot of an instance keep the limit they waited under.
func (r *Router) Configure(s Settings) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.edge.Store(r.newEdge(s))
}

// Settings returns the router's settings.
func (r *Router) Settings() Settings {
	s := r.edge.Load().settings
	s.PreviewHosts = slices.Clone(s.PreviewHosts)
	return s
}
