package temporalclient

import (
	"errors"
	"strings"
	"testing"
)

// clearTemporalEnv unsets every variable FromEnv reads, so the tests see
// only what they set.
func clearTemporalEnv(t *testing.T) {
	t.Helper()
	for _, names := range [][]string{envNames.tls, envNames.cert, envNames.key, envNames.ca, envNames.certData, envNames.keyData,
		envNames.caData, envNames.serverName, envNames.noHostVerify, envNames.apiKey, envNames.allowPlaintext} {
		for _, n := range names {
			t.Setenv(n, "")
		}
	}
}

func TestAPIKeyNeverTravelsInClearText(t *testing.T) {
	clearTemporalEnv(t)
	t.Setenv("TEMPORAL_API_KEY", "tk-0a1b2c3d")

	// An API key alone turns TLS on.
	opts, creds, err := Config{}.FromEnv().connection()
	if err != nil {
		t.Fatal(err)
	}
	if creds == nil || opts.TLS == nil || opts.TLSDisabled {
		t.Fatalf("API key without TLS settings: credentials %v, TLS %v, TLS disabled %v; want the key over TLS", creds, opts.TLS, opts.TLSDisabled)
	}

	// TLS turned off explicitly: refused, unless allowed by name.
	t.Setenv("TEMPORAL_TLS", "false")
	if _, _, err := (Config{}).FromEnv().connection(); !errors.Is(err, ErrPlaintextAPIKey) {
		t.Fatalf("API key with TEMPORAL_TLS=false: %v, want %v", err, ErrPlaintextAPIKey)
	}
	var flagOff Config
	if err := flagOff.TLS.Enabled.Set("false"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEMPORAL_TLS", "")
	if _, _, err := flagOff.FromEnv().connection(); !errors.Is(err, ErrPlaintextAPIKey) {
		t.Fatalf("API key with --temporal-tls=false: %v, want %v", err, ErrPlaintextAPIKey)
	}
	t.Setenv("CORSO_TEMPORAL_ALLOW_PLAINTEXT_API_KEY", "true")
	opts, creds, err = flagOff.FromEnv().connection()
	if err != nil || creds == nil || opts.TLS != nil || !opts.TLSDisabled {
		t.Fatalf("allowed plaintext API key: err %v, credentials %v, TLS %v, TLS disabled %v", err, creds, opts.TLS, opts.TLSDisabled)
	}
}

func TestTLSSettingsComeFromTheTemporalCLIVariables(t *testing.T) {
	clearTemporalEnv(t)
	// Nothing set: plaintext, as the dev stack serves.
	opts, creds, err := Config{}.FromEnv().connection()
	if err != nil || opts.TLS != nil || creds != nil {
		t.Fatalf("no settings: TLS %v, credentials %v, err %v", opts.TLS, creds, err)
	}

	t.Setenv("TEMPORAL_TLS", "true")
	t.Setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.example.com")
	opts, _, err = Config{}.FromEnv().connection()
	if err != nil || opts.TLS == nil || opts.TLS.ServerName != "temporal.example.com" || opts.TLS.InsecureSkipVerify {
		t.Fatalf("TEMPORAL_TLS=true with a server name: %+v %v", opts.TLS, err)
	}
	t.Setenv("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "true")
	if opts, _, err = (Config{}).FromEnv().connection(); err != nil || !opts.TLS.InsecureSkipVerify {
		t.Fatalf("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=true: %+v %v", opts.TLS, err)
	}

	// Flags win over the environment.
	c := Config{TLS: TLSOptions{ServerName: "from-flag"}}.FromEnv()
	if c.TLS.ServerName != "from-flag" {
		t.Errorf("flag server name replaced by the environment: %q", c.TLS.ServerName)
	}

	// The client environment configuration's names work too.
	clearTemporalEnv(t)
	t.Setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", "/etc/temporal/client.pem")
	t.Setenv("TEMPORAL_TLS_KEY", "/etc/temporal/client.key")
	t.Setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", "/etc/temporal/ca.pem")
	c = Config{}.FromEnv()
	if c.TLS.CertPath != "/etc/temporal/client.pem" || c.TLS.KeyPath != "/etc/temporal/client.key" || c.TLS.CAPath != "/etc/temporal/ca.pem" {
		t.Errorf("paths from the environment: %+v", c.TLS)
	}
}

func TestContradictoryTLSSettingsAreOneClearError(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"TLS off with a CA":       {"TEMPORAL_TLS": "false", "TEMPORAL_TLS_CA": "/ca.pem"},
		"TLS neither on nor off":  {"TEMPORAL_TLS": "maybe"},
		"certificate without key": {"TEMPORAL_TLS_CERT_DATA": "-----BEGIN CERTIFICATE-----"},
		"CA as file and data":     {"TEMPORAL_TLS_CA": "/ca.pem", "TEMPORAL_TLS_CA_DATA": "x"},
		"CA that is not PEM":      {"TEMPORAL_TLS_CA_DATA": "not a certificate"},
		"missing CA file":         {"TEMPORAL_TLS_CA": "/nonexistent/ca.pem"},
	} {
		t.Run(name, func(t *testing.T) {
			clearTemporalEnv(t)
			for k, v := range env {
				t.Setenv(k, v)
			}
			_, _, err := Config{}.FromEnv().connection()
			if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "TEMPORAL_TLS") {
				t.Fatalf("want one line naming the TEMPORAL_TLS setting, got %v", err)
			}
		})
	}
}
