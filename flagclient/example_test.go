package flagclient_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/bascule/bascule/flagclient"
	"github.com/bascule/bascule/internal/flag"
)

func Example() {
	server := exampleServer() // stands in for bascule's control address
	defer server.Close()

	ctx := context.Background()
	c, err := flagclient.New(ctx, flagclient.Options{URL: server.URL, APIKey: "eval-key"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ann := flag.EvalContext{TargetingKey: "user-ann", Attributes: map[string]any{"email": "ann@example.com"}}
	bob := flag.EvalContext{TargetingKey: "user-bob", Attributes: map[string]any{"email": "bob@gmail.com"}}
	fmt.Println("ann:", c.Bool("checkout-v2", false, ann))
	fmt.Println("bob:", c.Bool("checkout-v2", false, bob))

	// The same flags through OpenFeature.
	if err := openfeature.SetProviderAndWait(flagclient.NewProvider(c)); err != nil {
		log.Fatal(err)
	}
	defer openfeature.Shutdown()
	of := openfeature.NewDefaultClient()
	d, _ := of.BooleanValueDetails(ctx, "checkout-v2", false,
		openfeature.NewEvaluationContext("user-ann", map[string]any{"email": "ann@example.com"}))
	fmt.Println("ann via OpenFeature:", d.Value, d.Reason)
	// Output:
	// ann: true
	// bob: false
	// ann via OpenFeature: true TARGETING_MATCH
}

// exampleServer serves one snapshot the way bascule does: checkout-v2 is on
// for company e-mail addresses only. It has no stream, so the client polls.
func exampleServer() *httptest.Server {
	s, err := flag.NewSnapshot(1, []*flag.Flag{{
		Key: "checkout-v2", Enabled: true,
		Rules: []flag.Rule{{Segment: "internal-users", Variant: "on"}},
	}}, []*flag.Segment{{
		Key:        "internal-users",
		Conditions: []flag.Condition{{Attribute: "email", Op: flag.OpEndsWith, Values: []string{"@example.com"}}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/flags/snapshot", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body, _ := s.MarshalJSON()
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	return httptest.NewServer(mux)
}
