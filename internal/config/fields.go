package config

import "github.com/bascule/bascule/internal/yamldoc"

// This file is the schema of bascule.yaml: one function per section, each
// listing the keys it accepts. A key missing here is an unknown key.

func (d *decoder) root(n yamldoc.Node, c *Config) {
	d.mapping("", n, section{
		"app":      d.str(&c.App),
		"listen":   d.str(&c.Listen),
		"control":  d.str(&c.Control),
		"data_dir": d.str(&c.DataDir),
		"preview":  func(p string, n yamldoc.Node) { d.preview(p, n, &c.Preview) },
		"runtime":  func(p string, n yamldoc.Node) { d.runtime(p, n, &c.Runtime) },
		"health_check": func(p string, n yamldoc.Node) {
			d.healthCheck(p, n, &c.HealthCheck)
		},
		"smoke_test": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"command": d.strs(&c.SmokeTest.Command),
				"timeout": d.duration(&c.SmokeTest.Timeout),
			})
		},
		"drain_timeout": d.duration(&c.DrainTimeout),
		"stop_timeout":  d.duration(&c.StopTimeout),
		"auto_go_live":  d.boolean(&c.AutoGoLive),
		"guard":         func(p string, n yamldoc.Node) { d.guard(p, n, &c.Guard) },
		"progressive": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"sticky_cookie": d.str(&c.Progressive.StickyCookie),
				"sticky_header": d.str(&c.Progressive.StickyHeader),
			})
		},
		"concurrency": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"limit":         d.integer(&c.Concurrency.Limit),
				"queue_timeout": d.duration(&c.Concurrency.QueueTimeout),
			})
		},
		"control_tls": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"cert_file": d.str(&c.ControlTLS.CertFile),
				"key_file":  d.str(&c.ControlTLS.KeyFile),
			})
		},
		"secure_cookies":            d.boolean(&c.SecureCookies),
		"control_trusted_origins":   d.strs(&c.ControlTrustedOrigins),
		"control_trusted_proxies":   d.strs(&c.ControlTrustedProxies),
		"control_advertise_url":     d.str(&c.ControlAdvertiseURL),
		"control_advertise_url_env": d.str(&c.ControlAdvertiseURLEnv),
		"control_lease_ttl":         d.duration(&c.ControlLeaseTTL),
		"metrics": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"public": d.boolean(&c.Metrics.Public),
			})
		},
		"database": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"driver":  d.str(&c.Database.Driver),
				"url":     d.str(&c.Database.URL),
				"url_env": d.str(&c.Database.URLEnv),
			})
		},
		"migrate": func(p string, n yamldoc.Node) { d.migrate(p, n, &c.Migrate) },
		"ofrep": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"rate_limit":   d.integer(&c.OFREP.RateLimit),
				"rate_burst":   d.integer(&c.OFREP.RateBurst),
				"cors_origins": d.strs(&c.OFREP.CORSOrigins),
			})
		},
		"notify": func(p string, n yamldoc.Node) { d.webhooks(p, n, &c.Notify) },
		"artifacts": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"keep":     d.integer(&c.Artifacts.Keep),
				"grace":    d.duration(&c.Artifacts.Grace),
				"interval": d.duration(&c.Artifacts.Interval),
			})
		},
		"store": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"driver":  d.str(&c.Store.Driver),
				"url":     d.str(&c.Store.URL),
				"url_env": d.str(&c.Store.URLEnv),
			})
		},
	})
}

func (d *decoder) preview(path string, n yamldoc.Node, p *Preview) {
	d.mapping(path, n, section{
		"hosts":     d.strs(&p.Hosts),
		"header":    d.str(&p.Header),
		"cookie":    d.str(&p.Cookie),
		"token":     d.str(&p.Token),
		"token_env": d.str(&p.TokenEnv),
	})
}

func (d *decoder) runtime(path string, n yamldoc.Node, r *Runtime) {
	d.mapping(path, n, section{
		"driver": d.str(&r.Driver),
		"process": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"command":    d.strs(&r.Process.Command),
				"env":        d.strMap(&r.Process.Env),
				"port_range": d.portRange(&r.Process.PortRange),
				"instances":  d.integer(&r.Process.Instances),
			})
		},
		"static": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"blue":  d.addrs(&r.Static.Blue),
				"green": d.addrs(&r.Static.Green),
			})
		},
		"kubernetes": func(p string, n yamldoc.Node) { d.kubernetes(p, n, &r.Kubernetes) },
	})
}

func (d *decoder) kubernetes(path string, n yamldoc.Node, k *Kubernetes) {
	d.mapping(path, n, section{
		"namespace":       d.str(&k.Namespace),
		"kubeconfig":      d.str(&k.Kubeconfig),
		"replicas":        d.integer(&k.Replicas),
		"idle_scale_down": d.duration(&k.IdleScaleDown),
		"container": func(p string, n yamldoc.Node) {
			d.mapping(p, n, section{
				"port": d.integer(&k.Container.Port),
				"env":  d.strMap(&k.Container.Env),
				"resources": func(p string, n yamldoc.Node) {
					d.mapping(p, n, section{
						"requests": d.strMap(&k.Container.Requests),
						"limits":   d.strMap(&k.Container.Limits),
					})
				},
			})
		},
	})
}

func (d *decoder) healthCheck(path string, n yamldoc.Node, h *HealthCheck) {
	d.mapping(path, n, section{
		"path":              d.str(&h.Path),
		"interval":          d.duration(&h.Interval),
		"timeout":           d.duration(&h.Timeout),
		"healthy_threshold": d.integer(&h.HealthyThreshold),
		"start_timeout":     d.duration(&h.StartTimeout),
	})
}

func (d *decoder) migrate(path string, n yamldoc.Node, m *Migrate) {
	d.mapping(path, n, section{
		"lock_timeout":      d.duration(&m.LockTimeout),
		"statement_timeout": d.duration(&m.StatementTimeout),
		"expand_command":    d.strs(&m.ExpandCommand),
		"contract_command":  d.strs(&m.ContractCommand),
		"compat_command":    d.strs(&m.CompatCommand),
		"compat_timeout":    d.duration(&m.CompatTimeout),
		"shadow_url":        d.str(&m.ShadowURL),
	})
}

// guard decodes the guard section: writing it turns the guard on.
func (d *decoder) guard(path string, n yamldoc.Node, g *Guard) {
	g.Window = DefaultGuardWindow
	d.mapping(path, n, section{
		"window":         d.duration(&g.Window),
		"max_error_rate": d.number(&g.MaxErrorRate),
		"min_requests":   d.integer(&g.MinRequests),
		"max_p99_ratio":  d.number(&g.MaxP99Ratio),
	})
}
