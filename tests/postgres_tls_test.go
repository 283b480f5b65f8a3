package tests

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/stacks"
	"github.com/tars-platform/infra/tests/harness"
	"github.com/tars-platform/infra/tests/pgserver"
)

// cnpgServerLeaf signs the server certificate CloudNativePG 1.30.0 issues
// from a user-provided serverCASecret (pkg/certs: ParseCASecret wants ca.crt
// and ca.key matching, ParseECPrivateKey a PEM "EC PRIVATE KEY";
// CreateAndSignPair makes an ECDSA P-256 leaf for server auth whose names
// are the -rw, -r and -ro Services' (Cluster.GetClusterAltDNSNames) plus
// spec.certificates.serverAltDNSNames).
func cnpgServerLeaf(t *testing.T, caCrt, caKey, cluster, namespace string, altNames []string) (certPEM, keyPEM []byte) {
	t.Helper()
	_, err := tls.X509KeyPair([]byte(caCrt), []byte(caKey))
	require.NoError(t, err, "CloudNativePG's ParseCASecret: ca.crt and ca.key must match")
	block, _ := pem.Decode([]byte(caKey))
	require.NotNil(t, block)
	require.Equal(t, "EC PRIVATE KEY", block.Type, "CloudNativePG's ParseECPrivateKey reads only SEC1 EC keys")
	caPriv, err := x509.ParseECPrivateKey(block.Bytes)
	require.NoError(t, err)
	cb, _ := pem.Decode([]byte(caCrt))
	require.NotNil(t, cb)
	ca, err := x509.ParseCertificate(cb.Bytes)
	require.NoError(t, err)

	names := []string{}
	for _, svc := range []string{"-rw", "-r", "-ro"} {
		s := cluster + svc
		names = append(names, s, s+"."+namespace, s+"."+namespace+".svc", s+"."+namespace+".svc.cluster.local")
	}
	names = append(names, altNames...)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(), Subject: pkix.Name{CommonName: cluster + "-rw"},
		NotBefore: time.Now().Add(-5 * time.Minute), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: names,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &leafKey.PublicKey, caPriv)
	require.NoError(t, err)
	sec1, err := x509.MarshalECPrivateKey(leafKey)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})
}

// secretData is a Secret's stringData by name in a namespace.
func secretData(t *testing.T, g *harness.Graph, namespace, name string) map[string]any {
	t.Helper()
	for _, r := range g.ByType("kubernetes:core/v1:Secret") {
		in := r.PlainInputs()
		if get(in, "metadata.name") == name && get(in, "metadata.namespace") == namespace {
			d, _ := in["stringData"].(map[string]any)
			return d
		}
	}
	t.Fatalf("%s: no Secret %s/%s", g.Stack, namespace, name)
	return nil
}

