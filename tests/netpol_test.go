package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/internal/netpol"
	"github.com/tars-platform/infra/tests/charttier"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// netAddrs are an address in each of a stack's blocks a flow comes from
// (Pulumi.<stack>.yaml: tars:cluster.vpcCidr 10.10.0.0/16 or 10.20.0.0/16
// cut by cluster.PlanSubnets, tars:topology.peerVpcCidr): "infra" is the
// second AZ's infrastructure subnet (/22 from .192.0: the EKS control
// plane's interfaces, internal load balancers), "public" its public subnet
// (/22 from .224.0: internet-facing load balancers), "pod" its node subnet
// (/19 from .32.0: with the VPC CNI every pod, and every node, has an
// address there).
var netAddrs = map[string]map[string]string{
	"us-east": {"infra": "10.10.197.10", "public": "10.10.229.10", "pod": "10.10.33.10", "peer": "10.20.33.10", "internet": "203.0.113.7"},
	"us-west": {"infra": "10.20.197.10", "public": "10.20.229.10", "pod": "10.20.33.10", "peer": "10.10.33.10", "internet": "203.0.113.7"},
}

// netEnd is one end of a flow: pods with (at least) Labels in namespace NS,
// or (From only) an address outside the pod network: "infra" (the EKS
// control plane's interfaces, internal load balancers), "public"
// (internet-facing load balancers), "peer" (the other region's VPC) or
// "internet". IP is a source pod's own address (netAddrs "pod").
type netEnd struct {
	NS     string
	Labels map[string]string
	Addr   string
	IP     string
}

func (e netEnd) String() string {
	if e.Addr != "" {
		return e.Addr
	}
	var kv []string
	for k, v := range e.Labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return e.NS + "{" + strings.Join(kv, ",") + "}"
}

// netFlow is a connection: From to the pods of To on Port (TCP).
type netFlow struct {
	Why      string
	From, To netEnd
	Port     int
}

func pods(ns string, kv ...string) netEnd {
	l := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return netEnd{NS: ns, Labels: l}
}

// The ends the table names.
var (
	nApp        = pods("tars", "app.kubernetes.io/name", "tars-backend") // the services (modelled pod, see appPods)
	nChroma     = pods("tars", "app.kubernetes.io/name", "chromadb", "app.kubernetes.io/component", "server")
	nPostgres   = pods("tars-postgres", "cnpg.io/podRole", "instance")
	nRedis      = pods("tars-data", "app.kubernetes.io/name", "redis", "app.kubernetes.io/component", "server")
	nRedisJob   = pods("tars-data", "app.kubernetes.io/name", "redis", "app.kubernetes.io/component", "cluster-create")
	nProm       = netEnd{NS: "monitoring", Labels: netpol.PrometheusLabels}
	nAlertmgr   = pods("monitoring", "app.kubernetes.io/name", "alertmanager")
	nGrafana    = pods("monitoring", "app.kubernetes.io/name", "grafana")
	nOTel       = pods("monitoring", "app.kubernetes.io/name", "opentelemetry-collector")
	nJaeger     = pods("monitoring", "app.kubernetes.io/name", "jaeger")
	nOpenSearch = pods("monitoring", "app.kubernetes.io/name", "opensearch")
	nLoki       = pods("monitoring", "app.kubernetes.io/name", "loki", "app.kubernetes.io/component", "single-binary")
	nAlloy      = pods("monitoring", "app.kubernetes.io/name", "alloy")
	nThanosQF   = pods("monitoring", "app.kubernetes.io/name", "thanos", "app.kubernetes.io/component", "query-frontend")
	nThanosQ    = pods("monitoring", "app.kubernetes.io/name", "thanos", "app.kubernetes.io/component", "query")
	nKSM        = pods("monitoring", "app.kubernetes.io/name", "kube-state-metrics")
	nPromOp     = pods("monitoring", "app", "kube-prometheus-stack-operator")
	nReports    = pods("monitoring", "app.kubernetes.io/name", "tars-report")
	nCMCtrl     = pods("cert-manager", "app.kubernetes.io/name", "cert-manager")
	nCMWebhook  = pods("cert-manager", "app.kubernetes.io/name", "webhook")
	nCNPGOp     = pods("cnpg-system", "app.kubernetes.io/name", "cloudnative-pg")
	nBarman     = pods("cnpg-system", "app.kubernetes.io/name", "plugin-barman-cloud")
	nVPAAdm     = pods("vpa-system", "app.kubernetes.io/component", "admission-controller")
	nVPARec     = pods("vpa-system", "app.kubernetes.io/component", "recommender")
	nKCFront    = pods("kubecost", "app.kubernetes.io/name", "frontend")
	nKCAgg      = pods("kubecost", "app.kubernetes.io/name", "aggregator")
	nInfra      = netEnd{Addr: "infra"}
	nPublicLB   = netEnd{Addr: "public"}
	nPeer       = netEnd{Addr: "peer"}
	nInternet   = netEnd{Addr: "internet"}
)

