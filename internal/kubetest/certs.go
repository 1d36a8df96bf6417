package kubetest

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
	"os"
	"path/filepath"
	"time"
)

// keyPair is a certificate and its private key, PEM-encoded.
type keyPair struct {
	cert, key []byte
	parsed    *x509.Certificate
	signer    *ecdsa.PrivateKey
}

// certificates are everything the control plane's TLS needs, made fresh by
// each Launch: nothing is shared between test runs or checked in.
type certificates struct {
	ca        keyPair // signs the serving and the client certificates
	serving   keyPair // kube-apiserver's, for 127.0.0.1 and localhost
	admin     keyPair // the tests' client: group system:masters
	manager   keyPair // kube-controller-manager's client: system:masters too
	kubelet   keyPair // kube-apiserver's client of the kubelets (pods/log)
	saKey     []byte  // signs service-account tokens (PEM private key)
	notBefore time.Time
}

func newCertificates() (*certificates, error) {
	c := &certificates{notBefore: time.Now().Add(-time.Hour)}
	var err error
	if c.ca, err = c.issue(nil, caTemplate()); err != nil {
		return nil, fmt.Errorf("create CA: %w", err)
	}
	if c.serving, err = c.issue(&c.ca, servingTemplate()); err != nil {
		return nil, fmt.Errorf("create serving certificate: %w", err)
	}
	if c.admin, err = c.issue(&c.ca, clientTemplate("kubetest-admin")); err != nil {
		return nil, fmt.Errorf("create admin certificate: %w", err)
	}
	if c.manager, err = c.issue(&c.ca, clientTemplate("system:kube-controller-manager")); err != nil {
		return nil, fmt.Errorf("create controller-manager certificate: %w", err)
	}
	if c.kubelet, err = c.issue(&c.ca, clientTemplate("kube-apiserver-kubelet-client")); err != nil {
		return nil, fmt.Errorf("create kubelet-client certificate: %w", err)
	}
	sa, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create service-account key: %w", err)
	}
	if c.saKey, err = encodeKey(sa); err != nil {
		return nil, err
	}
	return c, nil
}

func caTemplate() *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: "kubetest-ca"},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
}

func servingTemplate() *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
	}
}

// kubeletServingTemplate is a Kubelet's serving certificate, for its
// node's address: the API server checks it when it fetches logs.
func kubeletServingTemplate(ip net.IP) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kubetest-kubelet"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{ip},
	}
}

// clientTemplate is a client certificate in group system:masters, which
// the API server's RBAC authorizer lets do anything: the tests and the
// controller manager administer the cluster. A test that checks what
// bascule's own RBAC allows creates a restricted identity of its own.
func clientTemplate(user string) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: []string{"system:masters"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

// issue signs tmpl with parent's key, or self-signs it when parent is nil.
func (c *certificates) issue(parent *keyPair, tmpl *x509.Certificate) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return keyPair{}, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = c.notBefore
	tmpl.NotAfter = c.notBefore.Add(24 * time.Hour)
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.parsed, parent.signer
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, &key.PublicKey, signer)
	if err != nil {
		return keyPair{}, err
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return keyPair{}, err
	}
	return keyPair{
		cert:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:    keyPEM,
		parsed: parsed,
		signer: key,
	}, nil
}

func encodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// write puts the files the programs read into dir and returns their paths.
func (c *certificates) write(dir string) (certFiles, error) {
	f := certFiles{
		ca:          filepath.Join(dir, "ca.crt"),
		servingCert: filepath.Join(dir, "apiserver.crt"),
		servingKey:  filepath.Join(dir, "apiserver.key"),
		saKey:       filepath.Join(dir, "sa.key"),
		kubeletCert: filepath.Join(dir, "kubelet-client.crt"),
		kubeletKey:  filepath.Join(dir, "kubelet-client.key"),
	}
	for path, data := range map[string][]byte{
		f.ca: c.ca.cert, f.servingCert: c.serving.cert, f.servingKey: c.serving.key, f.saKey: c.saKey,
		f.kubeletCert: c.kubelet.cert, f.kubeletKey: c.kubelet.key,
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return certFiles{}, fmt.Errorf("write %s: %w", filepath.Base(path), err)
		}
	}
	return f, nil
}

// certFiles are the paths of the files write made.
type certFiles struct {
	ca, servingCert, servingKey, saKey string
	kubeletCert, kubeletKey            string
}
