package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// validator checks a decoded Config. Each problem is reported at the line
// of the offending key or, when the key is absent, of its nearest written
// ancestor; with no lines at all (Config.Validate) it is a whole-file error.
type validator struct {
	file   string
	lines  map[string]int  // from the decoder; may be nil
	failed map[string]bool // keys the decoder already complained about
	errs   Errors
}

// Validate checks c as Load does, without line numbers: use it after
// changing a Config in code, for example after command-line overrides.
// Secrets are not looked up again, so a Config returned by Load stays valid.
func (c Config) Validate() error {
	v := &validator{file: c.Path}
	v.validate(&c)
	return v.errs.Err()
}

// errorf reports a problem with path, unless the decoder already
// complained about path or a section holding it: a wrongly typed value
// must not also be reported as missing.
func (v *validator) errorf(path, format string, args ...any) {
	for p := path; p != ""; p = parentPath(p) {
		if v.failed[p] {
			return
		}
	}
	msg := path + ": " + fmt.Sprintf(format, args...)
	v.errs = append(v.errs, &Error{File: v.file, Line: v.line(path), Msg: msg})
}

// line finds the line of path, or of its nearest ancestor present in the
// file: a missing runtime.process.command is reported on "process:".
func (v *validator) line(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := v.lines[p]; ok {
			return l
		}
	}
	return 0
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

var appName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

func (v *validator) validate(c *Config) {
	if !appName.MatchString(c.App) {
		v.errorf("app", "%q is not a valid app name; use up to 63 letters, digits, '.', '_' or '-'", c.App)
	}
	listen, okL := v.addr("listen", c.Listen, true)
	control, okC := v.addr("control", c.Control, true)
	if okL && okC && sameAddr(listen, control) {
		v.errorf("control", "%s is also the listen address; the router and the control plane need different ports", c.Control)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		v.errorf("data_dir", "must not be empty")
	}
	v.preview(&c.Preview)
	v.runtime(&c.Runtime, []namedAddr{{"listen", listen, okL}, {"control", control, okC}})
	v.kubernetes(&c.Runtime.Kubernetes, c.App, c.Runtime.Driver == DriverKube)
	v.healthCheck(&c.HealthCheck)
	v.command("smoke_test.command", c.SmokeTest.Command)
	v.positive("smoke_test.timeout", c.SmokeTest.Timeout)
	v.positive("drain_timeout", c.DrainTimeout)
	if c.Concurrency.Limit < 0 {
		v.errorf("concurrency.limit", "must be 0 (no limit) or more, got %d", c.Concurrency.Limit)
	}
	v.positive("concurrency.queue_timeout", c.Concurrency.QueueTimeout)
	v.positive("stop_timeout", c.StopTimeout)
	v.guard(&c.Guard)
	if pc := c.Progressive.StickyCookie; pc != "" && !isToken(pc) {
		v.errorf("progressive.sticky_cookie", "%q is not a valid cookie name", pc)
	}
	if ph := c.Progressive.StickyHeader; ph != "" && !isToken(ph) {
		v.errorf("progressive.sticky_header", "%q is not a valid HTTP header name", ph)
	}
	v.database(&c.Database)
	v.positive("migrate.lock_timeout", c.Migrate.LockTimeout)
	v.positive("migrate.statement_timeout", c.Migrate.StatementTimeout)
	v.command("migrate.expand_command", c.Migrate.ExpandCommand)
	v.command("migrate.contract_command", c.Migrate.ContractCommand)
	v.command("migrate.compat_command", c.Migrate.CompatCommand)
	v.positive("migrate.compat_timeout", c.Migrate.CompatTimeout)
	v.store(&c.Store)
	v.artifacts(&c.Artifacts)
	v.ofrep(&c.OFREP)
	if (c.ControlTLS.CertFile == "") != (c.ControlTLS.KeyFile == "") {
		v.errorf("control_tls", "cert_file and key_file go together: set both, or neither for plain HTTP")
	}
	v.origins("control_trusted_origins", c.ControlTrustedOrigins)
	v.networks("control_trusted_proxies", c.ControlTrustedProxies)
	v.leader(c, control, okC)
	v.webhooks(c.Notify)
}

