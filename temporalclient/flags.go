package temporalclient

import "github.com/spf13/pflag"

// AddFlags registers the connection flags every corso command that talks
// to Temporal has; each falls back to its environment variable (FromEnv).
func (c *Config) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Address, "temporal-address", "", "Temporal frontend host:port (env TEMPORAL_ADDRESS, default "+DefaultAddress+")")
	fs.StringVar(&c.Namespace, "namespace", "", "Temporal namespace (env TEMPORAL_NAMESPACE, default "+DefaultNamespace+")")
	boolFlag(fs, &c.TLS.Enabled, "temporal-tls", "connect to Temporal over TLS (env TEMPORAL_TLS; on by default when any --temporal-tls-* setting or an API key is given)")
	fs.StringVar(&c.TLS.CertPath, "temporal-tls-cert-path", "", "client certificate for mTLS, PEM (env TEMPORAL_TLS_CERT, or TEMPORAL_TLS_CERT_DATA with the PEM itself)")
	fs.StringVar(&c.TLS.KeyPath, "temporal-tls-key-path", "", "client certificate's private key, PEM (env TEMPORAL_TLS_KEY, or TEMPORAL_TLS_KEY_DATA)")
	fs.StringVar(&c.TLS.CAPath, "temporal-tls-ca-path", "", "CA that signed the server's certificate, PEM, when not in the system's roots (env TEMPORAL_TLS_CA, or TEMPORAL_TLS_CA_DATA)")
	fs.StringVar(&c.TLS.ServerName, "temporal-tls-server-name", "", "name the server's certificate must carry, when not the address's host (env TEMPORAL_TLS_SERVER_NAME)")
	boolFlag(fs, &c.TLS.DisableHostVerification, "temporal-tls-disable-host-verification", "accept any server certificate (env TEMPORAL_TLS_DISABLE_HOST_VERIFICATION); for tests only")
	fs.StringVar(&c.APIKey.File, "temporal-api-key-file", "", "file holding a Temporal API key (env TEMPORAL_API_KEY holds the key itself); turns TLS on")
}

func boolFlag(fs *pflag.FlagSet, s *Switch, name, usage string) {
	fs.VarPF(s, name, "", usage).NoOptDefVal = "true"
}
