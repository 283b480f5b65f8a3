package tests

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
	"github.com/tars-platform/infra/tests/kubeapi"
)

// The scheduling tier: the real kube-scheduler, kube-controller-manager and
// prometheus-operator (tests/kubeapi) place every workload of a stack — the
// program's own objects and every rendered chart's — on Node objects that
// model the stack's node groups. The test plays the kubelet (a bound pod is
// reported running and ready, so StatefulSets and Deployments roll on) and
// the EBS CSI provisioner (a claim the scheduler selected a node for gets a
// volume in that node's zone).

// instanceType is what an EKS AL2023 node of a type offers. vCPUs and
// memory: EC2 instance type specifications; pods: the VPC CNI's
// eni-max-pods table (awslabs/amazon-eks-ami, nodeadm).
type instanceType struct {
	vcpu    int
	memMiB  int64
	maxPods int
	gpus    int // NVIDIA GPUs, advertised as nvidia.com/gpu by the device plugin
}

var instanceTypes = map[string]instanceType{
	"m5.xlarge":   {vcpu: 4, memMiB: 16384, maxPods: 58},
	"m5a.xlarge":  {vcpu: 4, memMiB: 16384, maxPods: 58},
	"g4dn.xlarge": {vcpu: 4, memMiB: 16384, maxPods: 29, gpus: 1},
}

// allocatable is what the kubelet reports as allocatable, by nodeadm's
// defaults: kube-reserved CPU 6% of the first core, 1% of the second,
// 0.5% of the third and fourth, 0.25% of the rest; kube-reserved memory
// 255 MiB + 11 MiB per pod; eviction threshold 100 MiB. The kernel keeps
// about 3.5% of the instance's memory (MemTotal of a 16 GiB m5.xlarge is
// about 15.8 GiB), so capacity is 96.5% of the nominal size.
func (it instanceType) allocatable() (cpuMilli, memMiB int64) {
	cpu := int64(it.vcpu) * 1000
	reserved := 60.0
	for core := 2; core <= it.vcpu; core++ {
		switch {
		case core == 2:
			reserved += 10
		case core <= 4:
			reserved += 5
		default:
			reserved += 2.5
		}
	}
	capacity := int64(math.Floor(float64(it.memMiB) * 0.965))
	return cpu - int64(math.Ceil(reserved)), capacity - (255 + 11*int64(it.maxPods)) - 100
}

// nodeGroup is one managed node group of the graph as nodes see it.
type nodeGroup struct {
	name         string
	instance     string // the smallest of its instance types
	min, max     int
	zones        []string
	labels       map[string]string
	taints       []map[string]any
	capacityType string
	diskGiB      int
}

