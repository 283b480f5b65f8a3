package cluster

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/check"
)

// MaxInlinePolicyChars is IAM's limit on the inline policies of one role
// (10,240 characters, whitespace not counted; the JSON here has none).
const MaxInlinePolicyChars = 10240

// OIDC is what an IRSA role needs from its cluster.
type OIDC struct {
	ProviderArn pulumi.StringOutput
	IssuerURL   pulumi.StringOutput // https://oidc.eks.<region>.amazonaws.com/id/<id>
}

// IRSAArgs describes one IAM role for one Kubernetes service account.
type IRSAArgs struct {
	// Namespace and ServiceAccount name the only identity that may assume the role.
	Namespace      string
	ServiceAccount string
	// Policy is the role's inline least-privilege policy; no wildcard actions.
	// Either Policy or ManagedPolicies (AWS-maintained, such as
	// AmazonEBSCSIDriverPolicy) must be set.
	Policy *PolicyDocument
	// ManagedPolicies are AWS managed policy names, resolved in the
	// cluster's partition.
	ManagedPolicies []string
	Tags            map[string]string
}

func (a IRSAArgs) validate() error {
	var p check.Problems
	if !check.DNSLabel(a.Namespace, 63) {
		p.Addf("namespace", "(%q) must be a Kubernetes namespace name", a.Namespace)
	}
	if !check.DNSLabel(a.ServiceAccount, 253) {
		p.Addf("serviceAccount", "(%q) must be a Kubernetes service account name", a.ServiceAccount)
	}
	if a.Policy == nil && len(a.ManagedPolicies) == 0 {
		p.Addf("policy", "is required unless managedPolicies are given")
	}
	if a.Policy != nil {
		if err := a.Policy.ValidateLeastPrivilege(); err != nil {
			p.Addf("policy", "%v", err)
		}
		if doc, err := a.Policy.JSON(); err == nil && len(doc) > MaxInlinePolicyChars {
			p.Addf("policy", "is %d characters; IAM refuses inline role policies over %d", len(doc), MaxInlinePolicyChars)
		}
	}
	for i, m := range a.ManagedPolicies {
		if m == "" || strings.ContainsAny(m, ":/*") {
			p.Addf(fmt.Sprintf("managedPolicies[%d]", i), "(%q) must be the bare name of an AWS managed policy", m)
		}
	}
	return p.Err()
}

// IRSARole is an IAM role assumable only by one service account of one
// cluster, through the cluster's OIDC provider.
type IRSARole struct {
	Role *iam.Role
	Arn  pulumi.StringOutput
}

// TrustPolicy returns the trust policy of an IRSA role: federated through the
// cluster's OIDC provider, with StringEquals on both the token's subject
// (exactly system:serviceaccount:<namespace>:<name>) and its audience
// (sts.amazonaws.com), so no other service account, namespace or cluster
// can assume it.
func TrustPolicy(providerArn, issuerURL, namespace, serviceAccount string) PolicyDocument {
	issuer := strings.TrimPrefix(issuerURL, "https://")
	return NewPolicy(PolicyStatement{
		Principal: map[string]any{"Federated": providerArn},
		Action:    []string{"sts:AssumeRoleWithWebIdentity"},
		Condition: map[string]map[string]ConditionValue{
			"StringEquals": {
				issuer + ":sub": {"system:serviceaccount:" + namespace + ":" + serviceAccount},
				issuer + ":aud": {"sts.amazonaws.com"},
			},
		},
	})
}

// NewIRSARole creates the role and its policies as children of parent. The
// name must be unique in the program; derive it from the caller's own name.
func NewIRSARole(ctx *pulumi.Context, name string, oidc OIDC, partition string, args IRSAArgs, parent pulumi.Resource) (*IRSARole, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("irsa %s: %w", name, err)
	}
	if partition == "" {
		return nil, errors.New("irsa " + name + ": partition is required")
	}
	opt := pulumi.Parent(parent)
	trust := pulumi.All(oidc.ProviderArn, oidc.IssuerURL).ApplyT(func(v []any) (string, error) {
		return TrustPolicy(v[0].(string), v[1].(string), args.Namespace, args.ServiceAccount).JSON()
	}).(pulumi.StringOutput)
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: trust,
		Description:      pulumi.Sprintf("IRSA role for %s/%s", args.Namespace, args.ServiceAccount),
		Tags:             tags(args.Tags, nil),
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("irsa %s: role: %w", name, err)
	}
	if args.Policy != nil {
		doc, err := args.Policy.JSON()
		if err != nil {
			return nil, fmt.Errorf("irsa %s: %w", name, err)
		}
		if _, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
			Role: role.Name, Policy: pulumi.String(doc),
		}, opt); err != nil {
			return nil, fmt.Errorf("irsa %s: policy: %w", name, err)
		}
	}
	if _, err := attachManagedPolicies(ctx, name, role, partition, args.ManagedPolicies, parent); err != nil {
		return nil, fmt.Errorf("irsa %s: attach managed policies: %w", name, err)
	}
	return &IRSARole{Role: role, Arn: role.Arn}, nil
}
