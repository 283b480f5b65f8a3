// Package pki makes the program's certificate authorities: an ECDSA P-256
// key and a self-signed CA certificate held in the stack's state (the key a
// Pulumi secret), whose leaf certificates the in-cluster issuers
// (CloudNativePG, cert-manager) sign and renew. Holding the root in the
// state rather than inside one cluster is what lets the other region trust
// it (its certificate is a stack output), lets a namespace that must not
// hold the key trust it (a ConfigMap of the certificate alone), and brings a
// rebuilt region back with the same root, so nothing that trusted it must
// change.
package pki

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-tls/sdk/v5/go/tls"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// ValidityHours: a CA lives 10 years.
	ValidityHours = 87600
	// EarlyRenewalHours: in its last year the next `pulumi up` re-issues the
	// CA certificate with the same key and subject, so the leaves it signed
	// before keep verifying against either certificate.
	EarlyRenewalHours = 8760
	// Organization is every CA's subject organisation.
	Organization = "T.A.R.S."
)

// Uses are the CA certificate's key usages (the tls provider's names).
var Uses = []string{"cert_signing", "crl_signing", "digital_signature"}

// CA is one certificate authority.
type CA struct {
	// CertPEM is the CA certificate, PEM: public, what clients trust.
	CertPEM pulumi.StringOutput
	// KeyPEM is its private key, PEM "EC PRIVATE KEY" (SEC1, the form
	// CloudNativePG and cert-manager read): a Pulumi secret.
	KeyPEM pulumi.StringOutput
}

// New creates the key and the CA certificate named commonName. The key is
// replaced only if the resource is deleted; the certificate is re-issued
// with the same key in its last EarlyRenewalHours.
func New(ctx *pulumi.Context, name, commonName string, opts ...pulumi.ResourceOption) (*CA, error) {
	if commonName == "" {
		return nil, fmt.Errorf("pki %s: the CA needs a common name", name)
	}
	key, err := tls.NewPrivateKey(ctx, name+"-key", &tls.PrivateKeyArgs{
		Algorithm: pulumi.String("ECDSA"), EcdsaCurve: pulumi.String("P256"),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("pki %s: key: %w", name, err)
	}
	cert, err := tls.NewSelfSignedCert(ctx, name, &tls.SelfSignedCertArgs{
		PrivateKeyPem:       key.PrivateKeyPem,
		IsCaCertificate:     pulumi.Bool(true),
		Subject:             &tls.SelfSignedCertSubjectArgs{CommonName: pulumi.String(commonName), Organization: pulumi.String(Organization)},
		ValidityPeriodHours: pulumi.Int(ValidityHours),
		EarlyRenewalHours:   pulumi.Int(EarlyRenewalHours),
		AllowedUses:         pulumi.ToStringArray(Uses),
		SetSubjectKeyId:     pulumi.Bool(true),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("pki %s: certificate: %w", name, err)
	}
	return &CA{CertPEM: cert.CertPem, KeyPEM: pulumi.ToSecret(key.PrivateKeyPem).(pulumi.StringOutput)}, nil
}

// ParseCACert checks that pemText is one PEM CA certificate (what a peer
// region exports as its server CA).
func ParseCACert(pemText string) error {
	block, rest := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "CERTIFICATE" {
		return fmt.Errorf("is not a PEM certificate")
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return fmt.Errorf("holds more than one PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("is not an X.509 certificate: %w", err)
	}
	if !cert.IsCA {
		return fmt.Errorf("is the certificate of %q, which is not a CA", cert.Subject.CommonName)
	}
	return nil
}
