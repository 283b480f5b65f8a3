package costmodel

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Resource is one Pulumi resource: its type token, name and plain inputs.
type Resource struct {
	Type, Name string
	Inputs     map[string]any
}

// Inventory is what a region pays for.
type Inventory struct {
	// AwsRegion is where the subnets are ("" when the graph has none).
	AwsRegion     string
	ControlPlanes int
	NodeGroups    []NodeGroup
	NATGateways   int
	// ElasticIPs are the public IPv4 addresses the program allocates.
	ElasticIPs int
	// PublicSubnets: an internet-facing load balancer holds a public IPv4
	// address in each.
	PublicSubnets int
	LoadBalancers []LoadBalancer
	Volumes       []Volume
	Buckets       int
	KMSKeys       int
	HealthChecks  []HealthCheck
	Alarms        int
	// LogGroups with their retention in days (0: never expires, priced as
	// one year).
	LogGroups []int
	Peerings  int
}

// NodeGroup is a managed node group.
type NodeGroup struct {
	Name          string
	InstanceTypes []string
	Min, Max      int
	// DiskGiB is each node's root volume.
	DiskGiB float64
}

// LoadBalancer is an ALB (Ingress) or NLB (Service).
type LoadBalancer struct {
	Name string
	// Network: an NLB; otherwise an ALB.
	Network bool
	// InternetFacing load balancers hold public IPv4 addresses.
	InternetFacing bool
}

// Volume is a persistent volume a claim asks for.
type Volume struct {
	// Owner is the object that claims it ("StatefulSet tars-data/redis data").
	Owner string
	GiB   float64
}

// HealthCheck is a Route 53 health check and its priced options.
type HealthCheck struct {
	Name    string
	Options []string
}

// VolumeGiB is the total claimed.
func (inv Inventory) VolumeGiB() float64 {
	t := 0.0
	for _, v := range inv.Volumes {
		t += v.GiB
	}
	return t
}

// Collect reads the inventory from a region's Pulumi resources and its
// Kubernetes objects (the program's and the charts' rendered ones; a
// Pulumi Kubernetes resource's inputs are an object too). It fails on what
// it cannot read rather than pricing it as zero.
func Collect(resources []Resource, objects []map[string]any) (Inventory, error) {
	var inv Inventory
	var errs []string
	launchDisk := map[string]float64{}
	for _, r := range resources {
		if r.Type == "aws:ec2/launchTemplate:LaunchTemplate" {
			for _, bd := range list(r.Inputs["blockDeviceMappings"]) {
				if n, ok := number(dig(bd, "ebs", "volumeSize")); ok {
					launchDisk[r.Name] += n
				}
			}
		}
	}
	for _, r := range resources {
		in := r.Inputs
		switch r.Type {
		case "aws:eks/cluster:Cluster":
			inv.ControlPlanes++
		case "aws:eks/nodeGroup:NodeGroup":
			g := NodeGroup{Name: r.Name, InstanceTypes: strs(in["instanceTypes"])}
			mn, ok1 := number(dig(in, "scalingConfig", "minSize"))
			mx, ok2 := number(dig(in, "scalingConfig", "maxSize"))
			if !ok1 || !ok2 || len(g.InstanceTypes) == 0 {
				errs = append(errs, fmt.Sprintf("node group %s: no instance types or scaling config", r.Name))
				continue
			}
			g.Min, g.Max = int(mn), int(mx)
			if d, ok := number(in["diskSize"]); ok {
				g.DiskGiB = d
			} else if d, ok := launchDisk[r.Name]; ok {
				// The program names a group's launch template after it.
				g.DiskGiB = d
			} else {
				g.DiskGiB = 20 // EKS's default root volume
			}
			inv.NodeGroups = append(inv.NodeGroups, g)
		case "aws:ec2/natGateway:NatGateway":
			inv.NATGateways++
		case "aws:ec2/eip:Eip":
			inv.ElasticIPs++
		case "aws:ec2/subnet:Subnet":
			if az, ok := in["availabilityZone"].(string); ok && len(az) > 1 {
				inv.AwsRegion = strings.TrimRight(az, "abcdefghijklmnopqrstuvwxyz")
			}
			if fmt.Sprint(dig(in, "tags", "kubernetes.io/role/elb")) == "1" {
				inv.PublicSubnets++
			}
		case "aws:s3/bucketV2:BucketV2", "aws:s3/bucket:Bucket":
			inv.Buckets++
		case "aws:kms/key:Key":
			inv.KMSKeys++
		case "aws:route53/healthCheck:HealthCheck":
			inv.HealthChecks = append(inv.HealthChecks, healthCheck(r.Name, in))
		case "aws:cloudwatch/metricAlarm:MetricAlarm":
			inv.Alarms++
		case "aws:cloudwatch/logGroup:LogGroup":
			days, _ := number(in["retentionInDays"])
			inv.LogGroups = append(inv.LogGroups, int(days))
		case "aws:ec2/vpcPeeringConnection:VpcPeeringConnection":
			inv.Peerings++
		}
	}
	for _, o := range objects {
		lb, vols, err := objectCosts(o)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if lb != nil && !slices.ContainsFunc(inv.LoadBalancers, func(l LoadBalancer) bool { return l.Name == lb.Name }) {
			inv.LoadBalancers = append(inv.LoadBalancers, *lb)
		}
		inv.Volumes = append(inv.Volumes, vols...)
	}
	sort.Slice(inv.Volumes, func(i, j int) bool { return inv.Volumes[i].Owner < inv.Volumes[j].Owner })
	if len(errs) > 0 {
		return inv, fmt.Errorf("cost inventory: %s", strings.Join(errs, "; "))
	}
	return inv, nil
}