// intendedFlows is the reviewed table of what must connect.
var intendedFlows = []netFlow{
	{"services to Postgres", nApp, nPostgres, 5432},
	{"services to Redis", nApp, nRedis, 6379},
	{"services to ChromaDB", nApp, nChroma, 8000},
	{"services to the OTel collector (OTLP gRPC)", nApp, nOTel, 4317},
	{"services to the OTel collector (OTLP HTTP)", nApp, nOTel, 4318},
	{"Redis members to each other (bus)", nRedis, nRedis, 16379},
	{"Redis formation job to the members", nRedisJob, nRedis, 6379},
	{"Postgres instances to each other", nPostgres, nPostgres, 5432},
	{"CNPG operator to the instances' status port", nCNPGOp, nPostgres, 8000},
	{"peer region to Postgres (replication)", nPeer, nPostgres, 5432},
	{"load balancer health checks to Postgres status", nInfra, nPostgres, 8000},
	{"Grafana to Postgres (its database)", nGrafana, nPostgres, 5432},
	{"Postgres instances to the Barman Cloud plugin", nPostgres, nBarman, 9090},
	{"CNPG operator to the Barman Cloud plugin", nCNPGOp, nBarman, 9090},
	{"Prometheus scrapes Redis's exporter", nProm, nRedis, 9121},
	{"Prometheus scrapes Postgres", nProm, nPostgres, 9187},
	{"Prometheus scrapes the services", nProm, nApp, 8000},
	{"Prometheus scrapes cert-manager", nProm, nCMCtrl, 9402},
	{"Prometheus scrapes cert-manager's webhook", nProm, nCMWebhook, 9402},
	{"Prometheus scrapes the CNPG operator", nProm, nCNPGOp, 8080},
	{"Prometheus scrapes the VPA recommender", nProm, nVPARec, 8942},
	{"Prometheus scrapes the VPA admission controller", nProm, nVPAAdm, 8944},
	{"Prometheus scrapes Kubecost's aggregator", nProm, nKCAgg, 9363},
	{"Prometheus scrapes kube-state-metrics", nProm, nKSM, 8080},
	{"Prometheus scrapes Loki", nProm, nLoki, 3100},
	{"Prometheus scrapes Alloy", nProm, nAlloy, 12345},
	{"Prometheus scrapes the OTel collector", nProm, nOTel, 8888},
	{"Prometheus scrapes OpenSearch", nProm, nOpenSearch, 9600},
	{"Prometheus scrapes Alertmanager", nProm, nAlertmgr, 9093},
	{"Prometheus scrapes Grafana", nProm, nGrafana, 3000},
	{"Prometheus scrapes the operator", nProm, nPromOp, 10250},
	{"Prometheus to Alertmanager (alerts)", nProm, nAlertmgr, 9093},
	{"Thanos query to the Prometheus sidecar", nThanosQ, nProm, 10901},
	{"Grafana to Thanos query-frontend", nGrafana, nThanosQF, 10902},
	{"Grafana to Loki", nGrafana, nLoki, 3100},
	{"Alloy to Loki", nAlloy, nLoki, 3100},
	{"OTel collector to Jaeger (OTLP)", nOTel, nJaeger, 4317},
	{"Jaeger to OpenSearch", nJaeger, nOpenSearch, 9200},
	{"report CronJobs to Thanos query-frontend", nReports, nThanosQF, 10902},
	{"report CronJobs to Kubecost's API", nReports, nKCFront, 9090},
	{"Kubecost's frontend to its aggregator", nKCFront, nKCAgg, 9004},
	{"API server to cert-manager's webhook", nInfra, nCMWebhook, 10250},
	{"API server to the CNPG webhook", nInfra, nCNPGOp, 9443},
	{"API server to the VPA admission controller", nInfra, nVPAAdm, 8000},
	{"API server to the prometheus-operator webhook", nInfra, nPromOp, 10250},
	{"ALB to the API", nPublicLB, nApp, 8000},
	{"ALB to Grafana", nPublicLB, nGrafana, 3000},
}