// artifacts checks the retention of release artifacts.
func (v *validator) artifacts(a *Artifacts) {
	if a.Keep < 1 {
		v.errorf("artifacts.keep", "must be at least 1, got %d: the artifacts of the newest releases are kept (default %d)", a.Keep, DefaultArtifactsKeep)
	}
	if a.Grace < 0 {
		v.errorf("artifacts.grace", "must be 0 or more, got %s (default 1h)", a.Grace)
	}
	v.positive("artifacts.interval", a.Interval)
}

// MinLeaseTTL is the shortest control_lease_ttl: shorter, a busy database
// or a pause of the process would depose a healthy leader.
const MinLeaseTTL = time.Second

// leader checks the keys of leader election among instances sharing a
// PostgreSQL store.
func (v *validator) leader(c *Config, control hostPort, okC bool) {
	if c.ControlLeaseTTL < MinLeaseTTL {
		v.errorf("control_lease_ttl", "%s is too short; at least %s (default 10s)", c.ControlLeaseTTL, MinLeaseTTL)
	}
	if u := c.ControlAdvertiseURL; u != "" {
		if _, ok := canonicalOrigin(strings.TrimSuffix(u, "/")); !ok {
			v.errorf("control_advertise_url", "%q is not a URL of a control plane; write scheme://host[:port], e.g. \"http://10.0.0.5:8081\"", u)
		}
		return
	}
	if okC && c.Store.Driver == DriverPostgres && unspecifiedHost(control) {
		v.errorf("control", "listens on every address (%s): with a shared store, set control_advertise_url to the address the other instances reach this one at", c.Control)
	}
}

// networks checks a list of addresses ("10.0.0.7") and networks
// ("10.0.0.0/8").
func (v *validator) networks(path string, list []string) {
	for i, n := range list {
		var err error
		if strings.Contains(n, "/") {
			_, err = netip.ParsePrefix(n)
		} else {
			_, err = netip.ParseAddr(n)
		}
		if err != nil {
			v.errorf(fmt.Sprintf("%s[%d]", path, i), "%q is not an address or network; write e.g. \"10.0.0.0/8\" or \"10.0.0.7\"", n)
		}
	}
}

// origins checks a list of web origins. A browser's Origin header is
// compared as a string, so each must be written as browsers send it:
// lower case, no default port, no path.
func (v *validator) origins(path string, list []string) {
	seen := map[string]string{}
	for i, o := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		want, ok := canonicalOrigin(o)
		switch {
		case !ok:
			v.errorf(p, "%q is not an origin; write scheme://host[:port], e.g. \"https://deploy.example.com\"", o)
			continue
		case want != o:
			v.errorf(p, "write %q as browsers send it: %q", o, want)
			continue
		}
		if first, dup := seen[o]; dup {
			v.errorf(p, "%q is already listed as %s", o, first)
		}
		seen[o] = p
	}
}

// canonicalOrigin returns the Origin header a browser sends for s, if s is
// an http or https origin, perhaps with a trailing slash or a default port.
func canonicalOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if !validHostName(host) {
		return "", false
	}
	if n, err := strconv.Atoi(port); port != "" && (err != nil || n < 1 || n > 65535) {
		return "", false
	}
	if u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443" {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, true
}

func (v *validator) ofrep(o *OFREP) {
	if o.RateLimit < 0 {
		v.errorf("ofrep.rate_limit", "must be 0 (no limit) or more, got %d", o.RateLimit)
	}
	if o.RateBurst < 0 {
		v.errorf("ofrep.rate_burst", "must be 0 (twice rate_limit) or more, got %d", o.RateBurst)
	}
	for i, origin := range o.CORSOrigins {
		if origin == "*" {
			continue
		}
		if u, err := url.Parse(origin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			v.errorf(fmt.Sprintf("ofrep.cors_origins[%d]", i),
				"%q is not a web origin; write scheme://host[:port] without a path, e.g. \"https://shop.example.com\", or \"*\" for any", origin)
		}
	}
}

func (v *validator) preview(p *Preview) {
	seen := map[string]string{}
	for i, h := range p.Hosts {
		path := fmt.Sprintf("preview.hosts[%d]", i)
		if !validHost(h) {
			example := "preview.shop.example"
			if u, err := url.Parse(h); err == nil && validHost(u.Host) {
				example = u.Host
			}
			v.errorf(path, "%q is not a host name; write it without scheme or path, e.g. %q", h, example)
			continue
		}
		key := strings.ToLower(h)
		if first, dup := seen[key]; dup {
			v.errorf(path, "%q is already listed as %s", h, first)
		}
		seen[key] = path
	}
	if !isToken(p.Header) {
		v.errorf("preview.header", "%q is not a valid HTTP header name", p.Header)
	}
	if !isToken(p.Cookie) {
		v.errorf("preview.cookie", "%q is not a valid cookie name", p.Cookie)
	}
}