// nodeGroups reads the stack's node groups from the recorded graph: size,
// instance types, labels, taints and the zones of their subnets.
func nodeGroups(t *testing.T, g *harness.Graph) []nodeGroup {
	t.Helper()
	zoneOfSubnet := map[string]string{}
	for _, s := range g.ByType("aws:ec2/subnet:Subnet") {
		zoneOfSubnet[s.URN], _ = s.JSONInputs()["availabilityZone"].(string)
	}
	var out []nodeGroup
	for _, r := range g.ByType("aws:eks/nodeGroup:NodeGroup") {
		in := r.JSONInputs()
		scaling, _ := in["scalingConfig"].(map[string]any)
		ng := nodeGroup{
			name: fmt.Sprint(in["nodeGroupName"]), min: toInt(scaling["minSize"]), max: toInt(scaling["maxSize"]),
			labels: map[string]string{}, capacityType: fmt.Sprint(in["capacityType"]), diskGiB: 100,
		}
		for k, v := range asMap(in["labels"]) {
			ng.labels[k] = fmt.Sprint(v)
		}
		for _, tn := range asList(in["taints"]) {
			tm := asMap(tn)
			if tm == nil {
				continue
			}
			effect := map[string]string{"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}[fmt.Sprint(tm["effect"])]
			ng.taints = append(ng.taints, map[string]any{"key": tm["key"], "value": tm["value"], "effect": effect})
		}
		smallest := int64(math.MaxInt64)
		for _, it := range asList(in["instanceTypes"]) {
			spec, ok := instanceTypes[fmt.Sprint(it)]
			require.True(t, ok, "node group %s: instance type %v is not in the scheduling tier's table", ng.name, it)
			if _, mem := spec.allocatable(); mem < smallest {
				smallest, ng.instance = mem, fmt.Sprint(it)
			}
		}
		for _, urn := range r.PropertyDependencies["subnetIds"] {
			if z := zoneOfSubnet[urn]; z != "" {
				ng.zones = append(ng.zones, z)
			}
		}
		sort.Strings(ng.zones)
		require.NotEmpty(t, ng.zones, "node group %s: no subnet zones in the graph", ng.name)
		out = append(out, ng)
	}
	require.NotEmpty(t, out, "no node groups")
	return out
}

// node is one Node object; zone is its topology.kubernetes.io/zone.
type node struct {
	name, zone string
	body       map[string]any
	status     map[string]any
}

// nodesFor models count nodes of each group, spread over its zones as the
// Auto Scaling group balances them (round-robin), and the region.
func nodesFor(groups []nodeGroup, region string, count func(nodeGroup) int) []node {
	var out []node
	for _, g := range groups {
		spec := instanceTypes[g.instance]
		cpu, mem := spec.allocatable()
		for i := range count(g) {
			zone := g.zones[i%len(g.zones)]
			name := fmt.Sprintf("%s-%s-%d", g.name, zone, i)
			labels := map[string]any{
				"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				"topology.kubernetes.io/zone": zone, "topology.kubernetes.io/region": region,
				"topology.ebs.csi.aws.com/zone": zone, "node.kubernetes.io/instance-type": g.instance,
				"eks.amazonaws.com/nodegroup": g.name, "eks.amazonaws.com/capacityType": g.capacityType,
			}
			for k, v := range g.labels {
				labels[k] = v
			}
			body := map[string]any{
				"apiVersion": "v1", "kind": "Node",
				"metadata": map[string]any{"name": name, "labels": labels},
			}
			if len(g.taints) > 0 {
				taints := make([]any, len(g.taints))
				for i, tn := range g.taints {
					taints[i] = tn
				}
				body["spec"] = map[string]any{"taints": taints}
			}
			resources := map[string]any{
				"cpu": fmt.Sprintf("%dm", cpu), "memory": fmt.Sprintf("%dMi", mem),
				"pods": fmt.Sprint(spec.maxPods), "ephemeral-storage": fmt.Sprintf("%dGi", g.diskGiB*9/10),
			}
			if spec.gpus > 0 {
				resources["nvidia.com/gpu"] = fmt.Sprint(spec.gpus)
			}
			status := map[string]any{
				"capacity": resources, "allocatable": resources,
				"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "KubeletReady"}},
			}
			out = append(out, node{name: name, zone: zone, body: body, status: status})
		}
	}
	return out
}

// eksAddonWorkloads are the pods the EKS managed add-ons run on every
// cluster (vpc-cni, kube-proxy, CoreDNS, EBS CSI driver), with the requests
// their default manifests set: they are not in the program's graph but take
// node capacity all the same.
func eksAddonWorkloads() []map[string]any {
	ds := func(name string, cpu, mem string, containers int) map[string]any {
		return workload("DaemonSet", "kube-system", name, 0, cpu, mem, containers)
	}
	return []map[string]any{
		ds("aws-node", "25m", "", 2),
		ds("kube-proxy", "100m", "", 1),
		ds("ebs-csi-node", "10m", "40Mi", 3),
		workload("Deployment", "kube-system", "coredns", 2, "100m", "70Mi", 1),
		workload("Deployment", "kube-system", "ebs-csi-controller", 2, "10m", "40Mi", 6),
	}
}

// cnpgInstances models the pods CloudNativePG makes of each Cluster as a
// StatefulSet of the same pods (the operator creates pods and claims
// itself, and no operator runs here): one per instance, with the Cluster's
// labels, resources, anti-affinity and zone spread, the Barman Cloud
// plugin's sidecar as its ObjectStore sizes it, the data and WAL
// claims on the Cluster's storage class, and the security contexts
// CloudNativePG 1.30 sets (pkg/specs/pods.go GetPodSecurityContext,
// containers.go GetSecurityContext: the postgres uid/gid 26, RuntimeDefault
// seccomp, no privilege escalation, every capability dropped, a read-only
// root file system), so Pod Security admission sees what it would see.
func cnpgInstances(t *testing.T, objs []map[string]any) []map[string]any {
	t.Helper()
	stores := map[string]map[string]any{}
	for _, o := range objs {
		if o["kind"] == "ObjectStore" {
			m := asMap(o["metadata"])
			stores[fmt.Sprint(m["namespace"], "/", m["name"])] = asMap(o["spec"])
		}
	}
	var out []map[string]any
	for _, o := range objs {
		if o["kind"] != "Cluster" || o["apiVersion"] != "postgresql.cnpg.io/v1" {
			continue
		}
		meta, spec := asMap(o["metadata"]), asMap(o["spec"])
		name, ns := meta["name"], meta["namespace"]
		labels := map[string]any{"cnpg.io/cluster": name, "cnpg.io/podRole": "instance"}
		secCtx := map[string]any{"seccompProfile": map[string]any{"type": "RuntimeDefault"}, "capabilities": map[string]any{"drop": []any{"ALL"}},
			"privileged": false, "runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false}
		containers := []any{map[string]any{"name": "postgres", "image": versions.Postgres, "resources": spec["resources"], "securityContext": secCtx}}
		for _, p := range asList(spec["plugins"]) {
			store, ok := stores[fmt.Sprint(ns, "/", asMap(asMap(p)["parameters"])["barmanObjectName"])]
			require.True(t, ok, "Cluster %s/%s archives to an ObjectStore the stack does not define", ns, name)
			containers = append(containers, map[string]any{"name": "plugin-barman-cloud", "image": "registry.k8s.io/pause:3.10",
				"resources": asMap(store["instanceSidecarConfiguration"])["resources"], "securityContext": secCtx})
		}
		pod := map[string]any{"containers": containers, "topologySpreadConstraints": spec["topologySpreadConstraints"],
			"securityContext": map[string]any{"seccompProfile": map[string]any{"type": "RuntimeDefault"},
				"runAsUser": 26, "runAsGroup": 26, "runAsNonRoot": true, "fsGroup": 26}}
		if aff := asMap(spec["affinity"]); aff["enablePodAntiAffinity"] == true {
			term := map[string]any{"topologyKey": aff["topologyKey"], "labelSelector": map[string]any{"matchLabels": map[string]any{"cnpg.io/cluster": name}}}
			anti := map[string]any{"requiredDuringSchedulingIgnoredDuringExecution": []any{term}}
			if aff["podAntiAffinityType"] != "required" {
				anti = map[string]any{"preferredDuringSchedulingIgnoredDuringExecution": []any{map[string]any{"weight": 100, "podAffinityTerm": term}}}
			}
			pod["affinity"] = map[string]any{"podAntiAffinity": anti}
		}
		claim := func(claimName string, st map[string]any) map[string]any {
			return map[string]any{"metadata": map[string]any{"name": claimName}, "spec": map[string]any{
				"accessModes": []any{"ReadWriteOnce"}, "storageClassName": st["storageClass"],
				"resources": map[string]any{"requests": map[string]any{"storage": st["size"]}}}}
		}
		claims := []any{claim("pgdata", asMap(spec["storage"]))}
		if wal := asMap(spec["walStorage"]); wal != nil {
			claims = append(claims, claim("pg-wal", wal))
		}
		out = append(out, map[string]any{
			"apiVersion": "apps/v1", "kind": "StatefulSet",
			"metadata": map[string]any{"name": name, "namespace": ns},
			"spec": map[string]any{
				"replicas": spec["instances"], "serviceName": name, "podManagementPolicy": "Parallel",
				"selector":             map[string]any{"matchLabels": labels},
				"template":             map[string]any{"metadata": map[string]any{"labels": labels}, "spec": pod},
				"volumeClaimTemplates": claims,
			},
		})
	}
	return out
}

// workload is a minimal Deployment or DaemonSet whose pods request cpu and
// mem per container.
func workload(kind, ns, name string, replicas int, cpu, mem string, containers int) map[string]any {
	req := map[string]any{"cpu": cpu}
	if mem != "" {
		req["memory"] = mem
	}
	var cs []any
	for i := range containers {
		cs = append(cs, map[string]any{"name": fmt.Sprintf("c%d", i), "image": "registry.k8s.io/pause:3.10", "resources": map[string]any{"requests": req}})
	}
	labels := map[string]any{"app": name}
	spec := map[string]any{
		"selector": map[string]any{"matchLabels": labels},
		"template": map[string]any{"metadata": map[string]any{"labels": labels}, "spec": map[string]any{
			"containers": cs, "priorityClassName": "system-node-critical",
			"tolerations": []any{map[string]any{"operator": "Exists"}},
		}},
	}
	if kind == "Deployment" {
		spec["replicas"] = replicas
		spec["template"].(map[string]any)["spec"].(map[string]any)["priorityClassName"] = "system-cluster-critical"
		spec["template"].(map[string]any)["spec"].(map[string]any)["tolerations"] = []any{}
	}
	return map[string]any{
		"apiVersion": "apps/v1", "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec,
	}
}

// schedCluster is one control plane with the stack's workloads applied.
type schedCluster struct {
	srv *kubeapi.Server
	// expected are the workloads that must exist ("StatefulSet ns/name"):
	// those applied, and the StatefulSets the operator makes of each
	// Prometheus and Alertmanager.
	expected []string
	nodes    []node
	// nodeless are DaemonSets ("DaemonSet ns/name") that select no node
	// of this cluster by design.
	nodeless map[string]bool
	stop     context.CancelFunc
	wg       sync.WaitGroup
	closed   sync.Once
}

// close stops the loops and the servers (also at the test's end).
func (c *schedCluster) close() {
	c.closed.Do(func() {
		if c.stop != nil {
			c.stop()
		}
		c.wg.Wait()
		c.srv.Stop()
	})
}

// startSchedCluster starts a control plane, creates nodes, applies every
// workload of the stack and plays the kubelet and the volume provisioner
// until the test ends.
func startSchedCluster(t *testing.T, stack string, nodes []node) *schedCluster {
	t.Helper()
	return startSchedClusterFor(t, stack, func() renderedStack { return renderStack(t, stack) }, nodes)
}

// startSchedClusterFor is startSchedCluster on the rendered stack render gives.
func startSchedClusterFor(t *testing.T, stack string, render func() renderedStack, nodes []node) *schedCluster {
	t.Helper()
	if os.Getenv(kubeapi.SkipEnv) == "1" {
		t.Skipf("%s=1: scheduling tier skipped", kubeapi.SkipEnv)
	}
	root, err := harness.ProjectDir()
	require.NoError(t, err)
	bins, err := kubeapi.EnsureBinaries(root)
	require.NoError(t, err, "scheduling-tier binaries")
	srv, err := kubeapi.Start(bins, 90*time.Second)
	require.NoError(t, err)
	c := &schedCluster{srv: srv, nodes: nodes}
	t.Cleanup(c.close)
	ctx := context.Background()
	rs := render()
	// CRDs first (for real), then the control plane, which watches them.
	_, err = installChartCRDs(ctx, srv, rs.releases)
	require.NoError(t, err)
	require.NoError(t, srv.StartControlPlane(bins))
	for _, n := range nodes {
		c.addNode(t, n)
	}
	var objs []map[string]any
	ms, err := charttier.ProgramManifests(rs.graph)
	require.NoError(t, err)
	for _, m := range ms {
		objs = append(objs, m.Object)
	}
	defined := map[string]bool{}
	for _, o := range objs {
		if o["kind"] == "Namespace" {
			defined[fmt.Sprint(asMap(o["metadata"])["name"])] = true
		}
	}
	for _, r := range rs.releases {
		objs = append(objs, charttier.Namespaced(slices.Concat(r.Output.Objects, r.Output.Hooks), r.Namespace)...)
		if !defined[r.Namespace] {
			// A built-in namespace (kube-system): as EKS has it.
			objs = append(objs, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": r.Namespace}})
			defined[r.Namespace] = true
		}
	}
	objs = append(objs, eksAddonWorkloads()...)
	objs = append(objs, cnpgInstances(t, objs)...)
	for _, o := range objs {
		meta := asMap(o["metadata"])
		id := func(kind, prefix string) string {
			return fmt.Sprintf("%s %v/%s%v", kind, meta["namespace"], prefix, meta["name"])
		}
		switch o["kind"] {
		case "Deployment", "StatefulSet", "DaemonSet":
			c.expected = append(c.expected, id(fmt.Sprint(o["kind"]), ""))
		case "Prometheus":
			c.expected = append(c.expected, id("StatefulSet", "prometheus-"))
		case "Alertmanager":
			c.expected = append(c.expected, id("StatefulSet", "alertmanager-"))
		}
	}
	applyAll(t, srv, objs)
	// The API server enforces the namespaces' Pod Security levels: a pod
	// the level refuses is never created (every workload above was).
	for ns, pod := range map[string]map[string]any{
		"tars":       {"containers": []any{map[string]any{"name": "x", "image": "busybox:1.37", "securityContext": map[string]any{"privileged": true}}}},
		"monitoring": {"hostNetwork": true, "containers": []any{map[string]any{"name": "x", "image": "busybox:1.37"}}},
	} {
		err := srv.Create(ctx, "/api/v1/namespaces/"+ns+"/pods", map[string]any{"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": "psa-probe"}, "spec": pod})
		if ns == "tars" {
			// 403 Forbidden by the PodSecurity admission (the message is
			// long; the client keeps its tail).
			require.ErrorContains(t, err, "HTTP 403", "%s: a privileged pod in %s", stack, ns)
			require.ErrorContains(t, err, `"reason":"Forbidden"`, "%s: a privileged pod in %s", stack, ns)
		} else {
			// monitoring is privileged (node-exporter): admitted, then removed.
			require.NoError(t, err, "%s: a host-network pod in %s", stack, ns)
			require.NoError(t, srv.Delete(ctx, "/api/v1/namespaces/"+ns+"/pods/psa-probe"))
		}
	}
	loopCtx, cancel := context.WithCancel(ctx)
	c.stop = cancel
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.kubeletAndProvisioner(loopCtx)
	}()
	return c
}

func (c *schedCluster) addNode(t *testing.T, n node) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, c.srv.Create(ctx, "/api/v1/nodes", n.body))
	require.NoError(t, c.srv.MergePatch(ctx, "/api/v1/nodes/"+n.name+"/status", map[string]any{"status": n.status}))
	// The API server taints a new node not-ready; the node lifecycle
	// controller lifts it once the kubelet reports Ready. Neither runs here.
	taints := []any{}
	if spec := asMap(n.body["spec"]); spec != nil {
		taints = asList(spec["taints"])
	}
	require.NoError(t, c.srv.MergePatch(ctx, "/api/v1/nodes/"+n.name, map[string]any{"spec": map[string]any{"taints": taints}}))
}

