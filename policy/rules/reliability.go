package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Type tokens of the reliability rules.
const (
	typeDeployment  = "kubernetes:apps/v1:Deployment"
	typeStatefulSet = "kubernetes:apps/v1:StatefulSet"
	typePDB         = "kubernetes:policy/v1:PodDisruptionBudget"

	typeBucket       = "aws:s3/bucket:Bucket"
	typeBucketV2     = "aws:s3/bucketV2:BucketV2"
	typeBucketSSE    = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	typeBucketVer    = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	typeBucketPAB    = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	typeBucketPolicy = "aws:s3/bucketPolicy:BucketPolicy"
)

func reliabilityPolicies() []policyx.Policy {
	mandatory := policyx.EnforcementLevelMandatory
	return []policyx.Policy{
		resourcePolicy("workload-resources-and-non-root",
			"Every container of a Deployment or StatefulSet sets CPU and memory requests and limits and runs as non-root.",
			mandatory, nil, []string{typeDeployment, typeStatefulSet}, workloadResources),
		stackPolicy("statefulset-has-pdb",
			"Every StatefulSet is covered by a PodDisruptionBudget in its namespace.",
			mandatory, statefulSetsCovered),
		resourcePolicy("helm-release-pinned",
			"Every Helm release installs an exact chart version from a named repository and never re-resolves the chart's dependencies.",
			mandatory, nil, []string{typeHelmRelease}, helmReleasePinned),
		stackPolicy("s3-bucket-baseline",
			"S3 buckets are KMS-encrypted, versioned, block all public access and deny requests without TLS.",
			mandatory, bucketBaseline),
	}
}

func workloadResources(r policyx.AnalyzerResource, _ map[string]any) []string {
	spec := at(r.Properties, "spec.template.spec")
	if !spec.IsMap() {
		return nil // rendered from a chart or unknown until apply
	}
	pod := spec.AsMap()
	podNonRoot, _ := boolean(pod, "securityContext.runAsNonRoot")
	var out []string
	for _, list := range []string{"initContainers", "containers"} {
		for _, c := range mapList(pod, list) {
			name, _ := str(c, "name")
			for _, kind := range []string{"requests", "limits"} {
				for _, res := range []string{"cpu", "memory"} {
					if at(c, "resources."+kind+"."+res).IsNull() {
						out = append(out, fmt.Sprintf("container %s has no resources.%s.%s", name, kind, res))
					}
				}
			}
			nonRoot, set := boolean(c, "securityContext.runAsNonRoot")
			if (set && !nonRoot) || (!set && !podNonRoot) {
				out = append(out, fmt.Sprintf("container %s may run as root: set securityContext.runAsNonRoot true", name))
			}
		}
	}
	return out
}

func namespaceOf(m property.Map) string {
	if ns, ok := str(m, "metadata.namespace"); ok && ns != "" {
		return ns
	}
	return "default"
}

func labels(m property.Map, path string) map[string]string {
	out := map[string]string{}
	v := at(m, path)
	if !v.IsMap() {
		return out
	}
	for k, e := range v.AsMap().All {
		if e.IsString() {
			out[k] = e.AsString()
		}
	}
	return out
}

func statefulSetsCovered(rs []policyx.AnalyzerResource) []finding {
	var out []finding
	for _, sts := range rs {
		if sts.Type != typeStatefulSet {
			continue
		}
		podLabels := labels(sts.Properties, "spec.template.metadata.labels")
		covered := false
		for _, pdb := range rs {
			if pdb.Type != typePDB || namespaceOf(pdb.Properties) != namespaceOf(sts.Properties) {
				continue
			}
			sel := labels(pdb.Properties, "spec.selector.matchLabels")
			if len(sel) == 0 {
				continue
			}
			matches := true
			for k, v := range sel {
				if podLabels[k] != v {
					matches = false
				}
			}
			covered = covered || matches
		}
		if !covered {
			out = append(out, finding{sts.URN, fmt.Sprintf("StatefulSet %s in namespace %s has no PodDisruptionBudget selecting its pods %v", sts.Name, namespaceOf(sts.Properties), podLabels)})
		}
	}
	return out
}

// bucketOf finds the bucket a companion resource (encryption, versioning,
// public access block, policy) configures: by the dependency of its
// "bucket" input, or by the bucket's name when it is known.
func bucketOf(r policyx.AnalyzerResource, buckets []policyx.AnalyzerResource) (string, bool) {
	for _, b := range buckets {
		if slices.Contains(r.PropertyDependencies["bucket"], b.URN) {
			return b.URN, true
		}
		if name, ok := str(b.Properties, "bucket"); ok && name != "" {
			if ref, ok := str(r.Properties, "bucket"); ok && ref == name {
				return b.URN, true
			}
		}
	}
	return "", false
}