// TestPostgresPeerVerifiesTheEndpointCertificate: cross-region streaming
// verifies the other region's server certificate. us-east's server CA is
// held in its stack (a key that is a Pulumi secret, a 10-year CA) and handed
// to CloudNativePG, whose server certificate then names the replication
// endpoint; us-west, given us-east's outputs, connects to that endpoint
// with sslmode verify-full trusting exactly us-east's CA. libpq (what the
// instances stream with) accepts the certificate CloudNativePG would issue
// and refuses it against us-west's own CA or for another host name.
func TestPostgresPeerVerifiesTheEndpointCertificate(t *testing.T) {
	east := mustRun(t, "us-east")
	spec := pgSpec(t, east)
	assert.Equal(t, "tars-pg-server-ca", get(spec, "certificates.serverCASecret"))
	alt, _ := get(spec, "certificates.serverAltDNSNames").([]any)
	require.Len(t, alt, 1, "the endpoint's host name is a name of the server certificate")
	endpoint := alt[0].(string)
	assert.Regexp(t, `^internal-.*\.elb\.us-east-1\.amazonaws\.com$`, endpoint, "the internal NLB's host name")

	// The key stays a Pulumi secret: the SDKs mark a Secret's data and the
	// tls provider's key secret, and policy no-plaintext-secrets fails on a
	// PEM private key in plain text anywhere (TestPolicyBothStacksPass).
	eastCA := secretData(t, east, "tars-postgres", "tars-pg-server-ca")
	caCrt, caKey := eastCA["ca.crt"].(string), eastCA["ca.key"].(string)
	ca := parseCert(t, caCrt)
	assert.True(t, ca.IsCA)
	assert.Equal(t, "tars-postgres-server-ca.us-east", ca.Subject.CommonName)
	assert.Equal(t, 87600*time.Hour, ca.NotAfter.Sub(ca.NotBefore), "the CA lives 10 years")
	key := one(t, east, "tls:index/privateKey:PrivateKey", "us-east-postgres-server-ca-key")
	assert.Equal(t, map[string]any{"algorithm": "ECDSA", "ecdsaCurve": "P256"}, key.PlainInputs())
	assert.Contains(t, east.Exports, stacks.OutPostgresServerCA)

	// us-west reads us-east's endpoint and CA (stack outputs).
	peer, err := harness.PeerOutputs("us-west")
	require.NoError(t, err)
	peer[stacks.OutPostgresEndpoint], peer[stacks.OutPostgresServerCA] = endpoint, caCrt
	west := mustRun(t, "us-west", harness.WithPeerOutputs(peer))
	var conn map[string]any
	for _, ec := range pgSpec(t, west)["externalClusters"].([]any) {
		if get(ec, "name") == "tars-pg-us-east" {
			conn, _ = get(ec, "connectionParameters").(map[string]any)
			assert.Equal(t, map[string]any{"name": "tars-pg-peer-ca", "key": "ca.crt"}, get(ec, "sslRootCert"))
		}
	}
	require.NotNil(t, conn, "us-west streams from us-east")
	assert.Equal(t, endpoint, conn["host"])
	assert.Equal(t, "verify-full", conn["sslmode"])
	trusted := secretData(t, west, "tars-postgres", "tars-pg-peer-ca")["ca.crt"].(string)
	assert.Equal(t, caCrt, trusted, "us-west trusts exactly us-east's CA")
	westOwn := secretData(t, west, "tars-postgres", "tars-pg-server-ca")["ca.crt"].(string)
	assert.NotEqual(t, caCrt, westOwn, "each region has its own CA")

	// The certificate CloudNativePG issues in us-east from that Secret.
	leafCrt, leafKey := cnpgServerLeaf(t, caCrt, caKey, "tars-pg-us-east", "tars-postgres", []string{endpoint})
	verify := func(roots, host string) error {
		pool := x509.NewCertPool()
		require.True(t, pool.AppendCertsFromPEM([]byte(roots)))
		_, err := parseCert(t, string(leafCrt)).Verify(x509.VerifyOptions{Roots: pool, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		return err
	}
	assert.NoError(t, verify(trusted, conn["host"].(string)))
	assert.Error(t, verify(westOwn, conn["host"].(string)), "us-west's own CA does not vouch for us-east")

	// libpq, as the designated primary's walreceiver connects.
	env, err := pgserver.NewEnv()
	require.NoError(t, err)
	dir, err := env.MkdirTemp("tars-pg-tls-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := env.InitDB(ctx, dir)
	require.NoError(t, err)
	require.NoError(t, env.WriteFile(filepath.Join(srv.Data, "server.crt"), string(leafCrt)))
	require.NoError(t, env.WriteFile(filepath.Join(srv.Data, "server.key"), string(leafKey)))
	require.NoError(t, srv.Configure("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_min_protocol_version = 'TLSv1.2'\n", nil))
	// Trust on loopback: the readiness probe connects without TLS; the
	// checks below ask for verify-full and read that the session is TLS.
	require.NoError(t, srv.WriteHBA("host all all 127.0.0.1/32 trust"))
	require.NoError(t, srv.Start(time.Minute))
	t.Cleanup(srv.Stop)
	rootFile := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, env.WriteFile(p, content))
		return p
	}
	trustedFile, ownFile := rootFile("peer-ca.crt", trusted), rootFile("own-ca.crt", westOwn)
	psql := func(host, root string) (string, error) {
		dsn := fmt.Sprintf("host=%s hostaddr=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=%s sslrootcert=%s connect_timeout=5",
			host, srv.Port, conn["sslmode"], root)
		out, err := env.Command(ctx, "psql", dsn, "-XAtc", "select ssl from pg_stat_ssl where pid = pg_backend_pid()").CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	out, err := psql(endpoint, trustedFile)
	require.NoError(t, err, out)
	assert.Equal(t, "t", out, "connected over TLS")
	out, err = psql(endpoint, ownFile)
	assert.Error(t, err)
	assert.Contains(t, out, "certificate verify failed", "another CA is refused")
	out, err = psql("internal-elsewhere.elb.us-east-1.amazonaws.com", trustedFile)
	assert.Error(t, err)
	assert.Contains(t, out, "does not match host name", "another host name is refused")
}

func parseCert(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(p))
	require.NotNil(t, b, "a PEM certificate")
	c, err := x509.ParseCertificate(b.Bytes)
	require.NoError(t, err)
	return c
}

// TestPostgresPeerServerCAMustBeACA: a peer output that is not one PEM CA
// certificate stops the update with the key named, instead of a Cluster
// whose streaming can never verify.
func TestPostgresPeerServerCAMustBeACA(t *testing.T) {
	leaf, _ := cnpgServerLeafFromTestCA(t)
	for name, tc := range map[string]struct{ value, want string }{
		"not PEM":   {"MIIB...", `peer stack us-east: output "postgresServerCA" is not a PEM certificate`},
		"not a CA":  {leaf, `peer stack us-east: output "postgresServerCA" is the certificate of "tars-pg-us-east-rw", which is not a CA`},
		"two certs": {leaf + leaf, `peer stack us-east: output "postgresServerCA" holds more than one PEM block`},
	} {
		t.Run(name, func(t *testing.T) {
			peer, err := harness.PeerOutputs("us-west")
			require.NoError(t, err)
			peer[stacks.OutPostgresServerCA] = tc.value
			_, err = runRecovering(t, "us-west", harness.WithPeerOutputs(peer))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// cnpgServerLeafFromTestCA is a server leaf from a throwaway CA
// (newTestCA, the Redis TLS tier's).
func cnpgServerLeafFromTestCA(t *testing.T) (string, string) {
	t.Helper()
	ca, err := newTestCA("throwaway")
	require.NoError(t, err)
	sec1, err := x509.MarshalECPrivateKey(ca.key)
	require.NoError(t, err)
	leaf, _ := cnpgServerLeaf(t, string(ca.pem), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})), "tars-pg-us-east", "tars-postgres", nil)
	return string(leaf), string(ca.pem)
}
