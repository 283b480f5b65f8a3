package cluster

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ControlPlaneLogTypes are the EKS control-plane logs shipped to CloudWatch:
// API calls, the audit trail and authentication decisions.
var ControlPlaneLogTypes = []string{"api", "audit", "authenticator"}

// clusterAdminPolicy is the EKS access policy granted to AdminRoleArns.
const clusterAdminPolicy = "AmazonEKSClusterAdminPolicy"

type controlPlane struct {
	cluster *eks.Cluster
	key     *kms.Key
}

// newControlPlane creates the EKS cluster: secrets envelope-encrypted with a
// rotating KMS key, access-entry (API) authentication, control-plane logs
// into a log group with bounded retention, and the OIDC provider for IRSA.
func (c *Cluster) newControlPlane(ctx *pulumi.Context, name string, a Args, net *network) (*controlPlane, error) {
	parent := pulumi.Parent(c)
	key, err := kms.NewKey(ctx, name+"-secrets", &kms.KeyArgs{
		Description:          pulumi.Sprintf("EKS %s secrets envelope encryption", a.Name),
		EnableKeyRotation:    pulumi.Bool(true),
		RotationPeriodInDays: pulumi.Int(365),
		DeletionWindowInDays: pulumi.Int(DefaultKMSDeletionWindowDays),
		Tags:                 tags(a.Tags, nil),
	}, parent)
	if err != nil {
		return nil, err
	}
	if _, err := kms.NewAlias(ctx, name+"-secrets", &kms.AliasArgs{
		Name:        pulumi.String("alias/eks/" + a.Name + "/secrets"),
		TargetKeyId: key.KeyId,
	}, parent); err != nil {
		return nil, err
	}
	role, attached, err := newServiceRole(ctx, name+"-control-plane", "eks.amazonaws.com",
		"EKS control plane of "+a.Name, c.Partition, []string{"AmazonEKSClusterPolicy"}, a.Tags, c)
	if err != nil {
		return nil, err
	}
	// EKS creates this group itself with no retention; owning it first bounds
	// the retention and lets destroy remove it.
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-control-plane", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/eks/" + a.Name + "/cluster"),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            tags(a.Tags, nil),
	}, parent)
	if err != nil {
		return nil, err
	}
	cluster, err := eks.NewCluster(ctx, name+"-eks", &eks.ClusterArgs{
		Name:    pulumi.String(a.Name),
		Version: pulumi.String(a.Version),
		RoleArn: role.Arn,
		VpcConfig: &eks.ClusterVpcConfigArgs{
			SubnetIds:             net.privateSubnets,
			EndpointPrivateAccess: pulumi.Bool(true),
			EndpointPublicAccess:  pulumi.Bool(a.EndpointPublicAccess),
			PublicAccessCidrs:     pulumi.ToStringArray(a.PublicAccessCidrs),
		},
		AccessConfig: &eks.ClusterAccessConfigArgs{
			AuthenticationMode: pulumi.String("API"),
			// The identity running `pulumi up` must reach the API to create
			// the StorageClass and every later Kubernetes object.
			BootstrapClusterCreatorAdminPermissions: pulumi.Bool(true),
		},
		EnabledClusterLogTypes: pulumi.ToStringArray(ControlPlaneLogTypes),
		EncryptionConfig: &eks.ClusterEncryptionConfigArgs{
			Provider:  &eks.ClusterEncryptionConfigProviderArgs{KeyArn: key.Arn},
			Resources: pulumi.StringArray{pulumi.String("secrets")},
		},
		// Add-ons are managed below as EKS add-ons with pinned versions.
		BootstrapSelfManagedAddons: pulumi.Bool(false),
		Tags:                       tags(a.Tags, nil),
	}, parent, pulumi.DependsOn(append(attached, logs)))
	if err != nil {
		return nil, err
	}
	issuer := cluster.Identities.Index(pulumi.Int(0)).Oidcs().Index(pulumi.Int(0)).Issuer().Elem()
	oidc, err := iam.NewOpenIdConnectProvider(ctx, name+"-oidc", &iam.OpenIdConnectProviderArgs{
		Url:           issuer,
		ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
		Tags:          tags(a.Tags, nil),
	}, parent)
	if err != nil {
		return nil, err
	}
	for _, arn := range a.AdminRoleArns {
		if err := c.newAdminAccess(ctx, name+"-admin-"+roleName(arn), cluster, arn, parent); err != nil {
			return nil, err
		}
	}
	c.ClusterName = cluster.Name
	c.Endpoint = cluster.Endpoint
	c.ClusterSecurityGroupID = cluster.VpcConfig.ClusterSecurityGroupId().Elem()
	c.SecretsKeyArn = key.Arn
	c.OIDC = OIDC{ProviderArn: oidc.Arn, IssuerURL: issuer}
	c.OIDCProviderArn = oidc.Arn
	c.OIDCIssuerURL = issuer
	return &controlPlane{cluster: cluster, key: key}, nil
}

// newAdminAccess grants an IAM role cluster-admin through an access entry.
func (c *Cluster) newAdminAccess(ctx *pulumi.Context, name string, cluster *eks.Cluster, roleArn string, parent pulumi.ResourceOption) error {
	entry, err := eks.NewAccessEntry(ctx, name, &eks.AccessEntryArgs{
		ClusterName:  cluster.Name,
		PrincipalArn: pulumi.String(roleArn),
		Type:         pulumi.String("STANDARD"),
	}, parent)
	if err != nil {
		return err
	}
	_, err = eks.NewAccessPolicyAssociation(ctx, name, &eks.AccessPolicyAssociationArgs{
		ClusterName:  cluster.Name,
		PrincipalArn: entry.PrincipalArn,
		PolicyArn:    pulumi.String("arn:" + c.Partition + ":eks::aws:cluster-access-policy/" + clusterAdminPolicy),
		AccessScope:  &eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
	}, parent)
	return err
}

// roleName is the last path element of a role ARN, lower-cased for a resource name.
func roleName(arn string) string {
	return strings.ToLower(arn[strings.LastIndex(arn, "/")+1:])
}
