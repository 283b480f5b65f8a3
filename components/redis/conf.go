package redis

import (
	_ "embed"
	"fmt"
	"strings"
)

// ClusterCreateScript is the cluster-create Job's script; the tests run
// this very script against loopback members.
//
//go:embed scripts/cluster-create.sh
var ClusterCreateScript string

// Setting is one redis.conf directive.
type Setting struct {
	Key   string
	Value string
}

// Config is redis.conf as typed settings, in file order.
type Config []Setting

// Get returns the value of a directive.
func (c Config) Get(key string) (string, bool) {
	for _, s := range c {
		if s.Key == key {
			return s.Value, true
		}
	}
	return "", false
}

// Set replaces a directive's value (or appends it).
func (c Config) Set(key, value string) Config {
	out := append(Config{}, c...)
	for i, s := range out {
		if s.Key == key {
			out[i].Value = value
			return out
		}
	}
	return append(out, Setting{key, value})
}

// Render writes redis.conf.
func (c Config) Render() string {
	var b strings.Builder
	b.WriteString("# Rendered by components/redis from typed args; do not edit.\n")
	for _, s := range c {
		fmt.Fprintf(&b, "%s %s\n", s.Key, s.Value)
	}
	return b.String()
}

// RedisConfig is the seed's configuration: cluster mode with replicas,
// node timeout 5000 ms, maxmemory 1536mb with allkeys-lru, AOF and RDB
// persistence, protected mode on. The password is not here: it comes from
// the Secret at start (--requirepass/--masterauth) and never lands in a
// ConfigMap. The announce hostname is set per pod at start.
//
// Only TLS is spoken (issue #22): no plaintext port (port 0); clients on
// Port, the cluster bus and replication on TLS with the certificate
// cert-manager issues (TLSSecretName, mounted at TLSMountPath).
// tls-auth-clients is optional, not yes: the applications connect from
// their own namespace with TLS and the password, and the namespaced CA
// cannot issue them client certificates without its key being copied into
// their namespace (where it could sign a member's certificate). A client
// that presents a certificate must present one of this CA; the members
// always present theirs on the bus and for replication, and only members
// reach the bus port (the NetworkPolicy).
func (a Args) RedisConfig() Config {
	return Config{
		{"port", "0"},
		{"tls-port", fmt.Sprint(Port)},
		{"tls-cert-file", TLSCertFile},
		{"tls-key-file", TLSKeyFile},
		{"tls-ca-cert-file", TLSCAFile},
		{"tls-auth-clients", "optional"},
		{"tls-replication", "yes"},
		{"tls-cluster", "yes"},
		{"tls-protocols", `"TLSv1.2 TLSv1.3"`},
		{"bind", "0.0.0.0"},
		{"protected-mode", "yes"},
		{"dir", "/data"},
		{"cluster-enabled", "yes"},
		{"cluster-config-file", "/cluster/nodes.conf"},
		{"cluster-node-timeout", fmt.Sprint(a.NodeTimeoutMs)},
		{"cluster-port", fmt.Sprint(BusPort)},
		{"cluster-preferred-endpoint-type", "hostname"},
		{"cluster-require-full-coverage", "yes"},
		{"cluster-replica-validity-factor", "10"},
		{"cluster-allow-replica-migration", "yes"},
		{"maxmemory", fmt.Sprintf("%dmb", a.MaxmemoryMB)},
		{"maxmemory-policy", a.MaxmemoryPolicy},
		{"appendonly", "yes"},
		{"appendfilename", `"appendonly.aof"`},
		{"appendfsync", "everysec"},
		{"aof-use-rdb-preamble", "yes"},
		{"auto-aof-rewrite-percentage", "100"},
		{"auto-aof-rewrite-min-size", "64mb"},
		{"save", "900 1 300 10 60 10000"},
		{"dbfilename", "dump.rdb"},
		{"tcp-keepalive", "60"},
		{"timeout", "0"},
		{"loglevel", "notice"},
	}
}
