package tests

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/tests/charttier"
	"k8s.io/apimachinery/pkg/labels"
)

// tlsFlows are the intended flows (intendedFlows, by Why) that are TLS,
// with how: reviewed. Every other intended flow stays plaintext inside the
// cluster and must be listed in the README with the NetworkPolicy that
// admits it.
var tlsFlows = map[string]string{
	"services to Redis":                              "Redis listens on TLS only",
	"Redis members to each other (bus)":              "tls-cluster yes",
	"Redis formation job to the members":             "redis-cli --tls with the members' CA",
	"Postgres instances to each other":               "CloudNativePG's streaming_replica: hostssl with its client certificate",
	"CNPG operator to the instances' status port":    "the instance manager serves HTTPS (--status-port-tls on new instance pods, CloudNativePG 1.30 pkg/specs)",
	"peer region to Postgres (replication)":          "sslmode verify-full against the peer's server CA",
	"Grafana to Postgres (its database)":             "ssl_mode require",
	"Postgres instances to the Barman Cloud plugin":  "gRPC over mutual TLS (cert-manager certificates)",
	"CNPG operator to the Barman Cloud plugin":       "gRPC over mutual TLS (cert-manager certificates)",
	"Prometheus scrapes the operator":                "the operator's https port, verified against its admission CA",
	"API server to cert-manager's webhook":           "admission webhooks are HTTPS",
	"API server to the CNPG webhook":                 "admission webhooks are HTTPS",
	"API server to the VPA admission controller":     "admission webhooks are HTTPS",
	"API server to the prometheus-operator webhook":  "admission webhooks are HTTPS",
	"load balancer health checks to Postgres status": "a TCP health check: it connects and sends nothing",
}

// plaintextRow is one row of the README's list.
type plaintextRow struct {
	Port     int
	Policies string
}

// readmePlaintext reads the README's table under "What stays plaintext
// inside the cluster": | flow | port | admitted only by |.
func readmePlaintext(t *testing.T) map[string]plaintextRow {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	text := string(raw)
	i := strings.Index(text, "### What stays plaintext inside the cluster")
	rows := map[string]plaintextRow{}
	if !assert.GreaterOrEqual(t, i, 0, "README: the section What stays plaintext inside the cluster") {
		return rows
	}
	row := regexp.MustCompile(`^\| ([^|]+?) \| (\d+) \| ([^|]+?) \|$`)
	for _, line := range strings.Split(text[i:], "\n")[1:] {
		if strings.HasPrefix(line, "#") {
			break
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		port, _ := strconv.Atoi(m[2])
		_, dup := rows[m[1]]
		assert.False(t, dup, "README lists %q twice", m[1])
		rows[m[1]] = plaintextRow{Port: port, Policies: strings.ReplaceAll(m[3], "`", "")}
	}
	return rows
}

// TestPlaintextInsideTheClusterIsListedWithItsPolicy: every intended flow
// is either TLS (tlsFlows, with how) or listed in the README's plaintext
// table with its port and exactly the NetworkPolicies that admit it (by the
// evaluator, in both stacks); a pod of a namespace the program does not
// know reaches none of those ports.
func TestPlaintextInsideTheClusterIsListedWithItsPolicy(t *testing.T) {
	intended := map[string]bool{}
	for _, f := range intendedFlows {
		intended[f.Why] = true
	}
	for why, how := range tlsFlows {
		if how == "" {
			continue
		}
		assert.True(t, intended[why], "tlsFlows names %q, which is not an intended flow", why)
	}
	rows := readmePlaintext(t)
	dir := chartsDir(t)
	probe := netEnd{NS: "probe", Labels: map[string]string{"app": "probe"}}
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		objs, err := charttier.Objects(context.Background(), g, dir)
		require.NoError(t, err)
		objs = append(objs, cnpgInstances(t, objs)...)
		pols, nss := netObjects(t, objs)
		nss["probe"] = labels.Set{"kubernetes.io/metadata.name": "probe"}
		pods := netWorkloadPods(t, objs)
		probe.IP = netAddrs[stack]["pod"]
		listed := map[string]bool{}
		var gen []string
		for _, f := range intendedFlows {
			if tlsFlows[f.Why] != "" {
				_, dup := rows[f.Why]
				assert.False(t, dup, "README lists %q as plaintext; it is TLS (%s)", f.Why, tlsFlows[f.Why])
				continue
			}
			ok, by := evalFlow(t, stack, f, pods, pols, nss)
			require.True(t, ok, "%s: %q is denied", stack, f.Why)
			policies := strings.ReplaceAll(strings.Join(netUniq(by), ", "), stack, "<region>")
			gen = append(gen, fmt.Sprintf("| %s | %d | `%s` |", f.Why, f.Port, strings.ReplaceAll(policies, ", ", "`, `")))
			listed[f.Why] = true
			r, ok := rows[f.Why]
			if assert.True(t, ok, "%s: %q is plaintext and not in the README's list", stack, f.Why) {
				assert.Equal(t, f.Port, r.Port, "README: %q", f.Why)
				assert.Equal(t, policies, r.Policies, "README: the policies that admit %q", f.Why)
			}
			for _, p := range pods {
				if p.NS != f.To.NS || p.HostNetwork || !labels.SelectorFromSet(f.To.Labels).Matches(labels.Set(p.Labels)) {
					continue
				}
				allowed, by := ingressAllowed(t, pols, nss, probe, "", p, f.Port)
				assert.False(t, allowed, "%s: a pod of an unknown namespace reaches %s:%d (plaintext) through %s", stack, p.Workload, f.Port, by)
			}
		}
		for why := range rows {
			assert.True(t, listed[why], "README lists %q as plaintext, but it is no intended plaintext flow", why)
		}
		sort.Strings(gen)
		t.Logf("%s: %d plaintext flows:\n%s", stack, len(gen), strings.Join(gen, "\n"))
	}
}
