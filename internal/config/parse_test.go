package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// cmdOK is the one line every otherwise-valid snippet needs.
const cmdOK = "runtime: {process: {command: [./app]}}\n"

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want func(c *Config) // applied to the expected config, which starts as the defaults + cmdOK
	}{
		{"empty list", cmdOK + "preview: {hosts: []}\n", func(c *Config) { c.Preview.Hosts = []string{} }},
		{"control over TLS", cmdOK + "control_tls: {cert_file: c.pem, key_file: k.pem}\nsecure_cookies: true\n", func(c *Config) {
			c.ControlTLS, c.SecureCookies = TLS{CertFile: "c.pem", KeyFile: "k.pem"}, true
		}},
		{"public metrics", cmdOK + "metrics: {public: true}\n", func(c *Config) { c.Metrics.Public = true }},
		{"shared store on every address, advertised", cmdOK +
			"control: 0.0.0.0:8081\ncontrol_advertise_url: http://10.0.0.5:8081\ncontrol_lease_ttl: 5s\nstore: {driver: postgres, url: 'postgres://db/b'}\n",
			func(c *Config) {
				c.Control, c.ControlAdvertiseURL, c.ControlLeaseTTL = "0.0.0.0:8081", "http://10.0.0.5:8081", 5*time.Second
				c.Store = Store{Driver: DriverPostgres, URL: "postgres://db/b"}
			}},
		{"trusted origins", cmdOK + "control_trusted_origins: [https://deploy.example.com, 'http://127.0.0.1:8081', 'http://[::1]:8081']\n",
			func(c *Config) {
				c.ControlTrustedOrigins = []string{"https://deploy.example.com", "http://127.0.0.1:8081", "http://[::1]:8081"}
			}},
		{"trusted proxies", cmdOK + "control_trusted_proxies: [10.0.0.0/8, 192.0.2.7, 'fd00::/8']\n",
			func(c *Config) { c.ControlTrustedProxies = []string{"10.0.0.0/8", "192.0.2.7", "fd00::/8"} }},
		{"quoted number kept verbatim", cmdOK + "preview: {token: 0123}\n", func(c *Config) { c.Preview.Token = "0123" }},
		{"static driver", "runtime:\n  driver: static\n  static: {blue: 127.0.0.1:19001, green: '[::1]:19002'}\n", func(c *Config) {
			c.Runtime = Runtime{Driver: DriverStatic, Process: c.Runtime.Process, Static: Static{Blue: []string{"127.0.0.1:19001"}, Green: []string{"[::1]:19002"}},
				Kubernetes: c.Runtime.Kubernetes}
			c.Runtime.Process.Command = nil
		}},
		{"concurrency limit", cmdOK + "concurrency: {limit: 32, queue_timeout: 2s}\n", func(c *Config) {
			c.Concurrency = Concurrency{Limit: 32, QueueTimeout: 2 * time.Second}
		}},
		{"guard section turns the guard on", cmdOK + "guard:\n", func(c *Config) { c.Guard.Window = DefaultGuardWindow }},
		{"guard keys", cmdOK + "guard: {window: 90s, max_error_rate: 0.05, min_requests: 50, max_p99_ratio: 2}\n", func(c *Config) {
			c.Guard = Guard{Window: 90 * time.Second, MaxErrorRate: 0.05, MinRequests: 50, MaxP99Ratio: 2}
		}},
		{"guard off", cmdOK + "guard: {window: 0s}\n", func(c *Config) {
			c.Guard.Window = 0
		}},
		{"artifacts retention", cmdOK + "artifacts: {keep: 3, grace: 0s}\n", func(c *Config) {
			c.Artifacts.Keep, c.Artifacts.Grace = 3, 0
		}},
		{"durations", cmdOK + "drain_timeout: 1m30s\nstop_timeout: 1.5s\n", func(c *Config) {
			c.DrainTimeout = 90 * time.Second
			c.StopTimeout = 1500 * time.Millisecond
		}},
		{"merge key and anchor", cmdOK + "x-fast: &fast {interval: 50ms, timeout: 1s}\nhealth_check:\n  <<: *fast\n  timeout: 3s\n", func(c *Config) {
			c.HealthCheck.Interval = 50 * time.Millisecond
			c.HealthCheck.Timeout = 3 * time.Second // the written key wins over the merged one
		}},
		{"alias in a list", "x-cmd: &cmd ./app\nruntime: {process: {command: [*cmd, --serve]}}\n", func(c *Config) {
			c.Runtime.Process.Command = []string{"./app", "--serve"}
		}},
		{"env with a null value", cmdOK[:len(cmdOK)-3] + ", env: {A: 1, B: }}}\n", func(c *Config) {
			c.Runtime.Process.Env = map[string]string{"A": "1", "B": ""}
		}},
		{"port 0 lets the OS choose", cmdOK + "listen: 127.0.0.1:0\ncontrol: 127.0.0.1:0\n", func(c *Config) {
			c.Listen, c.Control = "127.0.0.1:0", "127.0.0.1:0"
		}},
		{"same port on two IPs", cmdOK + "listen: 127.0.0.1:8080\ncontrol: 127.0.0.2:8080\n", func(c *Config) {
			c.Control = "127.0.0.2:8080"
		}},
		{"sqlite database", cmdOK + "database: {driver: sqlite, url: app.db}\n", func(c *Config) {
			c.Database = Database{Driver: DriverSQLite, URL: "app.db"}
		}},
		{"postgres store with key=value DSN", cmdOK + "store: {driver: postgres, url: 'host=127.0.0.1 dbname=b'}\n", func(c *Config) {
			c.Store = Store{Driver: DriverPostgres, URL: "host=127.0.0.1 dbname=b"}
		}},
		{"tagged string", cmdOK + "app: !!str shop\n", func(c *Config) { c.App = "shop" }},
		{"explicit document start", "---\n" + cmdOK, func(*Config) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parse("b.yaml", []byte(tc.yaml), env(nil))
			if err != nil {
				t.Fatalf("parse(%q): %v", tc.yaml, err)
			}
			want := Default()
			want.Path = "b.yaml"
			want.Runtime.Process.Command = []string{"./app"}
			tc.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("parse(%q) mismatch (-want +got):\n%s", tc.yaml, diff)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // every line of the error, in order
	}{
		{"unknown top-level key", cmdOK + "helth: {}\n",
			[]string{`b.yaml:2: unknown key "helth" (did you mean "health_check"?)`}},
		{"unknown nested key", cmdOK + "health_check:\n  intervall: 1s\n",
			[]string{`b.yaml:3: unknown key "intervall" in health_check (did you mean "interval"?)`}},
		{"unknown key, no suggestion", cmdOK + "store:\n  flavour: x\n",
			[]string{`b.yaml:3: unknown key "flavour" in store`}},
		{"dash for underscore", cmdOK + "drain-timeout: 1s\n",
			[]string{`b.yaml:2: unknown key "drain-timeout" (did you mean "drain_timeout"?)`}},
		{"duration without unit", cmdOK + "health_check:\n  interval: 500\n",
			[]string{`b.yaml:3: health_check.interval: 500 has no unit; write e.g. "500ms" or "500s"`}},
		{"duration as quoted number", cmdOK + "drain_timeout: '30'\n",
			[]string{`b.yaml:2: drain_timeout: 30 has no unit; write e.g. "30ms" or "30s"`}},
		{"not a duration", cmdOK + "stop_timeout: soon\n",
			[]string{`b.yaml:2: stop_timeout: "soon" is not a duration; write e.g. "500ms", "2s" or "1m30s"`}},
		{"zero and negative durations", cmdOK + "drain_timeout: 0s\nsmoke_test: {timeout: -1s}\n",
			[]string{
				`b.yaml:2: drain_timeout: must be positive, got 0s`,
				`b.yaml:3: smoke_test.timeout: must be positive, got -1s`,
			}},
		{"artifacts keep zero, grace negative", cmdOK + "artifacts:\n  keep: 0\n  grace: -1s\n  interval: 0s\n",
			[]string{
				`b.yaml:3: artifacts.keep: must be at least 1, got 0: the artifacts of the newest releases are kept (default 10)`,
				`b.yaml:4: artifacts.grace: must be 0 or more, got -1s (default 1h)`,
				`b.yaml:5: artifacts.interval: must be positive, got 0s`,
			}},
		{"artifacts keep negative", cmdOK + "artifacts: {keep: -3}\n",
			[]string{`b.yaml:2: artifacts.keep: must be at least 1, got -3: the artifacts of the newest releases are kept (default 10)`}},
		{"duration as a list", cmdOK + "stop_timeout: [1s]\n",
			[]string{`b.yaml:2: stop_timeout: expected a duration such as "500ms" or "2s", got a list`}},
		{"listen is a bare port", cmdOK + "listen: 8080\n",
			[]string{`b.yaml:2: listen: want host:port such as "127.0.0.1:8080", got "8080" (did you mean "127.0.0.1:8080"?)`}},
		{"named port", cmdOK + "control: localhost:http\n",
			[]string{`b.yaml:2: control: port "http" in "localhost:http" is not a number`}},
		{"port out of range", cmdOK + "listen: 127.0.0.1:70000\n",
			[]string{`b.yaml:2: listen: port 70000 in "127.0.0.1:70000" is out of range 0-65535`}},
		{"bad host", cmdOK + "listen: 'exa mple:80'\n",
			[]string{`b.yaml:2: listen: host "exa mple" in "exa mple:80" is not a host name or IP address`}},
		{"listen equals control", cmdOK + "listen: 127.0.0.1:9000\ncontrol: localhost:9000\n",
			[]string{`b.yaml:3: control: localhost:9000 is also the listen address; the router and the control plane need different ports`}},
		{"lease ttl too short", cmdOK + "control_lease_ttl: 200ms\n",
			[]string{`b.yaml:2: control_lease_ttl: 200ms is too short; at least 1s (default 10s)`}},
		{"advertise url not a url", cmdOK + "control_advertise_url: 10.0.0.5:8081\n",
			[]string{`b.yaml:2: control_advertise_url: "10.0.0.5:8081" is not a URL of a control plane; write scheme://host[:port], e.g. "http://10.0.0.5:8081"`}},
		{"shared store, control on every address, nothing advertised",
			cmdOK + "control: 0.0.0.0:8081\nstore: {driver: postgres, url: 'postgres://db/bascule'}\n",
			[]string{`b.yaml:2: control: listens on every address (0.0.0.0:8081): with a shared store, set control_advertise_url to the address the other instances reach this one at`}},
		{"unknown runtime driver", "runtime:\n  driver: docker\n",
			[]string{`b.yaml:2: runtime.driver: unknown driver "docker"; want "process", "static" or "kubernetes"`}},
		{"process without command, section present", "runtime:\n  process:\n    env: {A: b}\n",
			[]string{`b.yaml:2: runtime.process.command: required when runtime.driver is process, e.g. ["./app", "--serve"]`}},
		{"process without command, no runtime at all", "app: shop\n",
			[]string{`b.yaml: runtime.process.command: required when runtime.driver is process, e.g. ["./app", "--serve"]`}},
		{"command as a string", "runtime: {process: {command: ./app --serve}}\n",
			[]string{`b.yaml:1: runtime.process.command: expected a list of strings such as ["./app", "--serve"], got a string`}},
		{"command item is a mapping", "runtime:\n  process:\n    command:\n      - ./app\n      - {a: b}\n",
			[]string{`b.yaml:5: runtime.process.command[1]: expected a string, got a mapping`}},
		{"empty program", "runtime: {process: {command: ['', x]}}\n",
			[]string{`b.yaml:1: runtime.process.command[0]: the program to run must not be empty`}},
		{"reserved and bad env names", "runtime:\n  process:\n    command: [x]\n    env:\n      PORT: 1\n      A-B: x\n",
			[]string{
				`b.yaml:5: runtime.process.env.PORT: PORT is set by bascule for each release; remove it`,
				`b.yaml:6: runtime.process.env.A-B: "A-B" is not an environment variable name`,
			}},
		{"port range reversed", "runtime:\n  process:\n    command: [x]\n    port_range: 30000-20000\n",
			[]string{`b.yaml:4: runtime.process.port_range: want "A-B" with 1 <= A <= B <= 65535, got "30000-20000"`}},
		{"port range beyond 65535", "runtime:\n  process:\n    command: [x]\n    port_range: 0-70000\n",
			[]string{`b.yaml:4: runtime.process.port_range: want "A-B" with 1 <= A <= B <= 65535, got "0-70000"`}},
		{"port range not a range", "runtime:\n  process:\n    command: [x]\n    port_range: 20000\n",
			[]string{`b.yaml:4: runtime.process.port_range: expected a range "A-B" such as "20000-20999", got 20000`}},
		{"port range of one", "runtime:\n  process:\n    command: [x]\n    port_range: 20000-20000\n",
			[]string{`b.yaml:4: runtime.process.port_range: 20000-20000 holds one port; blue and green run side by side and need two`}},
		{"port range holds listen", "listen: 127.0.0.1:20005\nruntime:\n  process:\n    command: [x]\n    port_range: 20000-20999\n",
			[]string{`b.yaml:5: runtime.process.port_range: 20000-20999 contains the listen port 20005`}},
		{"static without addresses", "runtime:\n  driver: static\n",
			[]string{
				`b.yaml:1: runtime.static.blue: required when runtime.driver is static, e.g. "127.0.0.1:19001"`,
				`b.yaml:1: runtime.static.green: required when runtime.driver is static, e.g. "127.0.0.1:19001"`,
			}},
		{"instances zero", "runtime:\n  process:\n    command: [x]\n    instances: 0\n",
			[]string{`b.yaml:4: runtime.process.instances: want 1 to 64 processes per color, got 0`}},
		{"instances need ports", "runtime:\n  process:\n    command: [x]\n    port_range: 20000-20004\n    instances: 3\n",
			[]string{`b.yaml:4: runtime.process.port_range: 20000-20004 holds 5 ports; blue and green with 3 instances each need 6`}},
		{"static list item bad", "runtime:\n  driver: static\n  static:\n    blue:\n      - 127.0.0.1:19001\n      - 19002\n      - 127.0.0.1:19001\n    green: [\"127.0.0.1:19003,127.0.0.1:19004\"]\n",
			[]string{
				`b.yaml:6: runtime.static.blue[1]: want host:port such as "127.0.0.1:8080", got "19002" (did you mean "127.0.0.1:19002"?)`,
				`b.yaml:7: runtime.static.blue[2]: 127.0.0.1:19001 is listed twice`,
				`b.yaml:8: runtime.static.green: "127.0.0.1:19003,127.0.0.1:19004" is not one host:port; write several instances as a list`,
			}},
		{"static list shares an address", "runtime:\n  driver: static\n  static:\n    blue: [127.0.0.1:19001, 127.0.0.1:19002]\n    green: [127.0.0.1:19003, 127.0.0.1:19002]\n",
			[]string{`b.yaml:5: runtime.static.green[1]: 127.0.0.1:19002 is also a blue address; each color needs its own`}},
		{"static not a list", "runtime:\n  driver: static\n  static:\n    blue: {a: b}\n    green: 127.0.0.1:19002\n",
			[]string{`b.yaml:4: runtime.static.blue: expected a list of addresses such as ["10.0.0.1:8080", "10.0.0.2:8080"], got a mapping`}},
		{"static colors collide", "runtime:\n  driver: static\n  static:\n    blue: 127.0.0.1:19001\n    green: 127.0.0.1:19001\n",
			[]string{`b.yaml:5: runtime.static.green: 127.0.0.1:19001 is also the blue address; each color needs its own`}},
		{"static color is bascule itself", "runtime:\n  driver: static\n  static:\n    blue: 127.0.0.1:8080\n    green: 127.0.0.1:0\n",
			[]string{
				`b.yaml:4: runtime.static.blue: 127.0.0.1:8080 is the listen address; bascule would send traffic to itself`,
				`b.yaml:5: runtime.static.green: port 0 in "127.0.0.1:0" is out of range 1-65535`,
			}},
		{"health path", cmdOK + "health_check:\n  path: healthz\n",
			[]string{`b.yaml:3: health_check.path: must start with "/", got "healthz"`}},
		{"health path with space", cmdOK + "health_check:\n  path: /a b\n",
			[]string{`b.yaml:3: health_check.path: "/a b" is not a valid request path`}},
		{"threshold", cmdOK + "health_check:\n  healthy_threshold: 0\n",
			[]string{`b.yaml:3: health_check.healthy_threshold: must be at least 1, got 0`}},
		{"threshold as string", cmdOK + "health_check:\n  healthy_threshold: two\n",
			[]string{`b.yaml:3: health_check.healthy_threshold: expected an integer, got "two"`}},
		{"threshold overflow", cmdOK + "health_check:\n  healthy_threshold: 99999999999999999999\n",
			[]string{`b.yaml:3: health_check.healthy_threshold: 99999999999999999999 is out of range`}},
		{"negative concurrency limit", cmdOK + "concurrency:\n  limit: -1\n  queue_timeout: 0s\n",
			[]string{`b.yaml:3: concurrency.limit: must be 0 (no limit) or more, got -1`,
				`b.yaml:4: concurrency.queue_timeout: must be positive, got 0s`}},
		{"tls cert without key", cmdOK + "control_tls:\n  cert_file: /etc/bascule/cert.pem\n",
			[]string{`b.yaml:2: control_tls: cert_file and key_file go together: set both, or neither for plain HTTP`}},
		{"tls unknown key", cmdOK + "control_tls:\n  cert: a.pem\n",
			[]string{`b.yaml:3: unknown key "cert" in control_tls (did you mean "cert_file"?)`}},
		{"metrics.public is a boolean", cmdOK + "metrics:\n  public: 'true'\n",
			[]string{`b.yaml:3: metrics.public: expected true or false, got "true"`}},
		{"metrics unknown key", cmdOK + "metrics:\n  publc: true\n",
			[]string{`b.yaml:3: unknown key "publc" in metrics (did you mean "public"?)`}},
		{"trusted origins", cmdOK + "control_trusted_origins:\n  - deploy.example.com\n  - https://deploy.example.com/ui\n" +
			"  - HTTPS://Deploy.example.com:443/\n  - https://deploy.example.com\n  - https://deploy.example.com\n  - ftp://x.example\n",
			[]string{
				`b.yaml:3: control_trusted_origins[0]: "deploy.example.com" is not an origin; write scheme://host[:port], e.g. "https://deploy.example.com"`,
				`b.yaml:4: control_trusted_origins[1]: "https://deploy.example.com/ui" is not an origin; write scheme://host[:port], e.g. "https://deploy.example.com"`,
				`b.yaml:5: control_trusted_origins[2]: write "HTTPS://Deploy.example.com:443/" as browsers send it: "https://deploy.example.com"`,
				`b.yaml:7: control_trusted_origins[4]: "https://deploy.example.com" is already listed as control_trusted_origins[3]`,
				`b.yaml:8: control_trusted_origins[5]: "ftp://x.example" is not an origin; write scheme://host[:port], e.g. "https://deploy.example.com"`,
			}},
		{"trusted proxies", cmdOK + "control_trusted_proxies:\n  - 10.0.0.0/33\n  - proxy.example\n  - 10.0.0.1\n",
			[]string{
				`b.yaml:3: control_trusted_proxies[0]: "10.0.0.0/33" is not an address or network; write e.g. "10.0.0.0/8" or "10.0.0.7"`,
				`b.yaml:4: control_trusted_proxies[1]: "proxy.example" is not an address or network; write e.g. "10.0.0.0/8" or "10.0.0.7"`,
			}},
		{"yes is not a boolean", cmdOK + "auto_go_live: yes\n",
			[]string{`b.yaml:2: auto_go_live: expected true or false, got "yes"`}},
		{"token and token_env", cmdOK + "preview:\n  token: a\n  token_env: B\n",
			[]string{`b.yaml:4: preview.token_env: set token or token_env, not both`}},
		{"token_env unset", cmdOK + "preview:\n  token_env: NOPE_NOT_SET\n",
			[]string{`b.yaml:3: preview.token_env: environment variable NOPE_NOT_SET is not set`}},
		{"token_env not a name", cmdOK + "preview:\n  token_env: $TOKEN\n",
			[]string{`b.yaml:3: preview.token_env: "$TOKEN" is not an environment variable name`}},
		{"preview header and cookie", cmdOK + "preview:\n  header: 'X Preview'\n  cookie: 'a;b'\n",
			[]string{
				`b.yaml:3: preview.header: "X Preview" is not a valid HTTP header name`,
				`b.yaml:4: preview.cookie: "a;b" is not a valid cookie name`,
			}},
		{"preview hosts", cmdOK + "preview:\n  hosts:\n    - https://preview.example/\n    - p.example\n    - P.example\n",
			[]string{
				`b.yaml:4: preview.hosts[0]: "https://preview.example/" is not a host name; write it without scheme or path, e.g. "preview.example"`,
				`b.yaml:6: preview.hosts[2]: "P.example" is already listed as preview.hosts[1]`,
			}},
		{"app name", cmdOK + "app: 'my shop'\n",
			[]string{`b.yaml:2: app: "my shop" is not a valid app name; use up to 63 letters, digits, '.', '_' or '-'`}},
		{"empty data_dir", cmdOK + "data_dir: ''\n",
			[]string{`b.yaml:2: data_dir: must not be empty`}},
		{"database without driver", cmdOK + "database:\n  url: postgres://127.0.0.1/x\n",
			[]string{`b.yaml:2: database.driver: required when database is set; want "postgres" or "sqlite"`}},
		{"database without url", cmdOK + "database:\n  driver: mysql\n",
			[]string{
				`b.yaml:2: database.url: required (or url_env) when database is set`,
				`b.yaml:3: database.driver: unknown driver "mysql"; want "postgres" or "sqlite"`,
			}},
		{"database url and url_env", cmdOK + "database:\n  driver: postgres\n  url: postgres://127.0.0.1/x\n  url_env: DB\n",
			[]string{`b.yaml:5: database.url_env: set url or url_env, not both`}},
		{"database wrong scheme, url not echoed", cmdOK + "database:\n  driver: postgres\n  url: mysql://u:pw@127.0.0.1/x\n",
			[]string{`b.yaml:4: database.url: scheme "mysql" is not postgres:// or postgresql://`}},
		{"sqlite store with url", cmdOK + "store:\n  url: postgres://127.0.0.1/b\n",
			[]string{`b.yaml:3: store.url: only used with driver postgres; the sqlite store is a file in data_dir`}},
		{"postgres store without url", cmdOK + "store:\n  driver: postgres\n",
			[]string{`b.yaml:2: store.url: required (or url_env) when store.driver is postgres`}},
		{"migrate shape", cmdOK + "migrate:\n  lock_timeout: 0s\n  expand_command: x\n",
			[]string{
				`b.yaml:3: migrate.lock_timeout: must be positive, got 0s`,
				`b.yaml:4: migrate.expand_command: expected a list of strings such as ["./app", "--serve"], got a string`,
			}},
		{"section is a scalar", cmdOK + "health_check: yes\n",
			[]string{`b.yaml:2: health_check: expected a mapping, got a string`}},
		{"runtime section is a scalar, no cascade", "runtime: process\n",
			[]string{`b.yaml:1: runtime: expected a mapping, got a string`}},
		{"top level is a list", "- a\n",
			[]string{`b.yaml:1: the top level must be a mapping of keys such as listen: and runtime:, got a list`}},
		{"syntax error", "app: [shop\n",
			[]string{`b.yaml:1: invalid YAML: sequence end token ']' not found`}},
		{"unclosed list names the line that opened it", cmdOK + "preview:\n  hosts: [a.example, 'b]' # ]\nlisten: 127.0.0.1:8080\n",
			[]string{`b.yaml:3: invalid YAML: the [ opened on this line is not closed (',' or ']' expected by line 4)`}},
		{"unclosed mapping names the line that opened it", cmdOK + "preview: {hosts: x\nlisten: 127.0.0.1:8080\n",
			[]string{`b.yaml:2: invalid YAML: the { opened on this line is not closed (',' or '}' expected by line 3)`}},
		{"duplicate key", cmdOK + "app: a\napp: b\n",
			[]string{`b.yaml:3: invalid YAML: mapping key "app" already defined on line 2`}},
		{"two documents", cmdOK + "---\napp: b\n",
			[]string{`b.yaml:2: a config file holds one YAML document; remove this one or the "---" before it`}},
		{"empty second document", cmdOK + "---\n",
			[]string{`b.yaml:2: a config file holds one YAML document; remove this one or the "---" before it`}},
		{"unknown anchor", cmdOK + "app: *nope\n",
			[]string{`b.yaml:2: unknown anchor "nope"`}},
		{"several problems, in line order", "stop_timeout: 5\nlisten: x\nruntime:\n  driver: static\n",
			[]string{
				`b.yaml:1: stop_timeout: 5 has no unit; write e.g. "5ms" or "5s"`,
				`b.yaml:2: listen: want host:port such as "127.0.0.1:8080", got "x"`,
				`b.yaml:3: runtime.static.blue: required when runtime.driver is static, e.g. "127.0.0.1:19001"`,
				`b.yaml:3: runtime.static.green: required when runtime.driver is static, e.g. "127.0.0.1:19001"`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse("b.yaml", []byte(tc.yaml), env(nil))
			if err == nil {
				t.Fatalf("parse(%q) = nil error, want:\n%s", tc.yaml, strings.Join(tc.want, "\n"))
			}
			got := strings.Split(err.Error(), "\n")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parse(%q) errors mismatch (-want +got):\n%s", tc.yaml, diff)
			}
		})
	}
}
