package env

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// clusterCertValidity is long enough for any test run and short enough that a
// leaked temp dir holds nothing useful for long.
const clusterCertValidity = 24 * time.Hour

// ca is the throwaway certificate authority that signs the apiserver's
// serving certificate and every client certificate; the apiserver trusts it
// through --client-ca-file.
type clusterCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
}

// clusterKeyPair is a PEM certificate and its PEM private key.
type clusterKeyPair struct {
	CertPEM, KeyPEM []byte
}

// newClusterCA is the package's test CA (NewCA), kept with its key to
// sign the apiserver's serving and client certificates.
func newClusterCA() (*clusterCA, error) {
	ca, err := NewCA("regcheck-e2e-ca")
	if err != nil {
		return nil, err
	}
	return &clusterCA{cert: ca.Cert, key: ca.Key, certPEM: ca.CertPEM}, nil
}

// serving issues a TLS server certificate for the given names and IPs.
func (c *clusterCA) serving(cn string, dnsNames []string, ips []net.IP) (clusterKeyPair, error) {
	return c.issue(pkix.Name{CommonName: cn}, x509.ExtKeyUsageServerAuth, dnsNames, ips)
}

// client issues a client certificate; the apiserver maps CN to the user
// name and O to groups.
func (c *clusterCA) client(cn string, groups ...string) (clusterKeyPair, error) {
	return c.issue(pkix.Name{CommonName: cn, Organization: groups}, x509.ExtKeyUsageClientAuth, nil, nil)
}

func (c *clusterCA) issue(subject pkix.Name, usage x509.ExtKeyUsage, dnsNames []string, ips []net.IP) (clusterKeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return clusterKeyPair{}, fmt.Errorf("generating key for %s: %w", subject.CommonName, err)
	}
	serial, err := clusterSerial()
	if err != nil {
		return clusterKeyPair{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(clusterCertValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     dnsNames,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		return clusterKeyPair{}, fmt.Errorf("signing certificate for %s: %w", subject.CommonName, err)
	}
	keyPEM, err := clusterKeyPEM(key)
	if err != nil {
		return clusterKeyPair{}, err
	}
	return clusterKeyPair{CertPEM: clusterPEMBlock("CERTIFICATE", der), KeyPEM: keyPEM}, nil
}

// newServiceAccountKey returns a PEM ECDSA key the apiserver signs service
// account tokens with (ES256) and the controller manager signs legacy token
// secrets with.
func newServiceAccountKey() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating service account key: %w", err)
	}
	return clusterKeyPEM(key)
}

func clusterKeyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding EC key: %w", err)
	}
	return clusterPEMBlock("EC PRIVATE KEY", der), nil
}

func clusterPEMBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func clusterSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating certificate serial: %w", err)
	}
	return n, nil
}