// healthCheck lists the options Route 53 prices on top of a basic check.
func healthCheck(name string, in map[string]any) HealthCheck {
	h := HealthCheck{Name: name}
	typ := fmt.Sprint(in["type"])
	if strings.HasPrefix(typ, "HTTPS") {
		h.Options = append(h.Options, "HTTPS")
	}
	if strings.HasSuffix(typ, "STR_MATCH") {
		h.Options = append(h.Options, "string matching")
	}
	if n, ok := number(in["requestInterval"]); ok && n == 10 {
		h.Options = append(h.Options, "10 s interval")
	}
	if b, _ := in["measureLatency"].(bool); b {
		h.Options = append(h.Options, "latency measurement")
	}
	return h
}

// objectCosts reads one Kubernetes object: the load balancer it asks for
// and the volumes it claims.
func objectCosts(o map[string]any) (*LoadBalancer, []Volume, error) {
	kind, _ := o["kind"].(string)
	ns, _ := dig(o, "metadata", "namespace").(string)
	name, _ := dig(o, "metadata", "name").(string)
	id := fmt.Sprintf("%s %s/%s", kind, ns, name)
	spec, _ := o["spec"].(map[string]any)
	replicas := func(path ...string) float64 {
		if n, ok := number(dig(spec, path...)); ok {
			return n
		}
		return 1
	}
	claim := func(owner string, size any, times float64) ([]Volume, error) {
		if size == nil {
			return nil, nil
		}
		g, err := gib(size)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", owner, err)
		}
		out := make([]Volume, 0, int(times))
		for i := 0; i < int(times); i++ {
			out = append(out, Volume{Owner: owner, GiB: g})
		}
		return out, nil
	}
	annotations, _ := dig(o, "metadata", "annotations").(map[string]any)
	switch kind {
	case "Ingress":
		class, _ := spec["ingressClassName"].(string)
		if class == "" {
			class, _ = annotations["kubernetes.io/ingress.class"].(string)
		}
		if class != "alb" {
			return nil, nil, nil
		}
		// Ingresses of one group share a load balancer: the group counts once.
		if g, ok := annotations["alb.ingress.kubernetes.io/group.name"].(string); ok && g != "" {
			id = "group " + g
		}
		return &LoadBalancer{Name: id, InternetFacing: annotations["alb.ingress.kubernetes.io/scheme"] == "internet-facing"}, nil, nil
	case "Service":
		if spec["type"] != "LoadBalancer" {
			return nil, nil, nil
		}
		return &LoadBalancer{Name: id, Network: true, InternetFacing: annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"] == "internet-facing"}, nil, nil
	case "PersistentVolumeClaim":
		v, err := claim(id, dig(spec, "resources", "requests", "storage"), 1)
		return nil, v, err
	case "StatefulSet":
		var out []Volume
		for _, t := range list(spec["volumeClaimTemplates"]) {
			tn, _ := dig(t, "metadata", "name").(string)
			v, err := claim(id+" "+tn, dig(t, "spec", "resources", "requests", "storage"), replicas("replicas"))
			if err != nil {
				return nil, nil, err
			}
			out = append(out, v...)
		}
		return nil, out, nil
	case "Prometheus", "Alertmanager":
		// The operator's StatefulSets: one claim per replica (and shard).
		n := replicas("replicas")
		if kind == "Prometheus" {
			n *= replicas("shards")
		}
		v, err := claim(id, dig(spec, "storage", "volumeClaimTemplate", "spec", "resources", "requests", "storage"), n)
		return nil, v, err
	case "Cluster":
		if !strings.HasPrefix(fmt.Sprint(o["apiVersion"]), "postgresql.cnpg.io/") {
			return nil, nil, nil
		}
		n := replicas("instances")
		data, err := claim(id+" data", dig(spec, "storage", "size"), n)
		if err != nil {
			return nil, nil, err
		}
		wal, err := claim(id+" wal", dig(spec, "walStorage", "size"), n)
		return nil, append(data, wal...), err
	}
	return nil, nil, nil
}

// gib converts a quantity ("100Gi", "128G") to GiB.
func gib(v any) (float64, error) {
	q, err := resource.ParseQuantity(fmt.Sprint(v))
	if err != nil {
		return 0, fmt.Errorf("storage %q is not a quantity", v)
	}
	return q.AsApproximateFloat64() / (1 << 30), nil
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func list(v any) []any { l, _ := v.([]any); return l }

func strs(v any) []string {
	var out []string
	for _, e := range list(v) {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}