// namedAddr is a parsed listen or control address, for conflict checks.
type namedAddr struct {
	name string
	addr hostPort
	ok   bool
}

func (v *validator) runtime(r *Runtime, own []namedAddr) {
	switch r.Driver {
	case DriverProcess, DriverStatic, DriverKube:
	default:
		v.errorf("runtime.driver", "unknown driver %q; want %q, %q or %q", r.Driver, DriverProcess, DriverStatic, DriverKube)
	}
	v.process(&r.Process, r.Driver == DriverProcess, own)
	v.static(&r.Static, r.Driver == DriverStatic, own)
}

func (v *validator) process(p *Process, active bool, own []namedAddr) {
	if active && len(p.Command) == 0 {
		v.errorf("runtime.process.command", "required when runtime.driver is process, e.g. [\"./app\", \"--serve\"]")
	}
	v.command("runtime.process.command", p.Command)
	for _, k := range sortedKeys(p.Env) {
		path := "runtime.process.env." + k
		switch {
		case !isEnvName(k):
			v.errorf(path, "%q is not an environment variable name", k)
		case k == "PORT":
			v.errorf(path, "PORT is set by bascule for each release; remove it")
		}
	}
	if p.Instances < 1 || p.Instances > MaxInstances {
		v.errorf("runtime.process.instances", "want 1 to %d processes per color, got %d", MaxInstances, p.Instances)
	}
	r := p.PortRange
	const path = "runtime.process.port_range"
	switch {
	case r.Min < 1 || r.Max > 65535 || r.Min > r.Max:
		v.errorf(path, "want \"A-B\" with 1 <= A <= B <= 65535, got \"%s\"", r)
		return
	case r.Min == r.Max:
		v.errorf(path, "%s holds one port; blue and green run side by side and need two", r)
	case p.Instances > 1 && r.Max-r.Min+1 < 2*p.Instances:
		v.errorf(path, "%s holds %d ports; blue and green with %d instances each need %d", r, r.Max-r.Min+1, p.Instances, 2*p.Instances)
	}
	for _, a := range own {
		if active && a.ok && r.Contains(a.addr.port) {
			v.errorf(path, "%s contains the %s port %d", r, a.name, a.addr.port)
		}
	}
}

// MaxInstances bounds runtime.process.instances: more processes per color
// than this on one host is a fleet, for another driver.
const MaxInstances = 64

func (v *validator) static(s *Static, active bool, own []namedAddr) {
	blue := v.upstreams("runtime.static.blue", s.Blue, active)
	green := v.upstreams("runtime.static.green", s.Green, active)
	article := "the"
	if len(blue) > 1 {
		article = "a"
	}
	for _, g := range green {
		for _, b := range blue {
			if sameAddr(b.addr, g.addr) {
				v.errorf(g.name, "%s is also %s blue address; each color needs its own", g.text, article)
			}
		}
	}
	if !active {
		return
	}
	for _, u := range append(blue, green...) {
		for _, a := range own {
			if a.ok && sameAddr(u.addr, a.addr) {
				v.errorf(u.name, "%s is the %s address; bascule would send traffic to itself", u.text, a.name)
			}
		}
	}
}

// staticAddr is one checked address of a static color.
type staticAddr struct {
	name, text string // its path in the file, and as written
	addr       hostPort
}

// upstreams checks a static color's addresses: required when the static
// driver is in use, and then each a host:port with a real port, none
// repeated. It returns the valid ones.
func (v *validator) upstreams(path string, addrs []string, required bool) []staticAddr {
	if len(addrs) == 0 {
		if required {
			v.errorf(path, "required when runtime.driver is static, e.g. \"127.0.0.1:19001\"")
		}
		return nil
	}
	var out []staticAddr
	for i, s := range addrs {
		p := path
		if len(addrs) > 1 {
			p = fmt.Sprintf("%s[%d]", path, i)
		}
		if s == "" || strings.Contains(s, ",") {
			v.errorf(p, "%q is not one host:port; write several instances as a list", s)
			continue
		}
		a, ok := v.addr(p, s, false)
		if !ok {
			continue
		}
		for _, prev := range out {
			if sameAddr(prev.addr, a) {
				v.errorf(p, "%s is listed twice", s)
				ok = false
			}
		}
		if ok {
			out = append(out, staticAddr{name: p, text: s, addr: a})
		}
	}
	return out
}

