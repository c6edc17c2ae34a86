package main

import (
	"encoding/json"
	"io"
	"net/url"
	"os"
	"strings"
)

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// webUILink points at the run in the Temporal Web UI when CORSO_TEMPORAL_UI
// says where that is.
func webUILink(g *globals, s submitted) string {
	base := strings.TrimRight(os.Getenv("CORSO_TEMPORAL_UI"), "/")
	if base == "" {
		return ""
	}
	return base + "/namespaces/" + url.PathEscape(g.temporal.Namespace) + "/workflows/" + url.PathEscape(s.WorkflowID)
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