// notWorkloads are kinds not applied: webhook registrations (no webhook
// server runs here, and a failing webhook would refuse every object).
var notWorkloads = []string{"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService"}

// applyAll applies objects for real, namespaces first, retrying those that
// wait on another (a role binding's namespace, a CRD being served).
func applyAll(t *testing.T, srv *kubeapi.Server, objs []map[string]any) {
	t.Helper()
	ctx := context.Background()
	var todo []map[string]any
	for _, o := range objs {
		if slices.Contains(notWorkloads, fmt.Sprint(o["kind"])) {
			continue
		}
		todo = append(todo, o)
	}
	sort.SliceStable(todo, func(i, j int) bool { return todo[i]["kind"] == "Namespace" && todo[j]["kind"] != "Namespace" })
	for pass := 0; len(todo) > 0; pass++ {
		var failed []map[string]any
		var errs []string
		for _, o := range todo {
			if err := srv.Apply(ctx, o, false); err != nil {
				failed = append(failed, o)
				errs = append(errs, err.Error())
			}
		}
		if len(failed) == len(todo) || pass == 3 {
			require.Empty(t, errs, "objects the API server refused")
		}
		todo = failed
		if len(todo) > 0 {
			time.Sleep(time.Second)
		}
	}
}

// kubeletAndProvisioner plays the kubelet for every bound pod (running and
// ready, so StatefulSets create their next pod and Deployments count it
// available) and the EBS CSI provisioner for every claim the scheduler
// picked a node for (a volume in that node's zone, bound to the claim).
func (c *schedCluster) kubeletAndProvisioner(ctx context.Context) {
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.runPods(ctx)
		c.provision(ctx)
	}
}

