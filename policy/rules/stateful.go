package rules

import (
	"fmt"
	"github.com/tars-platform/infra/slo"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Type tokens and settings the stateful rules read (issue #25: nothing
// stateful is lost by a mistake).
const (
	typePVC             = "kubernetes:core/v1:PersistentVolumeClaim"
	typeStorageClass    = "kubernetes:storage.k8s.io/v1:StorageClass"
	defaultClassKey     = "storageclass.kubernetes.io/is-default-class"
	reclaimRetain       = "Retain"
	reclaimDelete       = "Delete"
	protectFix          = "set tars:protect: true in the stack file (if it is already, the program must give the resource keep.Keep's Data or Stateful options)"
	chartOpenSearch     = "opensearch"
	chartKubecost       = "kubecost"
	chartCostAnalyzer   = "cost-analyzer"
	recordGeoPart       = "-edge-geo-"
	recordGeoDefault    = "-edge-geo-default"
	kmsDeletionWindow   = slo.KMSDeletionWindowDays
	kmsDeletionWindowIn = "deletionWindowInDays"
)

// StatefulKind is one entry of the reviewed list of stateful resources:
// resources whose deletion or replacement loses data or identity, so each
// must be protected (tars:protect).
type StatefulKind struct {
	// Type is the resource type token.
	Type string
	// Which says in words which resources of Type are stateful ("every").
	Which string
	// Match selects the stateful resources of Type; nil selects every one.
	// dataNamespaces are the namespaces holding data claims (see
	// DataClaims).
	Match func(r policyx.AnalyzerResource, dataNamespaces map[string]bool) bool
	// Why is what a deletion would lose.
	Why string
}

// StatefulKinds is the reviewed list.
var StatefulKinds = []StatefulKind{
	{Type: typeBucketV2, Which: "every", Why: "an S3 bucket holds backups, WAL, metrics, logs or reports"},
	{Type: typeBucket, Which: "every", Why: "an S3 bucket holds backups, WAL, metrics, logs or reports"},
	{Type: typeKMSKey, Which: "every", Why: "a KMS key is the only way to read what it encrypted"},
	{Type: typeEKSCluster, Which: "every", Why: "the EKS cluster runs every workload and its volumes' attachments; a replacement is a regional outage"},
	{Type: typeCNPGCluster, Which: "every", Why: "the CloudNativePG Cluster is the Postgres database"},
	{Type: typeStatefulSet, Which: "with volumeClaimTemplates",
		Match: func(r policyx.AnalyzerResource, _ map[string]bool) bool {
			return len(mapList(r.Properties, "spec.volumeClaimTemplates")) > 0
		},
		Why: "a StatefulSet with volume claim templates owns data volumes"},
	{Type: typeNamespace, Which: "holding a data claim",
		Match: func(r policyx.AnalyzerResource, ns map[string]bool) bool {
			n, ok := str(r.Properties, "metadata.name")
			return ok && ns[n]
		},
		Why: "deleting a namespace deletes every volume claim in it"},
	{Type: typeRecord, Which: "the region's own edge records (-edge-region, -edge-geo-<STATE>, -edge-failover, -edge-latency, -edge-weighted; not -edge-geo-default, which moves between stacks)",
		Match: func(r policyx.AnalyzerResource, _ map[string]bool) bool { return ownEdgeRecord(r.Name) },
		Why:   "the region's own DNS records route users to it; losing one drops its traffic"},
}

// ownEdgeRecord says whether a record's logical name is one the region
// owns for good. -edge-geo-default moves between stacks (singletonsOwner,
// allowOverwrite) and ACM validation records are recreated at will.
func ownEdgeRecord(name string) bool {
	if strings.Contains(name, "-validation-") {
		return false
	}
	for _, suffix := range []string{"-edge-region", "-edge-failover", "-edge-latency", "-edge-weighted"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return strings.Contains(name, recordGeoPart) && !strings.HasSuffix(name, recordGeoDefault)
}

// Stateful is one resource of a stack that the reviewed list calls
// stateful.
type Stateful struct {
	Resource policyx.AnalyzerResource
	Why      string
}

// StatefulResources returns the stateful resources of a stack, in input
// order.
func StatefulResources(rs []policyx.AnalyzerResource) []Stateful {
	ns := map[string]bool{}
	for _, c := range DataClaims(rs) {
		if c.Namespace != "" {
			ns[c.Namespace] = true
		}
	}
	var out []Stateful
	for _, r := range rs {
		for _, k := range StatefulKinds {
			if r.Type == k.Type && (k.Match == nil || k.Match(r, ns)) {
				out = append(out, Stateful{Resource: r, Why: k.Why})
				break
			}
		}
	}
	return out
}

// ScratchClaim is a reviewed exemption: a chart's volume claim that holds
// only what can be rebuilt, so it may sit on a Delete class.
type ScratchClaim struct {
	Chart string
	// Path is the claim's path in the release inputs.
	Path string
	Why  string
}

// ScratchClaims is the reviewed list of exempt claims.
var ScratchClaims = []ScratchClaim{
	{Chart: chartThanos, Path: "values.compact.persistence",
		Why: "the Thanos compactor's volume is a work area; the blocks live in the thanos bucket"},
	{Chart: chartKubecost, Path: "values.global.defaultStorageClass",
		Why: "Kubecost's database is rebuilt from Prometheus and the cloud bill"},
	{Chart: chartCostAnalyzer, Path: "values.global.defaultStorageClass",
		Why: "Kubecost's database is rebuilt from Prometheus and the cloud bill"},
}

// chartClaim is where a chart's values hold a volume claim: path must be
// present for the claim to exist, class is the path of its StorageClass,
// enabled the path of its switch ("" when it has none), offByDefault when
// the chart leaves the claim off unless enabled says true.
type chartClaim struct {
	chart, path, class, enabled string
	offByDefault                bool
}

// chartClaims are the volume claims of the charts the platform installs,
// as their values name them.
var chartClaims = []chartClaim{
	{chart: chartKubePrometheus, path: "values.prometheus.prometheusSpec.storageSpec",
		class: "values.prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName"},
	{chart: chartKubePrometheus, path: "values.alertmanager.alertmanagerSpec.storage",
		class: "values.alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName"},
	{chart: chartLoki, path: "values.singleBinary.persistence",
		class: "values.singleBinary.persistence.storageClass", enabled: "values.singleBinary.persistence.enabled"},
	// Grafana keeps its state in the HA database; a volume, if turned on,
	// is data too.
	{chart: chartKubePrometheus, path: "values.grafana.persistence",
		class: "values.grafana.persistence.storageClassName", enabled: "values.grafana.persistence.enabled", offByDefault: true},
	{chart: chartGrafana, path: "values.persistence",
		class: "values.persistence.storageClassName", enabled: "values.persistence.enabled", offByDefault: true},
	{chart: chartOpenSearch, path: "values.persistence",
		class: "values.persistence.storageClass", enabled: "values.persistence.enabled"},
	{chart: chartThanos, path: "values.compact.persistence",
		class: "values.compact.persistence.storageClass", enabled: "values.compact.persistence.enabled"},
	{chart: chartKubecost, path: "values.global.defaultStorageClass", class: "values.global.defaultStorageClass"},
	{chart: chartCostAnalyzer, path: "values.global.defaultStorageClass", class: "values.global.defaultStorageClass"},
}

// DataClaim is one data volume claim of a stack.
type DataClaim struct {
	Resource policyx.AnalyzerResource
	// Path is where the claim sits in the resource's inputs.
	Path string
	// Class is the StorageClass it names; "" for the default class.
	Class string
	// Namespace is where the claim lives ("" when unknown).
	Namespace string
}

// DataClaims returns the data volume claims of a stack: StatefulSet claim
// templates, PersistentVolumeClaims, CloudNativePG storage and the charts'
// data volumes, without the reviewed scratch claims. Claims whose class is
// unknown during a preview are left out (checked again on `pulumi up`).
func DataClaims(rs []policyx.AnalyzerResource) []DataClaim {
	var out []DataClaim
	add := func(r policyx.AnalyzerResource, path, ns string, class property.Value) {
		if class.IsComputed() || class.HasComputed() {
			return
		}
		c := ""
		if class.IsString() {
			c = class.AsString()
		}
		out = append(out, DataClaim{Resource: r, Path: path, Class: c, Namespace: ns})
	}
	for _, r := range rs {
		ns, _ := str(r.Properties, "metadata.namespace")
		switch r.Type {
		case typeStatefulSet:
			for i, t := range mapList(r.Properties, "spec.volumeClaimTemplates") {
				add(r, fmt.Sprintf("spec.volumeClaimTemplates[%d]", i), ns, at(t, "spec.storageClassName"))
			}
		case typePVC:
			add(r, "spec.storageClassName", ns, at(r.Properties, "spec.storageClassName"))
		case typeCNPGCluster:
			for _, p := range []string{"spec.storage", "spec.walStorage"} {
				if at(r.Properties, p).IsMap() {
					add(r, p+".storageClass", ns, at(r.Properties, p+".storageClass"))
				}
			}
		case typeHelmRelease:
			releaseClaims(r, add)
		}
	}
	return out
}

// releaseClaims adds a release's chart claims through add; the release's
// namespace is its input namespace.
func releaseClaims(r policyx.AnalyzerResource, add func(policyx.AnalyzerResource, string, string, property.Value)) {
	chart, _ := str(r.Properties, "chart")
	ns, _ := str(r.Properties, "namespace")
	for _, c := range chartClaims {
		if c.chart != chart || scratch(chart, c.path) {
			continue
		}
		if at(r.Properties, c.path).IsNull() {
			continue // no such volume (the chart's emptyDir or off)
		}
		if c.enabled != "" {
			on, ok := boolean(r.Properties, c.enabled)
			if !ok {
				on = !c.offByDefault
			}
			if !on {
				continue
			}
		}
		add(r, c.class, ns, at(r.Properties, c.class))
	}
}

func scratch(chart, path string) bool {
	return slices.ContainsFunc(ScratchClaims, func(s ScratchClaim) bool { return s.Chart == chart && s.Path == path })
}

func statefulPolicies() []policyx.Policy {
	mandatory := policyx.EnforcementLevelMandatory
	return []policyx.Policy{
		stackPolicy("stateful-resources-protected",
			fmt.Sprintf("Every stateful resource of the reviewed list (buckets, KMS keys, the EKS and Postgres clusters, StatefulSets with claims, namespaces holding data claims, the region's own DNS records) is protected, and KMS keys wait %d days before deletion.", kmsDeletionWindow),
			mandatory, statefulProtected),
		stackPolicy("data-claims-retained",
			"Every data volume claim names a StorageClass of the stack whose reclaimPolicy is Retain, so deleting the claim keeps the volume.",
			mandatory, claimsRetained),
		resourcePolicy("buckets-never-force-destroy",
			"No S3 bucket sets forceDestroy, which lets a delete empty it first.",
			mandatory, nil, []string{typeBucketV2, typeBucket}, bucketForceDestroy),
	}
}

func statefulProtected(rs []policyx.AnalyzerResource) []finding {
	var out []finding
	for _, s := range StatefulResources(rs) {
		r := s.Resource
		if !r.Options.Protect {
			out = append(out, finding{r.URN, fmt.Sprintf("%s %s is stateful (%s) but not protected: %s", r.Type, r.Name, s.Why, protectFix)})
		}
	}
	for _, r := range rs {
		if r.Type != typeKMSKey {
			continue
		}
		// Absent is AWS's default, 30 days.
		if d, ok := num(r.Properties, kmsDeletionWindowIn); ok && d != kmsDeletionWindow {
			out = append(out, finding{r.URN, fmt.Sprintf("KMS key %s has %s %g, want %d: a key scheduled for deletion by mistake must stay recoverable as long as AWS allows", r.Name, kmsDeletionWindowIn, d, kmsDeletionWindow)})
		}
	}
	return out
}

// storageClass is what the claims rule reads of a StorageClass.
type storageClass struct {
	reclaim   string
	isDefault bool
}

func storageClasses(rs []policyx.AnalyzerResource) map[string]storageClass {
	out := map[string]storageClass{}
	for _, r := range rs {
		if r.Type != typeStorageClass {
			continue
		}
		name, ok := str(r.Properties, "metadata.name")
		if !ok {
			continue
		}
		reclaim, ok := str(r.Properties, "reclaimPolicy")
		if !ok {
			reclaim = reclaimDelete // the Kubernetes default
		}
		def := keys(r.Properties, "metadata", "annotations", defaultClassKey)
		out[name] = storageClass{reclaim: reclaim, isDefault: def.IsString() && def.AsString() == "true"}
	}
	return out
}

func claimsRetained(rs []policyx.AnalyzerResource) []finding {
	classes := storageClasses(rs)
	var defaults []string
	for name, c := range classes {
		if c.isDefault {
			defaults = append(defaults, name)
		}
	}
	sort.Strings(defaults)
	var out []finding
	for _, c := range DataClaims(rs) {
		where := fmt.Sprintf("%s %s claim %s", c.Resource.Type, c.Resource.Name, c.Path)
		name := c.Class
		if name == "" {
			if len(defaults) != 1 {
				out = append(out, finding{c.Resource.URN, fmt.Sprintf("%s names no StorageClass and the stack has %d default classes %v: name a class with reclaimPolicy %s", where, len(defaults), defaults, reclaimRetain)})
				continue
			}
			name = defaults[0]
		}
		sc, ok := classes[name]
		if !ok {
			out = append(out, finding{c.Resource.URN, fmt.Sprintf("%s names StorageClass %q, which the stack does not define: name a class with reclaimPolicy %s", where, name, reclaimRetain)})
			continue
		}
		if sc.reclaim != reclaimRetain {
			out = append(out, finding{c.Resource.URN, fmt.Sprintf("%s is on StorageClass %s with reclaimPolicy %s: deleting the claim deletes the volume; use a class with reclaimPolicy %s", where, name, sc.reclaim, reclaimRetain)})
		}
	}
	return out
}

func bucketForceDestroy(r policyx.AnalyzerResource, _ map[string]any) []string {
	if on, ok := boolean(r.Properties, "forceDestroy"); ok && on {
		return []string{fmt.Sprintf("bucket %s sets forceDestroy: a delete would empty it first; leave forceDestroy false", r.Name)}
	}
	return nil
}