// deniedFlows are flows the table does not list that must not connect.
var deniedFlows = []netFlow{
	{"services to Alertmanager", nApp, nAlertmgr, 9093},
	{"services to Grafana directly", nApp, nGrafana, 3000},
	{"services to Loki", nApp, nLoki, 3100},
	{"services to cert-manager's webhook", nApp, nCMWebhook, 10250},
	{"services to Kubecost", nApp, nKCFront, 9090},
	{"Kubecost to Redis", nKCAgg, nRedis, 6379},
	{"Kubecost to Postgres", nKCAgg, nPostgres, 5432},
	{"Grafana to Redis", nGrafana, nRedis, 6379},
	{"Alloy to Redis", nAlloy, nRedis, 6379},
	{"Prometheus to Redis's client port", nProm, nRedis, 6379},
	{"the internet to Postgres", nInternet, nPostgres, 5432},
	{"the internet to Redis", nInternet, nRedis, 6379},
	{"peer region to Postgres's status port", nPeer, nPostgres, 8000},
	{"peer region to Redis", nPeer, nRedis, 6379},
	{"ChromaDB to Postgres's metrics", nChroma, nPostgres, 9187},
	{"cert-manager to the CNPG operator", nCMCtrl, nCNPGOp, 9443},
	{"Redis to the Barman Cloud plugin", nRedis, nBarman, 9090},
	// What a rule admitting the VPC would let any pod reach by its address.
	{"Kubecost to the API port", nKCAgg, nApp, 8000},
	{"Grafana to Postgres's status port", nGrafana, nPostgres, 8000},
	{"Alloy to the CNPG webhook", nAlloy, nCNPGOp, 9443},
	{"services to the VPA admission controller", nApp, nVPAAdm, 8000},
	{"the internet-facing load balancers to Postgres's status port", nPublicLB, nPostgres, 8000},
	{"the internal load balancers' subnets to Grafana", nInfra, nGrafana, 3000},
	{"the internal load balancers' subnets to the API", nInfra, nApp, 8000},
}

// netPod is a pod the evaluator sees.
type netPod struct {
	Workload    string
	NS          string
	Labels      map[string]string
	HostNetwork bool
	Ports       []corev1.ContainerPort
}

// netModelPods are pods no object of the stack templates: the Prometheus
// and Alertmanager StatefulSets the operator makes (labels as it sets
// them, the Thanos sidecar's gRPC port), and the services' pods (the
// backend Service's target port), which their own repositories deploy.
func netModelPods() []netPod {
	return []netPod{
		{Workload: "operator: Prometheus", NS: "monitoring", Labels: netpol.PrometheusLabels,
			Ports: []corev1.ContainerPort{{Name: "http-web", ContainerPort: 9090}, {Name: "grpc", ContainerPort: 10901}, {Name: "http", ContainerPort: 10902}}},
		{Workload: "operator: Alertmanager", NS: "monitoring", Labels: map[string]string{"app.kubernetes.io/name": "alertmanager", "alertmanager": "kube-prometheus-stack-alertmanager"},
			Ports: []corev1.ContainerPort{{Name: "http-web", ContainerPort: 9093}}},
		{Workload: "services", NS: "tars", Labels: nApp.Labels, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8000}}},
	}
}

// netPolicies, netNamespaces: the stack's NetworkPolicies and each
// namespace's labels (with kubernetes.io/metadata.name, which the API
// server sets).
func netObjects(t *testing.T, objs []map[string]any) ([]networkingv1.NetworkPolicy, map[string]labels.Set) {
	t.Helper()
	var pols []networkingv1.NetworkPolicy
	nss := map[string]labels.Set{}
	for _, o := range objs {
		switch o["kind"] {
		case "NetworkPolicy":
			b, err := json.Marshal(o)
			require.NoError(t, err)
			var np networkingv1.NetworkPolicy
			require.NoError(t, json.Unmarshal(b, &np))
			pols = append(pols, np)
		case "Namespace":
			b, err := json.Marshal(o["metadata"])
			require.NoError(t, err)
			var m metav1.ObjectMeta
			require.NoError(t, json.Unmarshal(b, &m))
			nss[m.Name] = labels.Merge(m.Labels, labels.Set{netpol.NamespaceLabel: m.Name})
		}
	}
	return pols, nss
}

// nsLabels are a namespace's labels; one the stack does not create (kube-
// system …) has only its name label.
func nsLabels(nss map[string]labels.Set, ns string) labels.Set {
	if l, ok := nss[ns]; ok {
		return l
	}
	return labels.Set{netpol.NamespaceLabel: ns}
}

