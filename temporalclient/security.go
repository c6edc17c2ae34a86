package temporalclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.temporal.io/sdk/client"
)

// TLSOptions protect the connection to the frontend. The settings and
// their environment names are the temporal CLI's: TLS turns on when any of
// them is given (or an API key is), unless TEMPORAL_TLS is false.
type TLSOptions struct {
	Enabled Switch // TEMPORAL_TLS: on without further settings (server certificate checked against the system's roots)

	CertPath, KeyPath string // client certificate and key, for mTLS: TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY
	CAPath            string // the server's CA, when not in the system's roots: TEMPORAL_TLS_CA
	// PEM in the environment instead of files: TEMPORAL_TLS_CERT_DATA,
	// TEMPORAL_TLS_KEY_DATA, TEMPORAL_TLS_CA_DATA.
	CertData, KeyData, CAData string

	ServerName              string // the name the server certificate must carry: TEMPORAL_TLS_SERVER_NAME
	DisableHostVerification Switch // TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: accept any server certificate
}

// APIKeyOptions authenticate with an API key (Temporal Cloud, or a
// server with an authorizer that takes one).
type APIKeyOptions struct {
	Key  string // TEMPORAL_API_KEY
	File string // a file holding the key, so it is not in the process's arguments
	// AllowPlaintext sends the key over a connection without TLS, where
	// anyone on the path reads it; only for a TLS-terminating proxy on the
	// same host. CORSO_TEMPORAL_ALLOW_PLAINTEXT_API_KEY.
	AllowPlaintext Switch
}

// Switch is a yes/no setting that can also be unset, so an explicit "no"
// (TEMPORAL_TLS=false) is not mistaken for "not given". It is a boolean
// command-line flag.
type Switch string

// Set implements pflag.Value.
func (s *Switch) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%q is not true or false", v)
	}
	*s = Switch(strconv.FormatBool(b))
	return nil
}

// String, Type and IsBoolFlag implement pflag.Value as a boolean flag.
func (s *Switch) String() string   { return string(*s) }
func (s *Switch) Type() string     { return "bool" }
func (s *Switch) IsBoolFlag() bool { return true }

// value reads the switch; name says where it came from, for the error.
func (s Switch) value(name string) (set, on bool, err error) {
	if s == "" {
		return false, false, nil
	}
	b, err := strconv.ParseBool(string(s))
	if err != nil {
		return false, false, fmt.Errorf("%s=%q is not true or false", name, string(s))
	}
	return true, b, nil
}

// envNames maps each setting to the temporal CLI's environment variable
// and the name Temporal's client environment configuration uses for it.
var envNames = struct {
	tls, cert, key, ca, certData, keyData, caData, serverName, noHostVerify, apiKey, allowPlaintext []string
}{
	tls:            []string{"TEMPORAL_TLS"},
	cert:           []string{"TEMPORAL_TLS_CERT", "TEMPORAL_TLS_CLIENT_CERT_PATH"},
	key:            []string{"TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CLIENT_KEY_PATH"},
	ca:             []string{"TEMPORAL_TLS_CA", "TEMPORAL_TLS_SERVER_CA_CERT_PATH"},
	certData:       []string{"TEMPORAL_TLS_CERT_DATA", "TEMPORAL_TLS_CLIENT_CERT_DATA"},
	keyData:        []string{"TEMPORAL_TLS_KEY_DATA", "TEMPORAL_TLS_CLIENT_KEY_DATA"},
	caData:         []string{"TEMPORAL_TLS_CA_DATA", "TEMPORAL_TLS_SERVER_CA_CERT_DATA"},
	serverName:     []string{"TEMPORAL_TLS_SERVER_NAME"},
	noHostVerify:   []string{"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"},
	apiKey:         []string{"TEMPORAL_API_KEY"},
	allowPlaintext: []string{"CORSO_TEMPORAL_ALLOW_PLAINTEXT_API_KEY"},
}

// fromEnv fills the unset settings from the environment.
func (t TLSOptions) fromEnv() TLSOptions {
	fill(&t.CertPath, envNames.cert)
	fill(&t.KeyPath, envNames.key)
	fill(&t.CAPath, envNames.ca)
	fill(&t.CertData, envNames.certData)
	fill(&t.KeyData, envNames.keyData)
	fill(&t.CAData, envNames.caData)
	fill(&t.ServerName, envNames.serverName)
	fill((*string)(&t.Enabled), envNames.tls)
	fill((*string)(&t.DisableHostVerification), envNames.noHostVerify)
	return t
}

