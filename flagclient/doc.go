// Package flagclient is bascule's Go SDK for feature flags: it keeps a copy
// of every flag in memory, in sync with a bascule server, and evaluates flags
// in-process, with no network call and no lock per evaluation. It plugs into
// OpenFeature as a provider.
//
// # Usage
//
//	import (
//		"github.com/bascule/bascule/feature"
//		"github.com/bascule/bascule/flagclient"
//	)
//
//	c, err := flagclient.New(ctx, flagclient.Options{
//		URL:       "http://127.0.0.1:8081", // bascule's control address
//		APIKey:    os.Getenv("BASCULE_FLAGS_KEY"), // a token with the evaluator role
//		CacheFile: "/var/lib/myapp/flags.json",
//	})
//	if err != nil {
//		return err // bad options, or the API key was refused
//	}
//	defer c.Close()
//
//	user := feature.EvalContext{TargetingKey: "user-42", Attributes: map[string]any{"email": "ann@example.com"}}
//	if c.Bool("checkout-v2", false, user) {
//		// the new checkout
//	}
//
// or through OpenFeature:
//
//	openfeature.SetProviderAndWait(flagclient.NewProvider(c))
//	of := openfeature.NewDefaultClient()
//	on, _ := of.BooleanValue(ctx, "checkout-v2", false, openfeature.NewEvaluationContext("user-42", nil))
//
// EvalContext and Result come from package feature, whose evaluation
// function the client runs, as the server does, so the SDK and the server
// always agree (same rules, same percentage buckets). The examples below run
// as tests, from a module of their own, against a server that speaks
// bascule's protocol.
//
// An application that uses this package depends on the standard library,
// package feature, github.com/cespare/xxhash/v2 and the OpenFeature Go SDK,
// and on nothing else (a test asserts it).
//
// # Keeping in sync
//
// New downloads the snapshot (GET /api/v1/flags/snapshot). Then a background
// goroutine follows the server's event stream (GET /api/v1/flags/stream,
// server-sent events): every change arrives as a whole new snapshot. When the
// stream drops, the client reconnects with exponential backoff and jitter,
// sending the version it holds as Last-Event-ID, so the server resends only
// if something changed. The server is expected to send a ": ping" comment
// well within two minutes; a stream silent for longer is presumed dead. When
// the stream cannot be established at all (a server without it, a proxy that
// breaks it), the client polls the snapshot every PollInterval with
// If-None-Match, meanwhile retrying the stream.
//
// Every new version is written to Options.CacheFile atomically. If the server
// is unreachable when New runs, the client starts from that file and catches
// up once the server answers; without a usable file it starts empty, serving
// the callers' defaults (error code ErrProviderNotReady) until the first
// snapshot arrives, which Ready reports.
//
// # Evaluation
//
// Bool, String, Float, Int and Object return the flag's value, or the
// caller's default when the flag is missing, of another type, or cannot be
// evaluated (a percentage rollout without a targeting key); the Detail forms
// also return the feature.Result saying why, with OpenFeature's reasons and
// error codes (a type mismatch is feature.ErrTypeMismatch).
package flagclient