func (c *schedCluster) runPods(ctx context.Context) {
	pods, err := c.srv.List(ctx, "/api/v1/pods")
	if err != nil {
		return
	}
	now := time.Now().UTC().Format(time.RFC3339)
	for _, p := range pods {
		spec, status, meta := asMap(p["spec"]), asMap(p["status"]), asMap(p["metadata"])
		if spec["nodeName"] == nil || status["phase"] != "Pending" {
			continue
		}
		var cs []any
		for _, ctr := range asList(spec["containers"]) {
			cs = append(cs, map[string]any{
				"name": asMap(ctr)["name"], "image": asMap(ctr)["image"], "imageID": "", "ready": true, "restartCount": 0,
				"started": true, "state": map[string]any{"running": map[string]any{"startedAt": now}},
			})
		}
		cond := func(typ string) map[string]any {
			return map[string]any{"type": typ, "status": "True", "lastTransitionTime": now}
		}
		_ = c.srv.MergePatch(ctx, fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/status", meta["namespace"], meta["name"]), map[string]any{
			"status": map[string]any{
				"phase": "Running", "startTime": now, "podIP": "10.0.0.1", "hostIP": "10.0.0.2",
				"conditions":        []any{cond("PodScheduled"), cond("Initialized"), cond("ContainersReady"), cond("Ready")},
				"containerStatuses": cs,
			},
		}) // retried on the next tick if it fails
	}
}

