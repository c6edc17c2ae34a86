package main

import (
	"context"
	"strings"
	"testing"
)

// The client secret and tokens travel to the Graph endpoint: a worker
// refuses plain http to another machine before it does anything else.
func TestWorkerRefusesPlainHTTPGraphEndpoint(t *testing.T) {
	err := run(context.Background(), options{logLevel: "info", graphEndpoint: "http://graph.example.com:9010"})
	if err == nil || !strings.Contains(err.Error(), "CORSO_GRAPH_ENDPOINT") || !strings.Contains(err.Error(), "https") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("run: %v, want a one-line error about CORSO_GRAPH_ENDPOINT needing https", err)
	}
}