func npSelects(t *testing.T, sel *metav1.LabelSelector, l labels.Set) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	require.NoError(t, err)
	return s.Matches(l)
}

// peerMatches: whether a NetworkPolicy peer of a policy in namespace ns
// matches the source. Pods are matched by selectors, and by an ipBlock that
// contains their address: the API leaves ipBlocks on pod addresses to the
// implementation, and on EKS (the VPC CNI's network policy agent matches
// the packet's source address) pods have VPC addresses.
func peerMatches(t *testing.T, p networkingv1.NetworkPolicyPeer, ns string, nss map[string]labels.Set, src netEnd, addr string) bool {
	if p.IPBlock != nil {
		if addr == "" {
			addr = src.IP
		}
		if addr == "" {
			return false
		}
		ip := netip.MustParseAddr(addr)
		if !netip.MustParsePrefix(p.IPBlock.CIDR).Contains(ip) {
			return false
		}
		for _, e := range p.IPBlock.Except {
			if netip.MustParsePrefix(e).Contains(ip) {
				return false
			}
		}
		return true
	}
	if addr != "" {
		return false
	}
	if p.NamespaceSelector == nil {
		if src.NS != ns {
			return false
		}
	} else if !npSelects(t, p.NamespaceSelector, nsLabels(nss, src.NS)) {
		return false
	}
	return p.PodSelector == nil || npSelects(t, p.PodSelector, src.Labels)
}

// portMatches: a policy port against the destination pod's port (TCP); a
// named port resolves against the pod's container ports.
func portMatches(p networkingv1.NetworkPolicyPort, dst netPod, port int) bool {
	proto := corev1.ProtocolTCP
	if p.Protocol != nil {
		proto = *p.Protocol
	}
	if proto != corev1.ProtocolTCP {
		return false
	}
	if p.Port == nil {
		return true
	}
	if p.Port.Type == 0 {
		lo, hi := int(p.Port.IntVal), int(p.Port.IntVal)
		if p.EndPort != nil {
			hi = int(*p.EndPort)
		}
		return lo <= port && port <= hi
	}
	for _, cp := range dst.Ports {
		proto := cp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if cp.Name == p.Port.StrVal && int(cp.ContainerPort) == port && proto == corev1.ProtocolTCP {
			return true
		}
	}
	return false
}

// ingressAllowed evaluates the NetworkPolicy ingress semantics: a pod no
// policy selects (for Ingress) accepts everything; otherwise some rule of a
// policy selecting it must match both the source and the port.
func ingressAllowed(t *testing.T, pols []networkingv1.NetworkPolicy, nss map[string]labels.Set, src netEnd, addr string, dst netPod, port int) (bool, string) {
	isolated := false
	for _, np := range pols {
		if np.Namespace != dst.NS || !npSelects(t, &np.Spec.PodSelector, dst.Labels) {
			continue
		}
		ingress := len(np.Spec.PolicyTypes) == 0
		for _, pt := range np.Spec.PolicyTypes {
			ingress = ingress || pt == networkingv1.PolicyTypeIngress
		}
		if !ingress {
			continue
		}
		isolated = true
		for _, r := range np.Spec.Ingress {
			from := len(r.From) == 0
			for _, p := range r.From {
				from = from || peerMatches(t, p, np.Namespace, nss, src, addr)
			}
			ports := len(r.Ports) == 0
			for _, p := range r.Ports {
				ports = ports || portMatches(p, dst, port)
			}
			if from && ports {
				return true, np.Name
			}
		}
	}
	if !isolated {
		return true, "(not isolated)"
	}
	return false, ""
}

// netWorkloadPods are the pods of every workload of the objects, with the
// model pods; host-network pods are listed but no policy applies to them.
func netWorkloadPods(t *testing.T, objs []map[string]any) []netPod {
	out := netModelPods()
	for _, w := range podTemplates(t, objs) {
		p := netPod{Workload: w.String(), NS: w.Namespace, Labels: w.Meta.Labels, HostNetwork: w.Spec.HostNetwork}
		for _, c := range w.Spec.Containers {
			p.Ports = append(p.Ports, c.Ports...)
		}
		out = append(out, p)
	}
	return out
}

