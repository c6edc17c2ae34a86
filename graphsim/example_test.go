package graphsim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/corso-temporal/corso/graphsim"
)

// graphRedirect sends graph.microsoft.com traffic to the simulator, the way
// the product's Graph client is wired for it: URLs, including the
// nextLink/deltaLink the simulator mints, keep the Graph host.
type graphRedirect struct{ sim *url.URL }

func (g graphRedirect) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.EqualFold(r.URL.Hostname(), "graph.microsoft.com") {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = g.sim.Scheme, g.sim.Host, g.sim.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

func ExampleNew() {
	sim := graphsim.New(graphsim.Options{
		Tenant:       graphsim.TenantOptions{Seed: 1, Users: 3, ItemsPerUser: 50},
		ClientID:     "app",
		ClientSecret: "secret",
	})
	defer sim.Close()
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	// Client credentials, as azidentity would post them.
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"},
		"client_secret": {"secret"}, "scope": {"https://graph.microsoft.com/.default"}}
	resp, _ := http.PostForm(srv.URL+"/"+sim.TenantID()+"/oauth2/v2.0/token", form)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	target, _ := url.Parse(srv.URL)
	client := &http.Client{Transport: graphRedirect{target}}
	req, _ := http.NewRequest(http.MethodGet, "https://graph.microsoft.com/v1.0/users?$select=id", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, _ = client.Do(req)
	var users struct {
		Value []map[string]any `json:"value"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&users)
	resp.Body.Close()
	// The 3 generated users, then the 9 special users every tenant has
	// unless TenantOptions.Clean is set.
	fmt.Println(resp.StatusCode, len(users.Value))
	// Output: 200 12
}
