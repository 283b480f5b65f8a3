package cluster

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/versions"
)

// Addons are the EKS managed add-ons every region cluster runs.
var Addons = []string{versions.AddonVPCCNI, versions.AddonKubeProxy, versions.AddonCoreDNS, versions.AddonEBSCSI}

// addonPhase says whether an add-on must exist before nodes join (networking)
// or needs running nodes to become healthy (Deployments such as CoreDNS).
type addonPhase int

const (
	beforeNodes addonPhase = iota
	afterNodes
)

// addonSpec is how one add-on is installed.
type addonSpec struct {
	name  string
	phase addonPhase
	// irsa, when set, gives the add-on's service account its own role.
	irsa *IRSAArgs
	// config is the add-on's configurationValues (its JSON schema:
	// `aws eks describe-addon-configuration`).
	config map[string]any
}

var addonSpecs = []addonSpec{
	{name: versions.AddonVPCCNI, phase: beforeNodes, irsa: &IRSAArgs{
		Namespace: "kube-system", ServiceAccount: "aws-node", ManagedPolicies: []string{"AmazonEKS_CNI_Policy"},
	}, config: map[string]any{
		// Without it the VPC CNI ignores NetworkPolicy objects: every policy
		// the program writes would admit everything. It starts the CNI's
		// network-policy agent on every node (vpc-cni ≥ 1.14).
		"enableNetworkPolicy": "true",
	}},
	{name: versions.AddonKubeProxy, phase: beforeNodes},
	{name: versions.AddonCoreDNS, phase: afterNodes},
	{name: versions.AddonEBSCSI, phase: afterNodes, irsa: &IRSAArgs{
		Namespace: "kube-system", ServiceAccount: "ebs-csi-controller-sa", ManagedPolicies: []string{"AmazonEBSCSIDriverPolicy"},
	}},
}

// newAddons installs the add-ons of one phase at their pinned versions.
// deps are resources the add-ons wait for (the node groups, for afterNodes).
func (c *Cluster) newAddons(ctx *pulumi.Context, name string, a Args, cluster *eks.Cluster, phase addonPhase, deps []pulumi.Resource) ([]pulumi.Resource, error) {
	var created []pulumi.Resource
	for _, spec := range addonSpecs {
		if spec.phase != phase {
			continue
		}
		args := &eks.AddonArgs{
			ClusterName:  cluster.Name,
			AddonName:    pulumi.String(spec.name),
			AddonVersion: pulumi.String(a.AddonVersions[spec.name]),
			// Take over what EKS may have installed itself, and on update
			// let this program's settings win over hand edits (drift).
			ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
			ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
			Tags:                     tags(a.Tags, nil),
		}
		if spec.config != nil {
			b, err := json.Marshal(spec.config)
			if err != nil {
				return nil, err
			}
			args.ConfigurationValues = pulumi.String(string(b))
		}
		if spec.irsa != nil {
			irsa := *spec.irsa
			irsa.Tags = a.Tags
			role, err := NewIRSARole(ctx, name+"-"+spec.name, c.OIDC, c.Partition, irsa, c)
			if err != nil {
				return nil, err
			}
			args.ServiceAccountRoleArn = role.Arn
		}
		addon, err := eks.NewAddon(ctx, name+"-"+spec.name, args, pulumi.Parent(c), pulumi.DependsOn(deps))
		if err != nil {
			return nil, err
		}
		created = append(created, addon)
	}
	return created, nil
}
