package config

import (
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Driver names accepted by runtime.driver, database.driver and store.driver.
const (
	DriverProcess  = "process"    // runtime: bascule starts the release's command itself
	DriverStatic   = "static"     // runtime: something else runs blue and green at fixed addresses
	DriverKube     = "kubernetes" // runtime: a Deployment per color in a Kubernetes namespace
	DriverSQLite   = "sqlite"     // database and store
	DriverPostgres = "postgres"   // database and store
)

// Config is a loaded bascule.yaml: every default applied, every value
// validated and every *_env reference resolved. See the package
// documentation for the meaning of each key.
type Config struct {
	App          string        // app name; default "app"
	Listen       string        // router address (production traffic), host:port
	Control      string        // control plane address (API, UI, metrics, OFREP), host:port
	DataDir      string        // state directory; "~/" is expanded
	Preview      Preview       // how to reach the idle color before going live
	Runtime      Runtime       // how releases run in the blue and green slots
	HealthCheck  HealthCheck   // when a started release counts as healthy
	SmokeTest    SmokeTest     // optional check run against the idle color before it may go live
	DrainTimeout time.Duration // longest wait for in-flight requests on the old color after a switch
	Concurrency  Concurrency   // optional cap on requests each color's app works on at once
	StopTimeout  time.Duration // SIGTERM to SIGKILL delay when stopping a release
	AutoGoLive   bool          // switch as soon as a deployment is ready, without a click
	Guard        Guard         // automatic rollback of a release that hurts users; off without the section
	Progressive  Progressive   // how users are kept on one side of a progressive go-live
	ControlTLS   TLS           // serve the control plane over TLS; empty: plain HTTP
	// SecureCookies marks session cookies Secure even when bascule itself
	// serves plain HTTP, for a control plane behind a TLS-terminating proxy.
	SecureCookies bool
	// ControlTrustedOrigins are origins ("https://deploy.example.com")
	// whose pages may send changes to the control plane besides its own,
	// e.g. the address of a proxy that rewrites the Host header.
	ControlTrustedOrigins []string
	// ControlTrustedProxies are the addresses and networks of reverse
	// proxies in front of the control plane whose X-Forwarded-For names the
	// client, for login limits and the audit log.
	ControlTrustedProxies []string
	// ControlAdvertiseURL is where the other instances reach this one's
	// control plane when it leads ("http://10.0.0.5:8081"), with a store
	// shared by several instances; empty: http(s)://control.
	ControlAdvertiseURL string
	// ControlAdvertiseURLEnv names the environment variable
	// ControlAdvertiseURL was read from, if any: each instance's own where
	// they share one file (a Kubernetes ConfigMap, the pod's IP in env).
	ControlAdvertiseURLEnv string
	// ControlLeaseTTL is how long the leader's lease lasts without
	// renewal, with a shared store: how long the others wait before one of
	// them takes over from a leader that died.
	ControlLeaseTTL time.Duration
	Metrics         Metrics   // who may read /metrics
	Database        Database  // the application's database, migrated by bascule; optional
	Migrate         Migrate   // migration settings; optional
	Store           Store     // where bascule keeps its own state
	Artifacts       Artifacts // how long release artifacts are kept
	OFREP           OFREP     // OFREP for applications and browser apps: rate limit, CORS

	// Notify lists the webhooks told of deployment, guard and flag
	// events; optional.
	Notify []Webhook

	// Path is the file the config was loaded from (the name given to
	// Parse); empty for Default(). Error messages are prefixed with it.
	Path string
}

// OFREP configures the OpenFeature Remote Evaluation Protocol endpoints
// (/ofrep/v1/) and the flag stream their bulk answer announces.
type OFREP struct {
	// RateLimit is how many OFREP requests per second each API key may
	// make; 0 means no limit.
	RateLimit int
	// RateBurst is how many requests a key may make at once before
	// RateLimit paces it; 0 means twice RateLimit.
	RateBurst int
	// CORSOrigins are the web origins ("https://shop.example.com") whose
	// pages may call OFREP and read the flag stream from a browser; "*"
	// means any. Empty: none.
	CORSOrigins []string
}

// Preview configures access to the idle color. A request previews it when
// it carries the token and names the preview by host, header or cookie.
type Preview struct {
	Hosts    []string // host names (optionally host:port) that preview the idle color
	Header   string   // request header naming the preview; default "X-Bascule-Preview"
	Cookie   string   // cookie naming the preview; default "bascule_preview"
	Token    string   // the preview token, literal or read from TokenEnv; empty means the caller generates and persists one
	TokenEnv string   // environment variable Token was read from, if any
}

// Runtime selects and configures the runtime driver.
type Runtime struct {
	Driver     string     // DriverProcess (default), DriverStatic or DriverKube
	Process    Process    // used when Driver is DriverProcess
	Static     Static     // used when Driver is DriverStatic
	Kubernetes Kubernetes // used when Driver is DriverKube
}

// Kubernetes configures the kubernetes driver: each color is a Deployment
// "<app>-<color>" of the release's image in Namespace.
type Kubernetes struct {
	Namespace     string        // required
	Kubeconfig    string        // path; "" means in-cluster (the pod's service account)
	Replicas      int           // pods per running color; default 1
	IdleScaleDown time.Duration // after finalize, how long the idle color stays warm; default 10m
	Container     Container
}

// Container is the app's container in a color's pods.
type Container struct {
	Port     int               // the port the app listens on, given in PORT; default 8080
	Env      map[string]string // extra environment; PORT is reserved
	Requests map[string]string // resources.requests, e.g. {cpu: 100m, memory: 128Mi}
	Limits   map[string]string // resources.limits
}

// Process configures the process driver, which starts the release's command
// in the unpacked release directory with PORT set.
type Process struct {
	Command   []string          // argv; required for the process driver
	Env       map[string]string // extra environment; PORT is reserved
	PortRange PortRange         // ports handed out in PORT; default 20000-20999
	Instances int               // processes per color, each with its own PORT; default 1
}

// PortRange is an inclusive range of TCP ports, written "A-B" in YAML.
type PortRange struct {
	Min, Max int
}

// String returns the range as written in YAML, "A-B".
func (r PortRange) String() string {
	return strconv.Itoa(r.Min) + "-" + strconv.Itoa(r.Max)
}

// Contains reports whether port lies inside the range.
func (r PortRange) Contains(port int) bool {
	return port >= r.Min && port <= r.Max
}

// Static configures the static driver: the two colors run elsewhere, at
// fixed addresses, each color on one instance or several.
type Static struct {
	Blue, Green []string // host:port of each instance of each color; a string in YAML for one
}

// HealthCheck configures the HTTP health check of a color.
type HealthCheck struct {
	Path             string        // request path; default "/"
	Interval         time.Duration // between checks; default 200ms
	Timeout          time.Duration // per check; default 2s
	HealthyThreshold int           // consecutive successes to be healthy; default 1
	StartTimeout     time.Duration // longest wait for a new release to become healthy; default 60s
}

// Concurrency caps how many requests the router has each color's app work
// on at once; further requests wait in the router, first come first served.
type Concurrency struct {
	Limit        int           // requests per instance of a color at once; 0 (default) means no limit
	QueueTimeout time.Duration // longest wait for a turn before a 503; default 30s
}

// Guard configures the guard, which watches a new live color after go-live
// and rolls back on its own when the release hurts users. Without a guard
// section Window is 0 (off); writing the section sets it to
// DefaultGuardWindow unless it says otherwise.
type Guard struct {
	Window       time.Duration // how long the new live color is watched; 0: off
	MaxErrorRate float64       // share of 5xx answers above which it rolls back; default 0.02
	MinRequests  int           // requests before any verdict; default 20
	MaxP99Ratio  float64       // most p99 latency may grow, as a multiple of the baseline's; 0: not judged
}

// Enabled reports whether the guard watches go-lives.
func (g Guard) Enabled() bool { return g.Window > 0 }

// Progressive configures progressive go-lives (bascule go-live --steps):
// what keeps a user on one side while a share of users is on the new
// release. Empty: bascule's own cohort cookie.
type Progressive struct {
	StickyCookie string // a cookie the app sets that identifies a user, such as a user id
	StickyHeader string // or a header that does; the cookie is read first
}

// DefaultGuardWindow is guard.window when the section is written without it.
const DefaultGuardWindow = 5 * time.Minute

// SmokeTest configures the optional smoke test run against the idle color.
type SmokeTest struct {
	Command []string      // argv run from the release directory; empty means no smoke test
	Timeout time.Duration // default 60s
}

// Metrics configures /metrics on the control address.
type Metrics struct {
	// Public serves /metrics to anyone who can reach the control address;
	// by default it needs an API token (or a session) with the viewer role.
	Public bool
}

// Database is the application's database, the one migrations run against.
// It is optional: Driver is empty when the file has no database section.
type Database struct {
	Driver string // DriverPostgres or DriverSQLite
	URL    string // connection URL, literal or read from URLEnv
	URLEnv string // environment variable URL was read from, if any
}

// Migrate configures the app database's migrations (see package migrate).
type Migrate struct {
	LockTimeout      time.Duration // how long a migration statement may wait for a lock; default 500ms
	StatementTimeout time.Duration // how long a migration statement may run; default 10m
	ExpandCommand    []string      // optional command run for the expand phase
	ContractCommand  []string      // optional command run for the contract phase
	CompatCommand    []string      // optional: the live release's own check against the schema a deployment leaves
	CompatTimeout    time.Duration // how long CompatCommand may run; default 5m
	ShadowURL        string        // optional: where shadow databases are made to rehearse the expand step
}

// TLS names a certificate and its key, both PEM files.
type TLS struct {
	CertFile string
	KeyFile  string
}

// Enabled reports whether a certificate is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// Store is where bascule keeps its own state.
type Store struct {
	Driver string // DriverSQLite (default: a file in DataDir) or DriverPostgres
	URL    string // PostgreSQL URL, literal or read from URLEnv; must be empty for sqlite
	URLEnv string // environment variable URL was read from, if any
}

// Artifacts is the retention of release artifacts (ADR 0020): what is
// garbage-collected from the store and the disks, and when.
type Artifacts struct {
	// Keep is how many of the newest releases keep their artifact;
	// default 10. The releases the colors run, those of unfinished
	// deployments and those younger than Grace keep theirs whatever Keep
	// says.
	Keep int
	// Grace is how long a newly added release is never collected, so
	// that a CI pipeline that adds a release and then deploys it does
	// not race the collection; default 1h.
	Grace time.Duration
	// Interval is how often collection runs besides after each
	// deployment ends; default 1h.
	Interval time.Duration
}

// Default returns the configuration used when no file is given and onto
// which a file's values are laid. It is not valid on its own: the process
// driver needs runtime.process.command, which only the caller (a file, or
// `bascule demo`) can supply.
func Default() Config {
	return Config{
		App:     "app",
		Listen:  "127.0.0.1:8080",
		Control: "127.0.0.1:8081",
		DataDir: defaultDataDir(),
		Preview: Preview{Header: "X-Bascule-Preview", Cookie: "bascule_preview"},
		Runtime: Runtime{
			Driver:  DriverProcess,
			Process: Process{PortRange: PortRange{Min: 20000, Max: 20999}, Instances: 1},
			Kubernetes: Kubernetes{Replicas: 1, IdleScaleDown: 10 * time.Minute,
				Container: Container{Port: 8080}},
		},
		HealthCheck: HealthCheck{
			Path:             "/",
			Interval:         200 * time.Millisecond,
			Timeout:          2 * time.Second,
			HealthyThreshold: 1,
			StartTimeout:     60 * time.Second,
		},
		SmokeTest:    SmokeTest{Timeout: 60 * time.Second},
		DrainTimeout: 30 * time.Second,
		Concurrency:  Concurrency{QueueTimeout: 30 * time.Second},
		Guard:        Guard{MaxErrorRate: 0.02, MinRequests: 20}, // off until the section is written
		StopTimeout:  10 * time.Second,
		Migrate:      Migrate{LockTimeout: 500 * time.Millisecond, StatementTimeout: 10 * time.Minute, CompatTimeout: 5 * time.Minute},
		Store:        Store{Driver: DriverSQLite},
		Artifacts:    Artifacts{Keep: DefaultArtifactsKeep, Grace: time.Hour, Interval: time.Hour},
		// Renewed every third of it: a leader that died is replaced within
		// ten seconds.
		ControlLeaseTTL: 10 * time.Second,
	}
}

// DefaultArtifactsKeep is artifacts.keep when the file does not set it.
const DefaultArtifactsKeep = 10

// defaultDataDir follows the XDG base directory spec: state belongs in
// $XDG_STATE_HOME (ignored unless absolute, as the spec requires), else in
// ~/.local/state. Without a home directory it falls back to ".bascule" in
// the working directory rather than failing.
func defaultDataDir() string {
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "bascule")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "state", "bascule")
	}
	return ".bascule"
}
