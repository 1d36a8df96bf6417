// Package config loads bascule.yaml: it parses the file, lays it over the
// defaults, validates every value and resolves secrets named by *_env keys.
//
// # Errors
//
// A bad file fails with every problem at once, one per line, each as
// "file:line: what is wrong":
//
//	bascule.yaml:7: unknown key "intervall" in health_check (did you mean "interval"?)
//	bascule.yaml:9: health_check.timeout: 2 has no unit; write e.g. "2ms" or "2s"
//	bascule.yaml:14: runtime.process.command: required when runtime.driver is process, e.g. ["./app", "--serve"]
//
// The line is that of the offending key, or of the nearest enclosing key
// when a required key is missing. A problem with no place in the file (a
// required key whose whole section is absent) is reported as
// "file: what is wrong". Load and Parse return [Errors]; each element is an
// [*Error].
//
// # Rules of the format
//
//   - Unknown keys are errors. Top-level keys starting with "x-" are ignored
//     so that they can hold YAML anchors, as in docker compose.
//   - A key with no value ("header:") keeps its default.
//   - Durations are Go durations: "500ms", "2s", "1m30s". A bare number is
//     refused because it does not say its unit.
//   - Booleans are true or false; "yes" and "on" are refused.
//   - Commands are lists: ["./app", "--serve"]. No shell is involved.
//   - Anchors, aliases and merge keys ("<<: *defaults") work.
//   - One YAML document per file.
//   - Secrets are best given by name: token_env, url_env and secret_env name
//     an environment variable read at load time; it must be set and non-empty.
//     Setting both the value and its *_env variant is an error.
//
// # Keys
//
// Top level:
//
//	app            app name: letters, digits, '.', '_', '-', at most 63. Default "app".
//	listen         host:port of the router, which serves production traffic.
//	               Default "127.0.0.1:8080". Port 0 picks a free port.
//	control        host:port of the control plane: API, web UI, /metrics, OFREP.
//	               Default "127.0.0.1:8081". Must not collide with listen.
//	data_dir       directory for bascule's state (the SQLite store among it).
//	               Default $XDG_STATE_HOME/bascule, else ~/.local/state/bascule,
//	               else ".bascule". A leading "~/" is expanded.
//	drain_timeout  after a switch, longest wait for requests in flight on the
//	               old color. Default 30s.
//	stop_timeout   when stopping a release, delay between SIGTERM and SIGKILL.
//	               Default 10s.
//	control_tls    cert_file and key_file (PEM) to serve the control plane —
//	               API, web UI, OFREP — over HTTPS; session cookies are
//	               then Secure. Default: plain HTTP.
//	secure_cookies mark session cookies Secure although bascule serves plain
//	               HTTP, when a TLS-terminating proxy is in front. Default false.
//	control_trusted_origins
//	               list of origins, "scheme://host[:port]" as browsers send
//	               them, whose pages may send changes (POST, PUT, DELETE) to
//	               the control plane besides its own. The control plane refuses
//	               a browser's change from any other site with 403, beside the
//	               CSRF token. Needed only for a page elsewhere that sends
//	               changes with an API token, or when a proxy in front
//	               rewrites the Host header and browsers too old to send
//	               Sec-Fetch-Site (before 2023) are in use. Default none.
//	control_trusted_proxies
//	               list of addresses ("10.0.0.7") and networks ("10.0.0.0/8")
//	               of reverse proxies in front of the control plane. For a
//	               request from one of them, the client is the right-most
//	               address of X-Forwarded-For that is not itself listed; it is
//	               what login limits count and the audit log records. Without
//	               it, behind a proxy every login shares the proxy's address
//	               and the per-address limits hold back everyone at once.
//	               Default none (the connection's address is the client).
//	control_advertise_url
//	               with store.driver postgres, several instances share the
//	               store and one leads (docs/adr/0010-leader-lease.md): it
//	               alone runs deployments, go-live, rollback, finalize, the
//	               guard and the webhooks; the others serve reads and forward
//	               every change (POST, PUT, PATCH, DELETE, OFREP evaluations
//	               aside) to this URL of the leader, scheme://host[:port].
//	               The routing table is the store's too (docs/adr/0015):
//	               each instance serves it on its routing stream and
//	               installs it in its own router, which acknowledges each
//	               switch to this URL of the leader (with a router token the
//	               instance creates for itself), so that a go-live waits for
//	               it. The leader's certificate, with control_tls, must be
//	               one the other instances trust.
//	               List the instances' addresses in control_trusted_proxies,
//	               so that the leader's login limits and audit log see the
//	               client rather than the instance that forwarded.
//	               Default http(s)://control; required when control listens
//	               on every address (0.0.0.0, [::]).
//	control_advertise_url_env
//	               the environment variable holding it instead, for
//	               instances that share one file (in Kubernetes:
//	               "http://$(POD_IP):8081" in the pod's env).
//	control_lease_ttl
//	               with store.driver postgres, how long the leader's lease
//	               lasts without renewal; it is renewed every third of it.
//	               When the leader dies, another instance takes over within
//	               it, and the deployment in progress ends failed, as after a
//	               restart. At least 1s. Default 10s.
//	auto_go_live   switch to a new release as soon as it is ready, without
//	               waiting for "Go live". Default false.
//
// guard — optional; watches the new live color after each go-live and rolls
// back on its own, through the same path as the rollback button, when the
// release hurts users. Writing the section turns it on. It judges from the
// router's own counters: an error is a 5xx answer (the app's, or bascule's
// 502, 503, 504). It rolls back when the error rate is above
// max_error_rate, or, when the previous release served at least
// min_requests in the minutes before the switch, significantly worse than
// that baseline's; or when the p99 latency is above max_p99_ratio times
// the baseline's; or at once when the live release's process exits or its
// health check fails. Decisions are sequential tests, not a fixed sample:
// a gross regression is caught within a few dozen requests.
//
//	window          how long the new live color is watched after go-live;
//	                0 turns the guard off. Default 5m.
//	max_error_rate  share of requests answered 5xx above which the release
//	                is rolled back, whatever the baseline: a number between
//	                0 and 1. Default 0.02 (2 %).
//	min_requests    requests the new color must serve before any verdict,
//	                and the baseline before it is compared with. Default 20.
//	max_p99_ratio   most the p99 latency may grow, as a multiple of the
//	                baseline's (above 1). Default 0: latency is not judged.
//
// progressive — optional; progressive go-lives (bascule go-live --steps
// 1,10,50,100 --interval 2m) send a growing share of users to the new
// release, each user staying on one side at every step. A user is known by
// a key, bucketed into 100,000 buckets with the feature flags' bucketing
// function, so a user on the new release at 10 % is still there at 50 %.
//
//	sticky_cookie  a cookie the app sets that identifies a user (a user id,
//	               a session id). Read before sticky_header.
//	sticky_header  a header that does.
//
// A request with neither gets bascule's own cookie, bascule_cohort, with a
// random key. Default: that cookie only.
//
// concurrency — optional; how many requests each color's app works on at
// once. Requests over the limit wait in the router, first come first served,
// instead of in the app's socket buffers, where an event loop picks them up
// in no particular order: under overload the latency tail is shorter. A
// request counts from before it is sent until the app's response head
// arrives, so streams, SSE and WebSockets stop counting once they have
// begun; a long request (a slow upload, a long poll) counts throughout.
//
//	limit          requests per instance at once; about the number one
//	               instance of the app serves in parallel (a color of several
//	               instances works on limit times their number). 0 means no
//	               limit. Default 0.
//	queue_timeout  longest wait for a turn; then the router answers 503.
//	               Default 30s.
//
// metrics — the Prometheus endpoint, /metrics on the control address. It
// names flags and deployment outcomes, so by default it needs an API token
// with at least the viewer role, as `Authorization: Bearer TOKEN` (or a
// logged-in session); without one it answers 401 like the API.
//
//	public  true serves /metrics to anyone who reaches the control address,
//	        e.g. when only a private network does. Default false.
//
// preview — reaching the idle color before it goes live. A request previews
// when it names the preview (by host, header or cookie) and carries the token.
//
//	hosts      list of host names (optionally host:port) that preview the idle color.
//	header     request header that asks for the preview. Default "X-Bascule-Preview".
//	cookie     cookie that asks for the preview. Default "bascule_preview".
//	token      the preview token, or
//	token_env  the environment variable holding it. With neither, Token is
//	           empty and the caller generates one at first start and persists it.
//
// runtime — how a release runs in a color slot.
//
//	driver              "process" (default), "static" or "kubernetes".
//	process.command     argv of the release, run from the unpacked release
//	                    directory with PORT set. Required for the process driver.
//	process.env         mapping of extra environment variables. PORT is reserved.
//	process.port_range  "A-B", the ports handed out in PORT; at least two ports
//	                    (two per instance), none of them the listen or control port.
//	                    Default "20000-20999".
//	process.instances   processes per color, 1 to 64, each with its own PORT; the
//	                    router balances a color's requests across them. A color is
//	                    healthy when all of them are. Default 1.
//	static.blue         host:port where the blue color runs, or a list of them
//	                    ([10.0.0.1:8080, 10.0.0.2:8080]) for several instances,
//	                    which the router balances. Required for the static driver.
//	static.green        the same for the green color; no address of both colors.
//	kubernetes.namespace        namespace of the Deployments and Services "<app>-blue" and
//	                            "<app>-green" (app must then be a DNS label of at most 57
//	                            characters). Required for the kubernetes driver.
//	kubernetes.kubeconfig       path of a kubeconfig file; "" (default) uses the pod's
//	                            service account (bascule runs in the cluster).
//	kubernetes.replicas         pods per running color, at least 1. Default 1.
//	kubernetes.idle_scale_down  once the live release is finalized, how long the idle color
//	                            stays warm before it is scaled to zero; 0 scales it at once.
//	                            Default 10m.
//	kubernetes.container.port   port the app listens on, given in PORT. Default 8080.
//	kubernetes.container.env    mapping of extra environment variables. PORT, BASCULE_COLOR
//	                            and BASCULE_RELEASE are reserved.
//	kubernetes.container.resources.requests, .limits
//	                            mappings of resource name to quantity ("250m", "128Mi").
//
// health_check — when a color counts as healthy.
//
//	path               request path, starting with "/". Default "/".
//	interval           time between checks. Default 200ms.
//	timeout            time allowed for one check. Default 2s.
//	healthy_threshold  consecutive successful checks needed, at least 1. Default 1.
//	start_timeout      longest wait for a new release to become healthy. Default 60s.
//
// smoke_test — optional check of the idle color before it may go live.
//
//	command  argv run from the release directory, with BASCULE_PREVIEW_URL
//	         and friends in its environment. Empty means no smoke test.
//	timeout  Default 60s.
//
// database — optional; the application's database, which migrations change.
// When the section is present, driver and one of url / url_env are required.
//
//	driver   "postgres" or "sqlite".
//	url      connection string (postgres:// URL or key=value string for postgres;
//	         for sqlite a file path, "file:PATH" or "sqlite:PATH"), or
//	url_env  the environment variable holding it.
//
// migrate — optional; how the app database's migrations run.
//
//	lock_timeout      longest wait of a migration statement for a lock, before
//	                  it gives up (and is retried): production queries queue
//	                  behind it no longer than that. Default 500ms.
//	statement_timeout longest run of a migration statement, and so of the
//	                  locks it holds, even when bascule died and cannot
//	                  cancel it (postgres; a sqlite statement ends with
//	                  bascule). Default 10m; raise it for a CREATE INDEX
//	                  CONCURRENTLY on a large table. Both timeouts are set
//	                  again before every migration file, whatever the file
//	                  before set, and the lint refuses a file that lifts them.
//	expand_command    argv of the user's own migration tool for the expand
//	                  phase, run from the release directory with DATABASE_URL
//	                  set, instead of bascule applying migrations/expand; it
//	                  is rehearsed on a shadow database first.
//	contract_command  the same for the contract phase.
//	                  With runtime.driver kubernetes the tool is in the
//	                  release's image: these commands (and compat_command)
//	                  run as a Kubernetes Job of that image, as its
//	                  container's command, one pod never restarted, with
//	                  DATABASE_URL from a Secret owned by the Job (never in
//	                  its spec), so the database (and shadow_url) must be
//	                  reachable from the cluster. The step reports the Job
//	                  and its output; a completed Job is deleted, a failed
//	                  one kept for diagnosis (kubectl logs job/NAME) until
//	                  the next run. deploy/kubernetes/rbac.yaml grants it.
//	compat_command    argv of the live release's own check against a schema
//	                  (its smoke or integration tests, say): a deployment's
//	                  gates run it from the live release's directory with
//	                  DATABASE_URL set to the shadow database, after the
//	                  live release's contract step (when the deployment
//	                  finalizes it) and the candidate's expand step; the
//	                  deployment is refused unless it passes. It catches
//	                  what no schema diff can: a new CHECK, NOT NULL,
//	                  foreign key or unique index that the live release's
//	                  writes break. The shadow holds the schema, not the
//	                  data: the command brings its own rows.
//	compat_timeout    how long compat_command may run. Default 5m.
//	shadow_url        where the expand step is rehearsed. postgres: a server
//	                  (URL of any database on it) where bascule may create and
//	                  drop scratch databases; default the app database's
//	                  server. sqlite: a directory; default the system's
//	                  temporary directory.
//
// store — where bascule keeps its own state.
//
//	driver   "sqlite" (default: a file in data_dir) or "postgres" (for several
//	         bascule instances). With postgres the store also keeps every
//	         release's artifact, so that any instance deploys a release
//	         whichever one received it (docs/adr/0016-release-blobs-in-the-store.md);
//	         with sqlite, data_dir/releases alone holds them.
//	url      PostgreSQL connection string, or
//	url_env  the environment variable holding it. Both must be empty for sqlite.
//
// artifacts — garbage collection of release artifacts
// (docs/adr/0020-artifact-retention.md). The leader deletes the artifacts
// of old releases from the store and from its data directory, and every
// instance deletes from its own data directory what the store no longer
// holds. A collected release stays in the history (bascule release list
// says "collected"); deploying it is refused before anything starts: add
// the same files again under a new version. Whatever keep says, these are
// never collected: the releases on the blue and green slots, the release of
// every deployment not finalized, failed or rolled back, and releases
// younger than grace. Image releases are never collected: their artifact is
// only their migrations, and the image stays in its registry. Collection
// runs when a deployment ends, every interval, and on `bascule release
// prune` (admin; --dry-run shows what it would delete).
//
//	keep      how many of the newest releases keep their artifact, counting
//	          artifact releases only. At least 1. Default 10.
//	grace     a release added less than this long ago is never collected,
//	          so that a CI pipeline that adds a release and then deploys it
//	          does not race the collection. 0 turns the grace off.
//	          Default 1h.
//	interval  how often collection runs besides after each deployment.
//	          Default 1h.
//
// ofrep — optional; the OpenFeature Remote Evaluation Protocol under
// /ofrep/v1/, which OpenFeature providers call with an API key of role
// evaluator, and the flag stream its bulk answer announces.
//
//	rate_limit    requests per second each API key may make; 0 means no
//	              limit. Default 0: the keys are ones you issued, and an
//	              application evaluating through OFREP may well make
//	              thousands of requests a second. Set it to contain a
//	              runaway client. A refused request gets 429 with
//	              Retry-After (the provider then serves its defaults);
//	              refusals are counted in bascule_ofrep_rate_limited_total
//	              and logged, at most once a minute per key, and the limit
//	              is the bascule_ofrep_rate_limit gauge.
//	rate_burst    how many requests a key may make at once before
//	              rate_limit paces it. Default twice rate_limit.
//	cors_origins  web origins (scheme://host[:port], e.g.
//	              "https://shop.example.com") whose pages may call OFREP
//	              and read the flag stream from a browser; "*" means any.
//	              Default none: browsers refuse pages of other origins.
//	              Preflight requests are answered without credentials; the
//	              API key still has to come with every real request. The
//	              stream URL in the bulk answer carries a short-lived
//	              credential that only reads the stream, since a browser's
//	              EventSource cannot send headers; it is never the API key.
//
// notify — optional; a list of webhooks told of deployment, guard and flag
// events (deploy started, ready, live, rolled back and by whom, failed,
// finalized, a progressive go-live's step, a guard breach, a flag change).
// Each event is recorded in the store with the change it reports and
// POSTed to each webhook that wants it, retried with backoff until it is
// accepted (a 2xx answer), across restarts; see package notify for the
// payload and the signature.
//
//	url         http:// or https:// URL the events are POSTed to. Required, or
//	url_env     the environment variable holding it (a Slack webhook's URL is
//	            a secret). Errors never show more of it than scheme and host.
//	secret_env  environment variable holding the signing secret, at least 16
//	            characters: each delivery then carries X-Bascule-Timestamp and
//	            X-Bascule-Signature: sha256=HEX, the HMAC-SHA256 of
//	            "TIMESTAMP.BODY". Default: unsigned.
//	events      list of the kinds sent: "deployment", "guard", "flag".
//	            Default all three.
//	format      "json" (default): bascule's event as JSON; "slack": a
//	            {"text": …} message, as Slack's incoming webhooks accept.
//
// A complete, annotated example is testdata/full.yaml.
//
// Environment variables and command-line flags do not override the file
// here: cmd/bascule applies its --listen, --control and --data flags to the
// loaded Config and calls [Config.Validate] again.
package config