// evalFlow: whether f connects to every pod of its destination (there must
// be one), and which policy admits it.
func evalFlow(t *testing.T, stack string, f netFlow, pods []netPod, pols []networkingv1.NetworkPolicy, nss map[string]labels.Set) (bool, []string) {
	t.Helper()
	addr := ""
	if f.From.Addr != "" {
		addr = netAddrs[stack][f.From.Addr]
		require.NotEmpty(t, addr, "%s: address %s", stack, f.From.Addr)
	}
	match := func(e netEnd, hostNetworkToo bool) []netPod {
		var out []netPod
		for _, p := range pods {
			if p.NS == e.NS && labels.SelectorFromSet(e.Labels).Matches(labels.Set(p.Labels)) && (hostNetworkToo || !p.HostNetwork) {
				out = append(out, p)
			}
		}
		require.NotEmpty(t, out, "%s: no pod is %s (flow %q)", stack, e, f.Why)
		return out
	}
	// A source is each pod it names, with all its labels.
	srcs := []netEnd{f.From}
	if addr == "" {
		srcs = nil
		for _, p := range match(f.From, true) {
			srcs = append(srcs, netEnd{NS: p.NS, Labels: p.Labels, IP: netAddrs[stack]["pod"]})
		}
	}
	all, by := true, []string{}
	for _, src := range srcs {
		for _, d := range match(f.To, false) {
			ok, pol := ingressAllowed(t, pols, nss, src, addr, d, f.Port)
			all = all && ok
			by = append(by, pol)
		}
	}
	return all, by
}

// createdNamespaces are the namespaces the program creates.
var createdNamespaces = []string{"tars", "tars-data", "tars-postgres", "monitoring", "cert-manager", "cnpg-system", "kubecost", "vpa-system"}

// TestNetworkPoliciesAdmitExactlyTheFlowTable: every namespace the program
// creates denies ingress by default (a policy selecting every pod that
// admits nothing); every flow of the reviewed table is admitted to every
// pod it reaches, by the NetworkPolicy semantics evaluated over every
// object of the stack (the charts' rendered workloads and CloudNativePG's
// instances); and flows the table does not list are denied.
func TestNetworkPoliciesAdmitExactlyTheFlowTable(t *testing.T) {
	dir := chartsDir(t)
	for _, stack := range Stacks {
		g := mustRun(t, stack)
		objs, err := charttier.Objects(context.Background(), g, dir)
		require.NoError(t, err)
		objs = append(objs, cnpgInstances(t, objs)...)
		pols, nss := netObjects(t, objs)
		for _, ns := range createdNamespaces {
			require.Contains(t, nss, ns, "%s: the program creates namespace %s", stack, ns)
			deny := false
			for _, np := range pols {
				s := np.Spec
				if np.Namespace == ns && np.Name == netpol.DefaultDenyName && len(s.PodSelector.MatchLabels) == 0 && len(s.PodSelector.MatchExpressions) == 0 &&
					len(s.Ingress) == 0 && len(s.PolicyTypes) == 1 && s.PolicyTypes[0] == networkingv1.PolicyTypeIngress {
					deny = true
				}
			}
			assert.True(t, deny, "%s: namespace %s has a default-deny ingress policy", stack, ns)
		}
		for ns := range nss {
			assert.Contains(t, createdNamespaces, ns, "%s: namespace %s is created but not in the list", stack, ns)
		}
		for _, np := range pols {
			assert.NotContains(t, np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress, "%s: %s/%s restricts egress (egress stays open)", stack, np.Namespace, np.Name)
		}
		pods := netWorkloadPods(t, objs)
		var table []string
		for _, f := range intendedFlows {
			ok, by := evalFlow(t, stack, f, pods, pols, nss)
			assert.True(t, ok, "%s: intended flow %q (%s → %s:%d) is denied", stack, f.Why, f.From, f.To, f.Port)
			table = append(table, fmt.Sprintf("  allow %-48s %s → %s:%d  (by %s)", f.Why, f.From, f.To, f.Port, strings.Join(netUniq(by), ",")))
		}
		for _, f := range deniedFlows {
			ok, by := evalFlow(t, stack, f, pods, pols, nss)
			assert.False(t, ok, "%s: unlisted flow %q (%s → %s:%d) is admitted by %v", stack, f.Why, f.From, f.To, f.Port, by)
			table = append(table, fmt.Sprintf("  deny  %-48s %s → %s:%d", f.Why, f.From, f.To, f.Port))
		}
		t.Logf("%s: %d NetworkPolicies, %d pods; the flow table:\n%s", stack, len(pols), len(pods), strings.Join(table, "\n"))
	}
}

func netUniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