const selectedNodeAnnotation = "volume.kubernetes.io/selected-node"

func (c *schedCluster) provision(ctx context.Context) {
	pvcs, err := c.srv.List(ctx, "/api/v1/persistentvolumeclaims")
	if err != nil {
		return
	}
	zoneOf := map[string]string{}
	for _, n := range c.nodes {
		zoneOf[n.name] = n.zone
	}
	for _, pvc := range pvcs {
		meta, spec := asMap(pvc["metadata"]), asMap(pvc["spec"])
		selected, _ := asMap(meta["annotations"])[selectedNodeAnnotation].(string)
		if selected == "" || spec["volumeName"] != nil {
			continue
		}
		zone := zoneOf[selected]
		if zone == "" {
			continue
		}
		uid := fmt.Sprint(meta["uid"])
		_ = c.srv.Create(ctx, "/api/v1/persistentvolumes", map[string]any{
			"apiVersion": "v1", "kind": "PersistentVolume",
			"metadata": map[string]any{"name": "pvc-" + uid, "labels": map[string]any{"topology.kubernetes.io/zone": zone}},
			"spec": map[string]any{
				"capacity":                      map[string]any{"storage": asMap(asMap(spec["resources"])["requests"])["storage"]},
				"accessModes":                   spec["accessModes"],
				"storageClassName":              spec["storageClassName"],
				"persistentVolumeReclaimPolicy": "Delete",
				"claimRef": map[string]any{
					"apiVersion": "v1", "kind": "PersistentVolumeClaim",
					"namespace": meta["namespace"], "name": meta["name"], "uid": uid,
				},
				"csi": map[string]any{"driver": "ebs.csi.aws.com", "volumeHandle": "vol-" + uid[:8], "fsType": "ext4"},
				"nodeAffinity": map[string]any{"required": map[string]any{"nodeSelectorTerms": []any{map[string]any{
					"matchExpressions": []any{map[string]any{"key": "topology.kubernetes.io/zone", "operator": "In", "values": []any{zone}}},
				}}}},
			},
		}) // exists already from an earlier tick: fine
	}
}

// podState is one pod as the scheduler left it.
type podState struct {
	ns, name, owner, node, reason string
}

