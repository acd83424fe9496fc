package arbiter

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
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Certificate files in a certificate directory (palisade-arbiter certs):
//
//	ca.pem, ca.key               the arbiter's own CA (key mode 0600)
//	server.pem, server.key       the arbiter's server certificate
//	<cluster>.pem, <cluster>.key a cluster's client certificate, CommonName = cluster name
//
// The arbiter trusts only client certificates of its CA and lets a
// connection speak only for the cluster named in its certificate. Copy
// ca.pem and the cluster's pair to every node of that cluster.
const (
	CAFile         = "ca.pem"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.pem"
	ServerKeyFile  = "server.key"
	certValidity   = 10 * 365 * 24 * time.Hour
)

// CertPaths names the files of one certificate.
type CertPaths struct{ Cert, Key string }

// ClientCertPaths are the client certificate files for cluster in dir.
func ClientCertPaths(dir, cluster string) CertPaths {
	return CertPaths{filepath.Join(dir, cluster+".pem"), filepath.Join(dir, cluster+".key")}
}

// EnsureCA creates the CA in dir unless it exists, and returns it.
func EnsureCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, bool, error) {
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	if _, err := os.Stat(certPath); err == nil {
		cert, key, err := loadPair(certPath, keyPath)
		return cert, key, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, false, fmt.Errorf("creating certificate directory: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, false, fmt.Errorf("generating CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "palisade-arbiter CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, false, fmt.Errorf("creating CA certificate: %w", err)
	}
	if err := writePair(certPath, keyPath, der, key); err != nil {
		return nil, nil, false, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, true, err
}

// IssueServer writes server.pem/server.key for the given host names and
// IP addresses, unless they exist.
func IssueServer(dir string, hosts []string) (bool, error) {
	certPath, keyPath := filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile)
	if _, err := os.Stat(certPath); err == nil {
		return false, nil
	}
	if len(hosts) == 0 {
		return false, errors.New("server certificate: give at least one host name or address the nodes will dial")
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: hosts[0]}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return true, issue(dir, tmpl, certPath, keyPath)
}

// IssueClient writes the client certificate of cluster, unless it exists.
func IssueClient(dir, cluster string) (bool, error) {
	if err := checkName("cluster", cluster); err != nil {
		return false, err
	}
	p := ClientCertPaths(dir, cluster)
	if _, err := os.Stat(p.Cert); err == nil {
		return false, nil
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cluster, OrganizationalUnit: []string{"palisade cluster"}}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	return true, issue(dir, tmpl, p.Cert, p.Key)
}

func issue(dir string, tmpl *x509.Certificate, certPath, keyPath string) error {
	ca, caKey, err := loadPair(filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile))
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generating key for %s: %w", certPath, err)
	}
	tmpl.SerialNumber = serial()
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(certValidity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("signing %s: %w", certPath, err)
	}
	return writePair(certPath, keyPath, der, key)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func writePair(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", keyPath, err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", certPath, err)
	}
	return nil
}

func loadPair(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	pair, err := loadKeyPair(certPath, keyPath)
	if err != nil {
		return nil, nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("%s: not an ECDSA key", keyPath)
	}
	return pair.Leaf, key, nil
}

// checkKeyFile refuses a private key file that others can read.
func checkKeyFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s: mode %04o: a private key must not be readable by group or others; chmod 600 %s", path, st.Mode().Perm(), path)
	}
	return nil
}

func loadKeyPair(certPath, keyPath string) (tls.Certificate, error) {
	if err := checkKeyFile(keyPath); err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return pair, fmt.Errorf("loading %s / %s: %w", certPath, keyPath, err)
	}
	return pair, nil
}

func loadPool(caPath string) (*x509.CertPool, error) {
	b, err := os.ReadFile(caPath)
	if err != nil {
		return nil, fmt.Errorf("reading CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate", caPath)
	}
	return pool, nil
}

// ServerTLS loads the arbiter's TLS configuration: its certificate, and
// client certificates required and verified against the CA.
func ServerTLS(caPath, certPath, keyPath string) (*tls.Config, error) {
	pool, err := loadPool(caPath)
	if err != nil {
		return nil, err
	}
	pair, err := loadKeyPair(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}, nil
}

// ClientTLS loads a node's TLS configuration for the arbiter: the
// cluster's client certificate and the CA that signed the arbiter's.
func ClientTLS(caPath, certPath, keyPath, serverName string) (*tls.Config, error) {
	pool, err := loadPool(caPath)
	if err != nil {
		return nil, err
	}
	pair, err := loadKeyPair(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{pair},
		RootCAs:      pool,
		ServerName:   serverName,
	}, nil
}