func (a APIKeyOptions) fromEnv() APIKeyOptions {
	if a.File == "" {
		fill(&a.Key, envNames.apiKey)
	}
	fill((*string)(&a.AllowPlaintext), envNames.allowPlaintext)
	return a
}

func fill(v *string, names []string) {
	for _, n := range names {
		if *v != "" {
			return
		}
		*v = strings.TrimSpace(os.Getenv(n))
	}
}

// given reports whether any setting asks for TLS.
func (t TLSOptions) given() bool {
	return t.CertPath != "" || t.KeyPath != "" || t.CAPath != "" || t.CertData != "" || t.KeyData != "" ||
		t.CAData != "" || t.ServerName != "" || t.DisableHostVerification != ""
}

// ErrPlaintextAPIKey is returned for an API key on a connection without
// TLS, which would carry it in clear text.
var ErrPlaintextAPIKey = errors.New("the Temporal API key would travel in clear text: TLS is off (--temporal-tls=false or TEMPORAL_TLS=false); " +
	"turn TLS on, or set CORSO_TEMPORAL_ALLOW_PLAINTEXT_API_KEY=true if a TLS-terminating proxy on this host carries it on")

// connection turns the settings into the SDK's connection options and
// credentials.
func (c Config) connection() (client.ConnectionOptions, client.Credentials, error) {
	var opts client.ConnectionOptions
	key, err := c.APIKey.key()
	if err != nil {
		return opts, nil, err
	}
	var creds client.Credentials
	if key != "" {
		creds = client.NewAPIKeyStaticCredentials(key)
	}
	t := c.TLS
	set, on, err := t.Enabled.value("TEMPORAL_TLS")
	if err != nil {
		return opts, nil, err
	}
	switch {
	case set && !on && t.given():
		return opts, nil, errors.New("TLS is off (--temporal-tls=false or TEMPORAL_TLS=false), yet TLS settings are given (TEMPORAL_TLS_*): drop one or the other")
	case !set:
		on = t.given() || key != ""
	}
	if !on {
		if key != "" {
			_, allow, err := c.APIKey.AllowPlaintext.value("CORSO_TEMPORAL_ALLOW_PLAINTEXT_API_KEY")
			if err != nil {
				return opts, nil, err
			}
			if !allow {
				return opts, nil, ErrPlaintextAPIKey
			}
			opts.TLSDisabled = true // else the SDK turns TLS on for the key
		}
		return opts, creds, nil
	}
	opts.TLS, err = t.config()
	return opts, creds, err
}

func (a APIKeyOptions) key() (string, error) {
	if a.File == "" {
		return a.Key, nil
	}
	b, err := os.ReadFile(a.File)
	if err != nil {
		return "", fmt.Errorf("--temporal-api-key-file: %w", err)
	}
	k := strings.TrimSpace(string(b))
	if k == "" {
		return "", fmt.Errorf("--temporal-api-key-file %s is empty", a.File)
	}
	return k, nil
}

func (t TLSOptions) config() (*tls.Config, error) {
	_, skip, err := t.DisableHostVerification.value("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION")
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: skip} //nolint:gosec // the operator asked for it by name
	ca, err := pemFrom("the server CA", t.CAPath, t.CAData, "TEMPORAL_TLS_CA")
	if err != nil {
		return nil, err
	}
	if ca != nil {
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(ca) {
			return nil, errors.New("the server CA (TEMPORAL_TLS_CA) holds no PEM certificate")
		}
	}
	cert, err := pemFrom("the client certificate", t.CertPath, t.CertData, "TEMPORAL_TLS_CERT")
	if err != nil {
		return nil, err
	}
	key, err := pemFrom("the client key", t.KeyPath, t.KeyData, "TEMPORAL_TLS_KEY")
	if err != nil {
		return nil, err
	}
	switch {
	case cert == nil && key == nil:
	case cert == nil || key == nil:
		return nil, errors.New("mTLS needs both a client certificate (TEMPORAL_TLS_CERT) and its key (TEMPORAL_TLS_KEY)")
	default:
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("client certificate and key (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY): %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// pemFrom reads PEM from a file or takes it as given; nil when neither is.
func pemFrom(what, path, data, env string) ([]byte, error) {
	switch {
	case path != "" && data != "":
		return nil, fmt.Errorf("%s is given both as a file and as data (%s and %s_DATA): give one", what, env, env)
	case data != "":
		return []byte(data), nil
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", what, env, err)
		}
		return b, nil
	}
	return nil, nil
}