// pods lists every pod with its owner ("StatefulSet redis/redis") and the
// node it is bound to, or the scheduler's reason when it is not.
func (c *schedCluster) pods(t *testing.T) []podState {
	t.Helper()
	items, err := c.srv.List(context.Background(), "/api/v1/pods")
	require.NoError(t, err)
	rsOwner := map[string]string{}
	rss, err := c.srv.List(context.Background(), "/apis/apps/v1/replicasets")
	require.NoError(t, err)
	for _, rs := range rss {
		meta := asMap(rs["metadata"])
		for _, o := range asList(meta["ownerReferences"]) {
			rsOwner[fmt.Sprint(meta["namespace"], "/", meta["name"])] = fmt.Sprint(asMap(o)["kind"], " ", meta["namespace"], "/", asMap(o)["name"])
		}
	}
	var out []podState
	for _, p := range items {
		meta, spec, status := asMap(p["metadata"]), asMap(p["spec"]), asMap(p["status"])
		ps := podState{ns: fmt.Sprint(meta["namespace"]), name: fmt.Sprint(meta["name"])}
		for _, o := range asList(meta["ownerReferences"]) {
			om := asMap(o)
			ps.owner = fmt.Sprint(om["kind"], " ", ps.ns, "/", om["name"])
			if om["kind"] == "ReplicaSet" {
				if d, ok := rsOwner[fmt.Sprint(ps.ns, "/", om["name"])]; ok {
					ps.owner = d
				}
			}
		}
		if n, ok := spec["nodeName"].(string); ok {
			ps.node = n
		}
		for _, cd := range asList(status["conditions"]) {
			if cm := asMap(cd); cm["type"] == "PodScheduled" && cm["status"] == "False" {
				ps.reason = fmt.Sprint(cm["message"])
			}
		}
		out = append(out, ps)
	}
	return out
}

// workloadsComplete reports what the controllers have not yet created:
// a Deployment, StatefulSet or Job short of pods, a DaemonSet not on
// every node it should be on.
func (c *schedCluster) workloadsComplete(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	var missing []string
	seen := map[string]bool{}
	for kind, path := range map[string]string{"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"} {
		items, err := c.srv.List(ctx, "/apis/apps/v1/"+path)
		require.NoError(t, err)
		for _, w := range items {
			meta, spec, status := asMap(w["metadata"]), asMap(w["spec"]), asMap(w["status"])
			id := fmt.Sprintf("%s %s/%s", kind, meta["namespace"], meta["name"])
			seen[id] = true
			kind := path
			switch kind {
			case "daemonsets":
				if toInt(status["desiredNumberScheduled"]) == 0 && c.nodeless[id] {
					continue // runs on no node here, by design
				}
				if toInt(status["desiredNumberScheduled"]) == 0 || toInt(status["currentNumberScheduled"]) < toInt(status["desiredNumberScheduled"]) {
					missing = append(missing, id)
				}
			default:
				want := 1
				if r, ok := spec["replicas"]; ok {
					want = toInt(r)
				}
				if toInt(status["replicas"]) < want {
					missing = append(missing, fmt.Sprintf("%s: %d of %d pods", id, toInt(status["replicas"]), want))
				}
			}
		}
	}
	for _, e := range c.expected {
		if !seen[e] {
			missing = append(missing, e+": not created")
		}
	}
	sort.Strings(missing)
	return missing
}

// settle waits until every workload has its pods and every pod is bound,
// at most limit; it returns the pods and what is still missing.
func (c *schedCluster) settle(t *testing.T, limit time.Duration, wantAllBound bool) ([]podState, []string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	stableSince := time.Time{}
	var lastSig string
	for {
		pods := c.pods(t)
		missing := c.workloadsComplete(t)
		var pending []string
		bound := 0
		for _, p := range pods {
			if p.node == "" {
				pending = append(pending, fmt.Sprintf("%s/%s (%s): %s", p.ns, p.name, p.owner, p.reason))
			} else {
				bound++
			}
		}
		sort.Strings(pending)
		if wantAllBound && len(missing) == 0 && len(pending) == 0 && len(pods) > 0 {
			return pods, nil
		}
		// Without wanting all bound: done once nothing changed for 15 s.
		sig := fmt.Sprint(bound, len(pods), missing)
		if sig != lastSig {
			lastSig, stableSince = sig, time.Now()
		} else if !wantAllBound && time.Since(stableSince) > 15*time.Second {
			return pods, append(missing, pending...)
		}
		if time.Now().After(deadline) {
			return pods, append(missing, pending...)
		}
		time.Sleep(time.Second)
	}
}

// placement summarises which nodes and zones a workload's pods are on.
func placement(pods []podState, nodes []node) map[string]map[string]int {
	zoneOf := map[string]string{}
	for _, n := range nodes {
		zoneOf[n.name] = n.zone
	}
	out := map[string]map[string]int{}
	for _, p := range pods {
		if p.owner == "" || p.node == "" || strings.HasPrefix(p.owner, "DaemonSet") || zoneOf[p.node] == "" {
			continue // not bound, or bound to a node that is gone
		}
		if out[p.owner] == nil {
			out[p.owner] = map[string]int{}
		}
		out[p.owner][zoneOf[p.node]]++
	}
	return out
}

