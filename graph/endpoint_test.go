package graph

import (
	"strings"
	"testing"
)

// The client secret and tokens travel to the endpoint: plain http is for
// this machine only.
func TestEndpointMustBeHTTPSUnlessLoopback(t *testing.T) {
	for endpoint, ok := range map[string]bool{
		"":                           true,
		"https://graph.example.com":  true,
		"https://10.0.0.5:9010/":     true,
		"http://127.0.0.1:9010":      true,
		"http://127.8.9.10:9010":     true,
		"http://[::1]:9010":          true,
		"http://localhost:9010/":     true,
		"http://LOCALHOST":           true,
		"http://10.0.0.5:9010":       false,
		"http://graph.example.com":   false,
		"http://0.0.0.0:9010":        false,
		"http://localhost.evil.com/": false,
		"ftp://127.0.0.1":            false,
		"127.0.0.1:9010":             false,
	} {
		_, err := CheckEndpoint(endpoint)
		if (err == nil) != ok {
			t.Errorf("CheckEndpoint(%q) = %v, want accepted %v", endpoint, err, ok)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("CheckEndpoint(%q): error is not one line: %q", endpoint, err)
		}
	}
	// The client refuses it too, before any secret is sent.
	_, err := New(Config{TenantID: "t", ClientID: "c", ClientSecret: "s", Endpoint: "http://graph.example.com"})
	if err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("New with a plain-http remote endpoint: %v", err)
	}
}