func bucketBaseline(rs []policyx.AnalyzerResource) []finding {
	var buckets []policyx.AnalyzerResource
	for _, r := range rs {
		if r.Type == typeBucket || r.Type == typeBucketV2 {
			buckets = append(buckets, r)
		}
	}
	have := map[string]map[string]bool{} // bucket URN → requirement met
	for _, b := range buckets {
		have[b.URN] = map[string]bool{}
		// The legacy Bucket type can carry encryption and versioning inline.
		if alg, _ := str(b.Properties, "serverSideEncryptionConfiguration.rule.applyServerSideEncryptionByDefault.sseAlgorithm"); alg == "aws:kms" {
			have[b.URN]["kms"] = true
		}
		if on, _ := boolean(b.Properties, "versioning.enabled"); on {
			have[b.URN]["versioning"] = true
		}
	}
	for _, r := range rs {
		urn, ok := bucketOf(r, buckets)
		if !ok {
			continue
		}
		switch r.Type {
		case typeBucketSSE:
			for _, rule := range mapList(r.Properties, "rules") {
				if alg, _ := str(rule, "applyServerSideEncryptionByDefault.sseAlgorithm"); alg == "aws:kms" || alg == "aws:kms:dsse" {
					have[urn]["kms"] = true
				}
			}
		case typeBucketVer:
			if st, _ := str(r.Properties, "versioningConfiguration.status"); st == "Enabled" {
				have[urn]["versioning"] = true
			}
		case typeBucketPAB:
			all := true
			for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				if on, _ := boolean(r.Properties, k); !on {
					all = false
				}
			}
			have[urn]["public"] = all
		case typeBucketPolicy:
			have[urn]["tls"] = deniesInsecureTransport(at(r.Properties, "policy"))
		}
	}
	requirements := []struct{ key, msg string }{
		{"kms", "is not encrypted with a KMS key (add a server-side encryption configuration with sseAlgorithm aws:kms)"},
		{"versioning", "is not versioned"},
		{"public", "does not block all public access (all four public access block settings must be true)"},
		{"tls", "has no bucket policy denying requests without TLS (aws:SecureTransport false)"},
	}
	var out []finding
	for _, b := range buckets {
		for _, req := range requirements {
			if !have[b.URN][req.key] {
				out = append(out, finding{b.URN, fmt.Sprintf("bucket %s %s", b.Name, req.msg)})
			}
		}
	}
	return out
}

// deniesInsecureTransport reports whether a bucket policy denies every
// request made without TLS. An unknown policy (preview) counts as unproven.
func deniesInsecureTransport(v property.Value) bool {
	doc, ok := parsePolicy(v)
	if !ok {
		return false
	}
	for _, s := range doc.Statement {
		if s.Effect != "Deny" {
			continue
		}
		for op, cond := range s.Condition {
			if !strings.HasPrefix(op, "Bool") {
				continue
			}
			if fmt.Sprint(cond["aws:SecureTransport"]) == "false" {
				return true
			}
		}
	}
	return false
}

// exactChartVersion is a full semantic version ("88.5.3", "v1.21.1"); a
// range ("^88", "~1.21", "88.x", ">=1") or nothing lets the repository
// decide what `pulumi up` installs.
var exactChartVersion = regexp.MustCompile(`^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

func helmReleasePinned(r policyx.AnalyzerResource, _ map[string]any) []string {
	var out []string
	chart, _ := str(r.Properties, "chart")
	switch v, ok := str(r.Properties, "version"); {
	case !ok && !at(r.Properties, "version").IsNull():
		// unknown until apply
	case !exactChartVersion.MatchString(v):
		out = append(out, fmt.Sprintf("chart %s version %q is not an exact version", chart, v))
	}
	if repo, _ := str(r.Properties, "repositoryOpts.repo"); repo == "" && !strings.HasPrefix(chart, "oci://") {
		out = append(out, fmt.Sprintf("chart %s names no repository (repositoryOpts.repo)", chart))
	}
	if upd, _ := boolean(r.Properties, "dependencyUpdate"); upd {
		out = append(out, fmt.Sprintf("chart %s re-resolves its dependencies (dependencyUpdate)", chart))
	}
	return out
}