// stackNodes are the nodes of the stack's node groups, count of each.
func stackNodes(t *testing.T, stack string, count func(nodeGroup) int) []node {
	t.Helper()
	g := mustRun(t, stack)
	return nodesFor(nodeGroups(t, g), regionOf(t, g), count)
}

func regionOf(t *testing.T, g *harness.Graph) string {
	t.Helper()
	for _, s := range g.ByType("aws:ec2/subnet:Subnet") {
		if z, _ := s.JSONInputs()["availabilityZone"].(string); len(z) > 1 {
			return z[:len(z)-1]
		}
	}
	t.Fatal("no subnet zone in the graph")
	return ""
}

// TestSchedulingMinimumCluster: each stack starts on its minimum cluster
// (every node group at its minimum size). While pods stay Pending for lack
// of CPU or memory, the platform needs more nodes at rest: the cluster is
// started again with one node more (the group's smallest instance type,
// zones in turn), up to the group's maximum — the size the Cluster
// Autoscaler would settle at. Every pod of every workload, the program's
// and the charts', must then be bound, and the node count is reported. A
// pod the scheduler cannot place for any other reason (an affinity, a
// volume's zone) fails at once, with the scheduler's reason.
func TestSchedulingMinimumCluster(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	for _, stack := range Stacks {
		t.Run(stack, func(t *testing.T) {
			t.Parallel() // each stack has its own control plane
			g := mustRun(t, stack)
			groups := nodeGroups(t, g)
			require.Len(t, groups, 1, "the scale-up model knows one node group")
			ng, region := groups[0], regionOf(t, g)
			start := time.Now()
			for count := ng.min; ; count++ {
				nodes := nodesFor(groups, region, func(nodeGroup) int { return count })
				c := startSchedCluster(t, stack, nodes)
				// Done when all are bound, or nothing changed for 15 s.
				pods, problems := c.settle(t, 2*time.Minute, false)
				if len(problems) == 0 {
					t.Logf("%s: %d pods of %d workloads bound on %d nodes (minimum %d, %s) in %s", stack, len(pods), len(placement(pods, nodes)),
						len(nodes), ng.min, ng.instance, time.Since(start).Round(time.Second))
					logUsage(t, c, nodes)
					return
				}
				for _, p := range problems {
					require.Regexp(t, `Insufficient (cpu|memory)`, p, "a pod that more nodes would not place\n--- prometheus-operator log (tail):\n%s",
						tailString(c.srv.ProcessLogs("prometheus-operator"), 3000))
				}
				require.Less(t, count, ng.max, "pods still Pending at the node group's maximum (%d nodes): %v", ng.max, problems)
				t.Logf("%s: on %d nodes %d pod(s) stay Pending for capacity (%s); trying %d", stack, count, len(problems), tailString(problems[0], 200), count+1)
				c.close()
			}
		})
	}
}

// logUsage reports each node's requested CPU and memory against its
// allocatable, from the pods bound to it.
func logUsage(t *testing.T, c *schedCluster, nodes []node) {
	t.Helper()
	items, err := c.srv.List(context.Background(), "/api/v1/pods")
	require.NoError(t, err)
	cpu, mem, count := map[string]int64{}, map[string]int64{}, map[string]int{}
	for _, p := range items {
		spec := asMap(p["spec"])
		n, _ := spec["nodeName"].(string)
		if n == "" {
			continue
		}
		count[n]++
		for _, ctr := range asList(spec["containers"]) {
			req := asMap(asMap(asMap(ctr)["resources"])["requests"])
			cpu[n] += milli(fmt.Sprint(req["cpu"]))
			mem[n] += mebi(fmt.Sprint(req["memory"]))
		}
	}
	for _, n := range nodes {
		alloc := asMap(n.status["allocatable"])
		t.Logf("  %s: %d pods, cpu %dm of %v, memory %dMi of %v", n.name, count[n.name], cpu[n.name], alloc["cpu"], mem[n.name], alloc["memory"])
	}
}

func milli(q string) int64 {
	var v float64
	switch {
	case q == "" || q == "<nil>":
		return 0
	case strings.HasSuffix(q, "m"):
		_, _ = fmt.Sscanf(strings.TrimSuffix(q, "m"), "%g", &v)
		return int64(v)
	default:
		_, _ = fmt.Sscanf(q, "%g", &v)
		return int64(v * 1000)
	}
}

func mebi(q string) int64 {
	units := []struct {
		suffix string
		mib    float64
	}{{"Gi", 1024}, {"Mi", 1}, {"Ki", 1.0 / 1024}, {"G", 1e9 / (1 << 20)}, {"M", 1e6 / (1 << 20)}}
	for _, u := range units {
		if strings.HasSuffix(q, u.suffix) {
			var v float64
			_, _ = fmt.Sscanf(strings.TrimSuffix(q, u.suffix), "%g", &v)
			return int64(v * u.mib)
		}
	}
	var v float64
	if _, err := fmt.Sscanf(q, "%g", &v); err == nil {
		return int64(v / (1 << 20))
	}
	return 0
}

