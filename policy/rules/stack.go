package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Requirement is one thing every region stack must contain.
type Requirement struct {
	// What names the requirement in a violation.
	What string
	// Type is the resource type token.
	Type string
	// Match, when set, narrows the resources of Type that count.
	Match func(policyx.AnalyzerResource) bool
}

// RegionStack lists what a region stack must contain. It grows as
// components land; each entry names the component that provides it.
var RegionStack = []Requirement{
	{What: "the region cluster component", Type: "tars:cluster:Cluster"},
	{What: "an EKS cluster", Type: typeEKSCluster},
	{What: "an EKS managed node group", Type: "aws:eks/nodeGroup:NodeGroup"},
	{What: "the KMS key for secrets", Type: typeKMSKey},
	{What: "the IRSA OIDC provider", Type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider"},
	{What: "the Kubernetes provider of the cluster", Type: "pulumi:providers:kubernetes"},
	{What: "the default encrypted StorageClass", Type: "kubernetes:storage.k8s.io/v1:StorageClass"},
	addon("vpc-cni"), addon("coredns"), addon("kube-proxy"), addon("aws-ebs-csi-driver"),
	{What: "the alerting component", Type: "tars:alerting:Alerting"},
	{What: "the alert rules", Type: typePrometheusRule},
	{What: "the Alertmanager configuration", Type: typeSecret, Match: func(r policyx.AnalyzerResource) bool {
		data := at(r.Properties, "stringData")
		return data.IsMap() && !data.AsMap().Get(alertmanagerKey).IsNull()
	}},
	{What: "the Redis Cluster component", Type: "tars:redis:Cluster"},
	{What: "the Redis StatefulSet", Type: typeStatefulSet},
	{What: "the Grafana dashboards", Type: typeConfigMap, Match: func(r policyx.AnalyzerResource) bool {
		return labels(r.Properties, "metadata.labels")["grafana_dashboard"] == "1"
	}},
}

func addon(name string) Requirement {
	return Requirement{What: "the " + name + " add-on", Type: "aws:eks/addon:Addon", Match: func(r policyx.AnalyzerResource) bool {
		n, _ := str(r.Properties, "addonName")
		return n == name
	}}
}

func stackPolicies() []policyx.Policy {
	return []policyx.Policy{
		stackPolicy("region-stack-complete",
			"A region stack contains every part of the platform (policy/rules/stack.go lists them).",
			policyx.EnforcementLevelMandatory, regionStackComplete),
	}
}

func regionStackComplete(rs []policyx.AnalyzerResource) []finding {
	var missing []string
	for _, req := range RegionStack {
		found := slices.ContainsFunc(rs, func(r policyx.AnalyzerResource) bool {
			return r.Type == req.Type && (req.Match == nil || req.Match(r))
		})
		if !found {
			missing = append(missing, fmt.Sprintf("%s (%s)", req.What, req.Type))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []finding{{"", "the stack lacks " + strings.Join(missing, "; ")}}
}
