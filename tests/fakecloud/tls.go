package fakecloud

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// The tls provider's resources are computed for real, and deterministically
// (so two renders compare equal): a P-256 key derived from the resource's
// name, and a CA certificate signed with RFC 6979 signatures, valid from a
// fixed instant. Tests can then parse, chain and verify what the program
// hands CloudNativePG, cert-manager and the other region.

// Epoch is when every fake certificate's validity starts.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// plain is the string under a secret (the program passes keys as secrets).
func plain(in resource.PropertyMap, key string) string {
	v, ok := in[resource.PropertyKey(key)]
	if !ok {
		return ""
	}
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

// PrivateKey is the tls provider's outputs for a key of this name.
func PrivateKey(name string) (map[string]any, error) {
	seed := sha256.Sum256([]byte("fakecloud tls key " + name))
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), seed[:])
	if err != nil {
		return nil, err
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	enc := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }
	return map[string]any{
		"privateKeyPem":      enc("EC PRIVATE KEY", sec1),
		"privateKeyPemPkcs8": enc("PRIVATE KEY", pkcs8),
		"publicKeyPem":       enc("PUBLIC KEY", pub),
	}, nil
}

// SelfSignedCert is the tls provider's outputs for a self-signed
// certificate of these inputs (privateKeyPem, subject.commonName,
// isCaCertificate, validityPeriodHours).
func SelfSignedCert(name string, in resource.PropertyMap) (map[string]any, error) {
	block, _ := pem.Decode([]byte(plain(in, "privateKeyPem")))
	if block == nil {
		return nil, fmt.Errorf("selfSignedCert %s: privateKeyPem is not PEM", name)
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("selfSignedCert %s: %w", name, err)
	}
	subject := pkix.Name{}
	if s, ok := in["subject"]; ok && s.IsObject() {
		o := s.ObjectValue()
		subject.CommonName = plain(o, "commonName")
		if org := plain(o, "organization"); org != "" {
			subject.Organization = []string{org}
		}
	}
	hours := 24.0
	if v, ok := in["validityPeriodHours"]; ok && v.IsNumber() {
		hours = v.NumberValue()
	}
	isCA := false
	if v, ok := in["isCaCertificate"]; ok && v.IsBool() {
		isCA = v.BoolValue()
	}
	serial := sha256.Sum256([]byte("fakecloud serial " + name))
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial[:16]), Subject: subject,
		NotBefore: Epoch, NotAfter: Epoch.Add(time.Duration(hours) * time.Hour),
		IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, &key.PublicKey, key) // nil: RFC 6979
	if err != nil {
		return nil, fmt.Errorf("selfSignedCert %s: %w", name, err)
	}
	return map[string]any{
		"certPem":           string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"keyAlgorithm":      "ECDSA",
		"validityStartTime": tmpl.NotBefore.Format(time.RFC3339),
		"validityEndTime":   tmpl.NotAfter.Format(time.RFC3339),
		"readyForRenewal":   false,
	}, nil
}

// CACertPEM is the certificate the tls provider's fake gives the CA that
// internal/pki creates as name (its key is name+"-key"), valid for hours:
// what a peer stack the mocks stand for would export.
func CACertPEM(name, commonName, organization string, hours int) (string, error) {
	key, err := PrivateKey(name + "-key")
	if err != nil {
		return "", err
	}
	cert, err := SelfSignedCert(name, resource.NewPropertyMapFromMap(map[string]any{
		"privateKeyPem":       key["privateKeyPem"],
		"subject":             map[string]any{"commonName": commonName, "organization": organization},
		"validityPeriodHours": hours,
		"isCaCertificate":     true,
	}))
	if err != nil {
		return "", err
	}
	return cert["certPem"].(string), nil
}
