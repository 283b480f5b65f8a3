package tests

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The real-server tier runs the members on TLS as production does: a CA
// made here with crypto/x509 stands for the cert-manager CA, and one
// certificate for 127.0.0.1 and localhost (server and client auth) stands
// for the members' certificate.

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// newTestCA makes a self-signed ECDSA P-256 CA.
func newTestCA(cn string) (*testCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n
}

// issue signs a certificate for localhost and 127.0.0.1, for server and
// client auth (as the component's Certificate asks cert-manager), and
// returns it and its key as PEM with its serial number.
func (ca *testCA) issue() (certPEM, keyPEM []byte, serial *big.Int, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	serial = randomSerial()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), serial, nil
}

// redisTestCA is the tier's CA, made once per test binary.
var redisTestCA = sync.OnceValues(func() (*testCA, error) { return newTestCA("tars-redis-test-ca") })

// redisTLSFiles are a test's TLS files, as the members' Secret mounts them.
type redisTLSFiles struct{ ca, cert, key string }

var redisTLSByTest sync.Map // *testing.T → redisTLSFiles

// redisTLS returns the test's TLS files (written on first use in the
// test's own directory): the CA, and a certificate it signed with its key.
func redisTLS(t *testing.T) redisTLSFiles {
	t.Helper()
	if f, ok := redisTLSByTest.Load(t); ok {
		return f.(redisTLSFiles)
	}
	ca, err := redisTestCA()
	require.NoError(t, err)
	certPEM, keyPEM, _, err := ca.issue()
	require.NoError(t, err)
	dir := t.TempDir()
	f := redisTLSFiles{ca: filepath.Join(dir, "ca.crt"), cert: filepath.Join(dir, "tls.crt"), key: filepath.Join(dir, "tls.key")}
	require.NoError(t, os.WriteFile(f.ca, ca.pem, 0o600))
	require.NoError(t, os.WriteFile(f.cert, certPEM, 0o600))
	require.NoError(t, os.WriteFile(f.key, keyPEM, 0o600))
	redisTLSByTest.Store(t, f)
	t.Cleanup(func() { redisTLSByTest.Delete(t) })
	return f
}

// cliTLSArgs are redis-cli's flags to reach the test's members.
func cliTLSArgs(t *testing.T) []string {
	return []string{"--tls", "--cacert", redisTLS(t).ca}
}

// tlsClient is a TLS client configuration trusting the test's CA.
func tlsClient(t *testing.T) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	b, err := os.ReadFile(redisTLS(t).ca)
	require.NoError(t, err)
	require.True(t, pool.AppendCertsFromPEM(b))
	return &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
}

// respPing sends AUTH and PING on conn and returns what came back within
// two seconds (and the read error, if any).
func respPing(conn net.Conn) (string, error) {
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(conn, "AUTH %s\r\nPING\r\n", testPassword); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	var got strings.Builder
	for range 2 {
		line, err := r.ReadString('\n')
		got.WriteString(line)
		if err != nil {
			return got.String(), err
		}
	}
	return got.String(), nil
}

