// Package notify tells webhooks what bascule does: deployments started,
// ready, live, rolled back (and by whom), failed and finalized, a
// progressive go-live's steps, the guard's verdicts, and flag changes.
//
// # The outbox
//
// Nothing is sent from the code path that makes a change. The store
// records an event in the same transaction as the change it reports (see
// store.Notifications): a deployment's state, a switch in the audit log, a
// new version of the flags. Code with something to say that the store does
// not see, such as the guard, calls Notifier.Publish, which records the
// event before returning. A Notifier, running in its own goroutine, turns
// each event into one delivery per webhook that wants its kind, then POSTs
// the deliveries, retrying failures with exponential backoff (1s, 2s, 4s, …
// up to an hour, with jitter) until the receiver answers 2xx. Deliveries
// live in the store, so they survive a restart or a kill -9; a delivery
// still failing after three days is marked failed and stays listed with
// its last error. A slow or dead receiver never holds up a deployment.
//
// Delivery is at least once: a receiver may see a delivery again (bascule
// died after sending it, before recording the answer). X-Bascule-Delivery
// identifies a delivery across its retries, and the body's "id" the event.
// Order is not guaranteed; "at" says when the event happened.
//
// # The request
//
//	POST <url>
//	Content-Type: application/json
//	User-Agent: bascule-webhook/1
//	X-Bascule-Event: deployment.live
//	X-Bascule-Delivery: 1234
//	X-Bascule-Timestamp: 1767225600
//	X-Bascule-Signature: sha256=<64 hex digits>
//
// With format json the body is an Event:
//
//	{"id":42,"kind":"deployment","type":"deployment.live","at":"2026-12-01T10:00:00Z","app":"shop",
//	 "actor":"alice","version":"v2","text":"v2 is live (go-live by alice): blue → green (v1): new checkout",
//	 "detail":"blue → green (v1): new checkout"}
//
// With format slack it is {"text": "…"}, which Slack's incoming webhooks
// accept, and the same headers.
//
// # The signature
//
// When the webhook has a secret (secret_env), X-Bascule-Timestamp is the
// time of the attempt in Unix seconds and X-Bascule-Signature is "sha256="
// followed by the lower-case hex HMAC-SHA256, keyed with the secret, of
// the timestamp, a full stop, and the body exactly as received:
//
//	signature = hex(HMAC_SHA256(secret, timestamp + "." + body))
//
// A receiver recomputes it over the raw body, compares it in constant time
// (hmac.Equal), and refuses a timestamp more than five minutes from its
// own clock, so that a captured request cannot be replayed later; it may
// also remember the X-Bascule-Delivery values it has seen. Each retry is
// signed again with a fresh timestamp. Verify does all of this in Go.
package notify
