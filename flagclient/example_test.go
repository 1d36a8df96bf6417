package flagclient_test

// These examples import only bascule's public packages: a test builds and
// runs them from a module of their own (see TestExamplesFromAnotherModule),
// so that they show exactly what an application can write.

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/bascule/bascule/feature"
	"github.com/bascule/bascule/flagclient"
)

// Evaluate flags in-process for users described by a targeting key and
// attributes: checkout-v2 is on for company e-mail addresses.
func Example() {
	server := newExampleServer() // stands in for bascule's control address
	defer server.Close()

	ctx := context.Background()
	c, err := flagclient.New(ctx, flagclient.Options{URL: server.URL, APIKey: exampleKey})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ann := feature.EvalContext{TargetingKey: "user-ann", Attributes: map[string]any{"email": "ann@example.com"}}
	bob := feature.EvalContext{TargetingKey: "user-bob", Attributes: map[string]any{"email": "bob@gmail.com"}}
	fmt.Println("ann:", c.Bool("checkout-v2", false, ann))
	fmt.Println("bob:", c.Bool("checkout-v2", false, bob))
	fmt.Println("button:", c.String("button-color", "#000", bob))
	// Output:
	// ann: true
	// bob: false
	// button: #a00
}

// The Detail forms say why a value was served, with OpenFeature's reasons
// and error codes; on error the caller's default is served.
func ExampleClient_BoolDetail() {
	server := newExampleServer()
	defer server.Close()
	c, err := flagclient.New(context.Background(), flagclient.Options{URL: server.URL, APIKey: exampleKey})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ann := feature.EvalContext{TargetingKey: "user-ann", Attributes: map[string]any{"email": "ann@example.com"}}
	on, res := c.BoolDetail("checkout-v2", false, ann)
	fmt.Println(on, res.Variant, res.Reason)

	on, res = c.BoolDetail("no-such-flag", true, ann)
	fmt.Println(on, res.Reason, res.ErrorCode)

	// A percentage rollout needs a targeting key to place the user.
	anonymous := feature.EvalContext{Attributes: map[string]any{"email": "eve@gmail.com"}}
	on, res = c.BoolDetail("checkout-v2", false, anonymous)
	fmt.Println(on, res.ErrorCode == feature.ErrTargetingKeyMissing)
	// Output:
	// true on TARGETING_MATCH
	// true ERROR FLAG_NOT_FOUND
	// false true
}

// OnChange hears of every new version once it is in use: here the flag goes
// to 100 % on the server.
func ExampleClient_OnChange() {
	server := newExampleServer()
	defer server.Close()
	c, err := flagclient.New(context.Background(), flagclient.Options{
		URL: server.URL, APIKey: exampleKey,
		PollInterval: 20 * time.Millisecond, // the example server has no stream: poll it often
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	changed := make(chan int64, 1)
	c.OnChange(func(version int64) { changed <- version })

	bob := feature.EvalContext{TargetingKey: "user-bob", Attributes: map[string]any{"email": "bob@gmail.com"}}
	fmt.Println("bob before:", c.Bool("checkout-v2", false, bob))
	server.publish(exampleSnapshot(2, 100))
	fmt.Println("version", <-changed)
	fmt.Println("bob after:", c.Bool("checkout-v2", false, bob))
	// Output:
	// bob before: false
	// version 2
	// bob after: true
}

// The same flags through OpenFeature: the provider evaluates with the
// client, in-process.
func ExampleNewProvider() {
	server := newExampleServer()
	defer server.Close()
	ctx := context.Background()
	c, err := flagclient.New(ctx, flagclient.Options{URL: server.URL, APIKey: exampleKey})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	if err := openfeature.SetProviderAndWait(flagclient.NewProvider(c)); err != nil {
		log.Fatal(err)
	}
	defer openfeature.Shutdown()
	of := openfeature.NewDefaultClient()

	ann := openfeature.NewEvaluationContext("user-ann", map[string]any{"email": "ann@example.com"})
	d, err := of.BooleanValueDetails(ctx, "checkout-v2", false, ann)
	fmt.Println(d.Value, d.Variant, d.Reason, err)
	color, err := of.StringValue(ctx, "button-color", "#000", ann)
	fmt.Println(color, err)
	// Output:
	// true on TARGETING_MATCH <nil>
	// #a00 <nil>
}

// exampleKey is the API key the example server accepts.
const exampleKey = "eval-key"

// exampleSnapshot is version v of two flags: checkout-v2, on for company
// e-mail addresses and for percentOn % of everyone else, and button-color.
func exampleSnapshot(v int64, percentOn int) *feature.Snapshot {
	s, err := feature.NewSnapshot(v, []*feature.Flag{
		{Key: "checkout-v2", Enabled: true, Rules: []feature.Rule{
			{Segment: "internal-users", Variant: "on"},
			{Split: feature.Percent(percentOn * 1000)},
		}},
		{Key: "button-color", Enabled: true, Variants: map[string]any{"green": "#0a0", "red": "#a00"},
			OffVariant: "green", DefaultVariant: "red"},
	}, []*feature.Segment{{
		Key:        "internal-users",
		Conditions: []feature.Condition{{Attribute: "email", Op: feature.OpEndsWith, Values: []string{"@example.com"}}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	return s
}

// exampleServer serves a snapshot the way bascule does at
// GET /api/v1/flags/snapshot, with an ETag per version. It has no event
// stream, so clients poll it.
type exampleServer struct {
	*httptest.Server
	snap atomic.Pointer[feature.Snapshot]
}

func newExampleServer() *exampleServer {
	s := &exampleServer{}
	s.snap.Store(exampleSnapshot(1, 0))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/flags/snapshot", s.serveSnapshot)
	s.Server = httptest.NewServer(mux)
	return s
}

func (s *exampleServer) publish(snap *feature.Snapshot) { s.snap.Store(snap) }

func (s *exampleServer) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+exampleKey {
		http.Error(w, `{"error":{"code":"unauthorized","message":"invalid API key"}}`, http.StatusUnauthorized)
		return
	}
	snap := s.snap.Load()
	etag := `"v` + strconv.FormatInt(snap.Version, 10) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body, err := snap.MarshalJSON()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}