// quorum is how many pods of a workload must stay up through a zone loss.
type quorum struct {
	owner     string // "StatefulSet namespace/name"
	members   int
	minAlive  int
	rationale string
}

// quorums are the stateful workloads whose quorum a zone loss must not
// break; "<region>" in an owner is the stack's region.
var quorums = []quorum{
	{owner: "StatefulSet tars-postgres/tars-pg-<region>", members: 3, minAlive: 2,
		rationale: "the primary and a local synchronous standby (ANY 1): commits stay durable inside the region; CloudNativePG's pods, modelled as a StatefulSet"},
	{owner: "StatefulSet tars-data/redis", members: 6, minAlive: 4,
		rationale: "3 masters in 3 zones, each replica outside its master's zone: a zone may take one master and one replica, and 2 of 3 masters must remain to elect the replacement"},
	{owner: "StatefulSet monitoring/alertmanager-kube-prometheus-stack-alertmanager", members: 3, minAlive: 2,
		rationale: "a majority of the gossip mesh keeps deduplicating notifications"},
	{owner: "StatefulSet monitoring/prometheus-kube-prometheus-stack-prometheus", members: 2, minAlive: 1,
		rationale: "two identical replicas: one keeps evaluating the rules"},
}

// stackQuorums are the quorums with the region's names filled in.
func stackQuorums(region string) []quorum {
	out := slices.Clone(quorums)
	for i := range out {
		out[i].owner = strings.ReplaceAll(out[i].owner, "<region>", region)
	}
	return out
}

// TestSchedulingZoneLoss: each stack at its maximum node count over three
// zones, every pod bound; then the zone holding the most quorum members
// loses its nodes (their pods are evicted, their volumes stay in that zone).
// The controllers recreate the pods and the scheduler places what it can on
// the other two zones. Every stateful workload must keep its quorum.
func TestSchedulingZoneLoss(t *testing.T) {
	t.Parallel() // slow and independent: runs beside the other slow tiers
	for _, stack := range Stacks {
		t.Run(stack, func(t *testing.T) {
			t.Parallel() // each stack has its own control plane
			nodes := stackNodes(t, stack, func(ng nodeGroup) int { return ng.max })
			c := startSchedCluster(t, stack, nodes)
			qs := stackQuorums(fmt.Sprint(asMap(renderStack(t, stack).graph.Config.Values["tars:topology"])["region"]))
			pods, problems := c.settle(t, 3*time.Minute, true)
			require.Empty(t, problems, "pods the scheduler did not bind at maximum size (%d nodes)", len(nodes))
			before := placement(pods, nodes)
			for _, q := range qs {
				require.Contains(t, before, q.owner, "%s is not among the stack's workloads", q.owner)
			}

			// The zone with the most quorum members goes.
			load := map[string]int{}
			for _, q := range qs {
				for z, n := range before[q.owner] {
					load[z] += n
				}
			}
			lost := ""
			for _, z := range sortedZones(nodes) {
				if lost == "" || load[z] > load[lost] {
					lost = z
				}
			}
			// The nodes go first (nothing may land on them again), then
			// their pods, as the node lifecycle controller evicts them.
			ctx := context.Background()
			var left []node
			inLost := map[string]bool{}
			for _, n := range nodes {
				if n.zone == lost {
					require.NoError(t, c.srv.Delete(ctx, "/api/v1/nodes/"+n.name))
					inLost[n.name] = true
				} else {
					left = append(left, n)
				}
			}
			for _, p := range pods {
				if inLost[p.node] {
					require.NoError(t, c.srv.Delete(ctx, fmt.Sprintf("/api/v1/namespaces/%s/pods/%s", p.ns, p.name)))
				}
			}
			after, pending := c.settle(t, 2*time.Minute, false)
			for _, p := range after {
				if strings.Contains(p.owner, "StatefulSet") {
					t.Logf("    %s/%s on %q %s", p.ns, p.name, p.node, p.reason)
				}
			}
			t.Logf("%s: zone %s lost (%d of %d nodes left); still unplaced after rescheduling:\n  %s", stack, lost, len(left), len(nodes), strings.Join(pending, "\n  "))
			placed := placement(after, left)
			for _, q := range qs {
				alive := 0
				for z, n := range placed[q.owner] {
					if z != lost {
						alive += n
					}
				}
				t.Logf("  %s: %d of %d up (before: %v), quorum %d: %s", q.owner, alive, q.members, before[q.owner], q.minAlive, q.rationale)
				if alive < q.minAlive {
					t.Errorf("%s: losing zone %s leaves %d of %d members, below its quorum of %d", q.owner, lost, alive, q.members, q.minAlive)
				}
			}
		})
	}
}

func sortedZones(nodes []node) []string {
	var zs []string
	for _, n := range nodes {
		if !slices.Contains(zs, n.zone) {
			zs = append(zs, n.zone)
		}
	}
	sort.Strings(zs)
	return zs
}

func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asList(v any) []any         { l, _ := v.([]any); return l }

func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}