func (v *validator) healthCheck(h *HealthCheck) {
	if !strings.HasPrefix(h.Path, "/") {
		v.errorf("health_check.path", "must start with \"/\", got %q", h.Path)
	} else if _, err := url.ParseRequestURI(h.Path); err != nil || strings.ContainsAny(h.Path, " \t") {
		v.errorf("health_check.path", "%q is not a valid request path", h.Path)
	}
	v.positive("health_check.interval", h.Interval)
	v.positive("health_check.timeout", h.Timeout)
	if h.HealthyThreshold < 1 {
		v.errorf("health_check.healthy_threshold", "must be at least 1, got %d", h.HealthyThreshold)
	}
	v.positive("health_check.start_timeout", h.StartTimeout)
}

func (v *validator) database(db *Database) {
	if db.Driver == "" && db.URL == "" && db.URLEnv == "" {
		return // no database: migrations are off
	}
	switch db.Driver {
	case DriverPostgres, DriverSQLite:
	case "":
		v.errorf("database.driver", "required when database is set; want %q or %q", DriverPostgres, DriverSQLite)
	default:
		v.errorf("database.driver", "unknown driver %q; want %q or %q", db.Driver, DriverPostgres, DriverSQLite)
	}
	if db.URL == "" && db.URLEnv == "" {
		v.errorf("database.url", "required (or url_env) when database is set")
	}
	if db.Driver == DriverPostgres {
		v.postgresURL("database.url", db.URL)
	}
}

func (v *validator) store(s *Store) {
	switch s.Driver {
	case DriverSQLite:
		if s.URL != "" || s.URLEnv != "" {
			v.errorf(firstSet("store.url", s.URL, "store.url_env"), "only used with driver postgres; the sqlite store is a file in data_dir")
		}
	case DriverPostgres:
		if s.URL == "" && s.URLEnv == "" {
			v.errorf("store.url", "required (or url_env) when store.driver is postgres")
		}
		v.postgresURL("store.url", s.URL)
	default:
		v.errorf("store.driver", "unknown driver %q; want %q or %q", s.Driver, DriverSQLite, DriverPostgres)
	}
}

// postgresURL checks the scheme of a URL-form connection string; pgx also
// accepts "host=… dbname=…" strings, which pass. The URL itself is never
// echoed: it usually holds a password.
func (v *validator) postgresURL(path, s string) {
	scheme, _, isURL := strings.Cut(s, "://")
	if isURL && scheme != "postgres" && scheme != "postgresql" {
		v.errorf(path, "scheme %q is not postgres:// or postgresql://", scheme)
	}
}

func firstSet(pathA, a, pathB string) string {
	if a != "" {
		return pathA
	}
	return pathB
}

func (v *validator) command(path string, argv []string) {
	if len(argv) > 0 && strings.TrimSpace(argv[0]) == "" {
		v.errorf(path+"[0]", "the program to run must not be empty")
	}
}

func (v *validator) guard(g *Guard) {
	if g.Window < 0 {
		v.errorf("guard.window", "must be 0 (guard off) or positive, got %s", g.Window)
	}
	if !(g.MaxErrorRate > 0 && g.MaxErrorRate < 1) {
		v.errorf("guard.max_error_rate", "want a share between 0 and 1, such as 0.02 for 2%%, got %g", g.MaxErrorRate)
	}
	if g.MinRequests < 1 {
		v.errorf("guard.min_requests", "must be at least 1, got %d", g.MinRequests)
	}
	if g.MaxP99Ratio != 0 && !(g.MaxP99Ratio > 1) {
		v.errorf("guard.max_p99_ratio", "want a ratio above 1, such as 3, or 0 to leave latency unjudged, got %g", g.MaxP99Ratio)
	}
}

func (v *validator) positive(path string, d time.Duration) {
	if d <= 0 {
		v.errorf(path, "must be positive, got %s", d)
	}
}
