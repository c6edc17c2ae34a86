package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// stackTLS is the certificates of a stack whose Temporal frontend speaks
// mTLS: a CA, the frontend's certificate for 127.0.0.1 and localhost, and
// one client certificate that the CLI, the workers, the Web UI and the
// server's own system workers present.
type stackTLS struct {
	dir string
}

const (
	tlsCA         = "ca.pem"
	tlsServerCert = "server.pem"
	tlsServerKey  = "server-key.pem"
	tlsClientCert = "client.pem"
	tlsClientKey  = "client-key.pem"
)

func (s stackTLS) path(name string) string { return filepath.Join(s.dir, name) }

// Env points clients at the client certificate with the temporal CLI's
// variable names, which corso reads too.
func (s stackTLS) Env() []envVar {
	return []envVar{
		{"TEMPORAL_TLS_CA", s.path(tlsCA)},
		{"TEMPORAL_TLS_CERT", s.path(tlsClientCert)},
		{"TEMPORAL_TLS_KEY", s.path(tlsClientKey)},
	}
}

// clientConfig is what the stack's own connection to the frontend uses.
func (s stackTLS) clientConfig() (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(s.path(tlsClientCert), s.path(tlsClientKey))
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(s.path(tlsCA))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s holds no PEM certificate", s.path(tlsCA))
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, Certificates: []tls.Certificate{pair}}, nil
}

// openStackTLS uses the certificates in dir, or creates them all when dir
// holds none of them. A partial set is an error: replacing the CA would
// strand the certificates issued from it.
func openStackTLS(dir string) (stackTLS, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return stackTLS{}, err
	}
	s := stackTLS{dir: dir}
	names := []string{tlsCA, tlsServerCert, tlsServerKey, tlsClientCert, tlsClientKey}
	var have, missing []string
	for _, n := range names {
		switch _, err := os.Stat(s.path(n)); {
		case err == nil:
			have = append(have, n)
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, n)
		default:
			return stackTLS{}, err
		}
	}
	switch {
	case len(missing) == 0:
		return s, nil
	case len(have) > 0:
		return stackTLS{}, fmt.Errorf("--tls-dir %s has %v but lacks %v: give all five or an empty directory", dir, have, missing)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return stackTLS{}, err
	}
	return s, s.generate()
}

// generate issues the CA, the server and the client certificate, valid for
// a year.
func (s stackTLS) generate() error {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	ca := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "corso-dev CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := s.issue(ca, ca, caKey, caKey, tlsCA, "")
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	leaf := func(cn string, usage x509.ExtKeyUsage, certName, keyName string) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			Subject:     pkix.Name{CommonName: cn},
			NotBefore:   now.Add(-time.Hour),
			NotAfter:    now.AddDate(1, 0, 0),
			KeyUsage:    x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.IPAddresses = []net.IP{net.ParseIP(host), net.IPv6loopback}
			tmpl.DNSNames = []string{"localhost"}
		}
		_, err = s.issue(tmpl, caCert, key, caKey, certName, keyName)
		return err
	}
	if err := leaf("corso-dev temporal frontend", x509.ExtKeyUsageServerAuth, tlsServerCert, tlsServerKey); err != nil {
		return err
	}
	return leaf("corso-dev client", x509.ExtKeyUsageClientAuth, tlsClientCert, tlsClientKey)
}

// issue signs tmpl with parent's key and writes the certificate, and the
// certificate's own key when keyName is set.
func (s stackTLS) issue(tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey, certName, keyName string) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, fmt.Errorf("issue %s: %w", certName, err)
	}
	if err := writeFileAtomic(s.path(certName), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, err
	}
	if keyName == "" {
		return der, nil // the CA's key is not kept: nothing more is issued from it
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return der, writeFileAtomic(s.path(keyName), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
}