// servedSerial is the serial number of the certificate a member serves on a port.
func servedSerial(t *testing.T, port int) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", port), tlsClient(t))
	require.NoError(t, err, "TLS handshake on port %d", port)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestRedisClusterSpeaksOnlyTLS runs the rendered redis.conf (no plaintext
// port; clients, bus and replication on TLS) on six loopback members with
// certificates from a CA made here, and the formation script over TLS: the
// cluster forms; a key written through one member is read through another
// and from its master's replica; a plaintext client gets no answer on the
// client port or the bus; a client with a certificate of another CA is
// refused; a client with no certificate but the CA and the password is
// served (tls-auth-clients optional: the applications hold no certificate);
// and a renewed certificate is served after the script's next run, without
// a restart.
func TestRedisClusterSpeaksOnlyTLS(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	members := startMembers(t, 6)
	out := runScript(t, members)
	assert.Contains(t, out, "TLS files re-read by every member")
	assert.Contains(t, out, "cluster ok: 3 masters, 3 replicas, 16384 slots")

	// A key through one member, read through another, and on the replica
	// of the master that holds it (replication over TLS).
	require.Contains(t, rcli(t, members[0].addr, "-c", "set", "over-tls", "yes"), "OK")
	assert.Equal(t, "yes", strings.TrimSpace(rcli(t, members[3].addr, "-c", "get", "over-tls")))
	slot := strings.TrimSpace(rcli(t, members[0].addr, "cluster", "keyslot", "over-tls"))
	nodes := clusterNodes(t, members[0].addr)
	var master string
	for id, owners := range slotOwners(t, members[0].addr) {
		if servesSlot(owners, slot) && strings.HasPrefix(nodes[id].flags, "master") {
			master = id
		}
	}
	require.NotEmpty(t, master, "no master serves slot %s", slot)
	var replica string
	for _, n := range nodes {
		if n.master == master {
			replica = n.addr
		}
	}
	require.NotEmpty(t, replica)
	waitFor(t, 10*time.Second, "the replica has the key", func() bool {
		host, port, _ := strings.Cut(replica, ":")
		cmd := exec.Command("redis-cli", append(cliTLSArgs(t), "-h", host, "-p", port)...)
		cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+testPassword)
		cmd.Stdin = strings.NewReader("READONLY\nGET over-tls\n")
		o, _ := cmd.CombinedOutput()
		return strings.Contains(string(o), "yes")
	})
	for _, m := range members {
		role := rcli(t, m.addr, "info", "replication")
		if strings.Contains(role, "role:slave") {
			assert.Contains(t, role, "master_link_status:up", "%s replicates over TLS", m.addr)
		}
	}

	// Plaintext is refused everywhere.
	for _, m := range members {
		for _, port := range []int{m.port(), m.bus} {
			conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
			require.NoError(t, err)
			got, _ := respPing(conn)
			_ = conn.Close()
			assert.NotContains(t, got, "PONG", "plaintext on %d", port)
			assert.NotContains(t, got, "+OK", "plaintext on %d", port)
		}
		cmd := exec.Command("redis-cli", "-p", strconv.Itoa(m.port()), "ping")
		cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+testPassword)
		o, _ := cmd.CombinedOutput()
		assert.NotContains(t, string(o), "PONG", "redis-cli without --tls on %d", m.port())
		// The bus speaks TLS with the members' certificate.
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", m.bus), tlsClient(t))
		if assert.NoError(t, err, "TLS on the bus port %d", m.bus) {
			_ = conn.Close()
		}
	}

	// TLS with the CA and the password, no client certificate: served.
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", members[1].addr, tlsClient(t))
	require.NoError(t, err)
	got, err := respPing(conn)
	_ = conn.Close()
	require.NoError(t, err)
	assert.Equal(t, "+OK\r\n+PONG\r\n", got)
	// A certificate of another CA: refused.
	other, err := newTestCA("not-the-redis-ca")
	require.NoError(t, err)
	certPEM, keyPEM, _, err := other.issue()
	require.NoError(t, err)
	foreign, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	cfg := tlsClient(t)
	cfg.Certificates = []tls.Certificate{foreign}
	if conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", members[1].addr, cfg); err == nil {
		got, _ := respPing(conn)
		_ = conn.Close()
		assert.NotContains(t, got, "PONG", "a client certificate of another CA is refused")
	}
	// A server certificate of another CA fails redis-cli's verification.
	otherCA := filepath.Join(t.TempDir(), "other-ca.crt")
	require.NoError(t, os.WriteFile(otherCA, other.pem, 0o600))
	cmd := exec.Command("redis-cli", "--tls", "--cacert", otherCA, "-p", strconv.Itoa(members[1].port()), "ping")
	cmd.Env = append(os.Environ(), "REDISCLI_AUTH="+testPassword)
	o, _ := cmd.CombinedOutput()
	assert.NotContains(t, string(o), "PONG", "redis-cli trusting another CA")

	// Renewal: cert-manager writes a new certificate into the Secret; the
	// next run of the script has every member serve it.
	before := servedSerial(t, members[0].port())
	ca, err := redisTestCA()
	require.NoError(t, err)
	certPEM, keyPEM, serial, err := ca.issue()
	require.NoError(t, err)
	files := redisTLS(t)
	require.NoError(t, os.WriteFile(files.cert, certPEM, 0o600))
	require.NoError(t, os.WriteFile(files.key, keyPEM, 0o600))
	assert.Equal(t, before, servedSerial(t, members[0].port()), "Redis does not watch its files")
	out = runScript(t, members)
	assert.Contains(t, out, "TLS files re-read by every member")
	assert.NotContains(t, out, "could not re-read")
	for _, m := range members {
		assert.Equal(t, serial.String(), servedSerial(t, m.port()), "%s serves the renewed certificate", m.addr)
		assert.Equal(t, serial.String(), servedSerial(t, m.bus), "%s's bus presents the renewed certificate", m.addr)
	}
	assert.Contains(t, out, "cluster formed and ok")
}

// servesSlot: a CLUSTER NODES slot list ("0-5460 5461 …") contains slot.
func servesSlot(owners, slot string) bool {
	s, err := strconv.Atoi(slot)
	if err != nil {
		return false
	}
	for _, r := range strings.Fields(owners) {
		lo, hi, found := strings.Cut(r, "-")
		a, errA := strconv.Atoi(lo)
		b := a
		if found {
			b, _ = strconv.Atoi(hi)
		}
		if errA == nil && s >= a && s <= b {
			return true
		}
	}
	return false
}
