package cluster

import (
	"fmt"
	"regexp"
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

// clusterAdminPolicy is the EKS access policy granted to Admins.
const clusterAdminPolicy = "AmazonEKSClusterAdminPolicy"

type controlPlane struct {
	cluster *eks.Cluster
	key     *kms.Key
	// admins are the access policy associations; nothing reaches the
	// Kubernetes API before they exist.
	admins []pulumi.Resource
}

// newControlPlane creates the EKS cluster: secrets envelope-encrypted with a
// rotating KMS key, access-entry (API) authentication, control-plane logs
// into a log group with bounded retention, and the OIDC provider for IRSA.
func (c *Cluster) newControlPlane(ctx *pulumi.Context, name string, a Args, net *network) (*controlPlane, error) {
	parent := pulumi.Parent(c)
	// The key is data: without it the cluster's Secrets cannot be read back.
	key, err := kms.NewKey(ctx, name+"-secrets", &kms.KeyArgs{
		Description:          pulumi.Sprintf("EKS %s secrets envelope encryption", a.Name),
		EnableKeyRotation:    pulumi.Bool(true),
		RotationPeriodInDays: pulumi.Int(365),
		DeletionWindowInDays: pulumi.Int(DefaultKMSDeletionWindowDays),
		Tags:                 tags(a.Tags, nil),
	}, append([]pulumi.ResourceOption{parent}, a.Keep.Data()...)...)
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
			// The control plane's interfaces (what calls the webhooks) go
			// to the infrastructure subnets, where no pod has an address.
			SubnetIds:             net.infraSubnets,
			EndpointPrivateAccess: pulumi.Bool(true),
			EndpointPublicAccess:  pulumi.Bool(a.EndpointPublicAccess),
			PublicAccessCidrs:     pulumi.ToStringArray(a.PublicAccessCidrs),
		},
		AccessConfig: &eks.ClusterAccessConfigArgs{
			AuthenticationMode: pulumi.String("API"),
			// Admins are exactly the access entries below: no hidden admin
			// entry for whoever created the cluster (it would also clash
			// with an entry for the same role).
			BootstrapClusterCreatorAdminPermissions: pulumi.Bool(false),
		},
		EnabledClusterLogTypes: pulumi.ToStringArray(ControlPlaneLogTypes),
		EncryptionConfig: &eks.ClusterEncryptionConfigArgs{
			Provider:  &eks.ClusterEncryptionConfigProviderArgs{KeyArn: key.Arn},
			Resources: pulumi.StringArray{pulumi.String("secrets")},
		},
		// Add-ons are managed below as EKS add-ons with pinned versions.
		BootstrapSelfManagedAddons: pulumi.Bool(false),
		Tags:                       tags(a.Tags, nil),
	}, append([]pulumi.ResourceOption{parent, pulumi.DependsOn(append(attached, logs))}, a.Keep.Stateful()...)...)
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
	var admins []pulumi.Resource
	for _, admin := range a.Admins {
		arn, err := AdminPrincipal(admin, c.Partition, c.AccountID)
		if err != nil {
			return nil, err
		}
		access, err := c.newAdminAccess(ctx, name+"-admin-"+roleName(arn), cluster, arn, parent)
		if err != nil {
			return nil, err
		}
		admins = append(admins, access)
	}
	c.ClusterName = cluster.Name
	c.Endpoint = cluster.Endpoint
	c.ClusterSecurityGroupID = cluster.VpcConfig.ClusterSecurityGroupId().Elem()
	c.SecretsKeyArn = key.Arn
	c.OIDC = OIDC{ProviderArn: oidc.Arn, IssuerURL: issuer}
	c.OIDCProviderArn = oidc.Arn
	c.OIDCIssuerURL = issuer
	return &controlPlane{cluster: cluster, key: key, admins: admins}, nil
}

// newAdminAccess grants an IAM principal cluster-admin through an access
// entry; it returns the association, which the Kubernetes provider waits for.
func (c *Cluster) newAdminAccess(ctx *pulumi.Context, name string, cluster *eks.Cluster, principalArn string, parent pulumi.ResourceOption) (pulumi.Resource, error) {
	entry, err := eks.NewAccessEntry(ctx, name, &eks.AccessEntryArgs{
		ClusterName:  cluster.Name,
		PrincipalArn: pulumi.String(principalArn),
		Type:         pulumi.String("STANDARD"),
	}, parent)
	if err != nil {
		return nil, err
	}
	return eks.NewAccessPolicyAssociation(ctx, name, &eks.AccessPolicyAssociationArgs{
		ClusterName:  cluster.Name,
		PrincipalArn: entry.PrincipalArn,
		PolicyArn:    pulumi.String("arn:" + c.Partition + ":eks::aws:cluster-access-policy/" + clusterAdminPolicy),
		AccessScope:  &eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
	}, parent)
}

// AdminPrincipal turns an admins entry into the principal ARN of its access
// entry: a bare role name is a role in the stack's account; an ARN must be
// an IAM role or user.
func AdminPrincipal(admin, partition, account string) (string, error) {
	if !strings.HasPrefix(admin, "arn:") {
		if !iamName.MatchString(admin) {
			return "", fmt.Errorf("is neither an IAM role name nor an ARN")
		}
		return "arn:" + partition + ":iam::" + account + ":role/" + admin, nil
	}
	parts := strings.SplitN(admin, ":", 6)
	if len(parts) != 6 || parts[2] != "iam" || !(strings.HasPrefix(parts[5], "role/") || strings.HasPrefix(parts[5], "user/")) {
		return "", fmt.Errorf("is not the ARN of an IAM role or user")
	}
	return admin, nil
}

// iamName is IAM's role-name syntax.
var iamName = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

// callerPrincipal is the IAM principal behind the identity running the
// program: STS reports an assumed role as
// arn:aws:sts::<account>:assumed-role/<role>/<session>, whose access entry
// is the role's ARN. It returns the role name (or the user ARN) to compare.
func callerPrincipal(callerArn string) (role, other string) {
	parts := strings.SplitN(callerArn, ":", 6)
	if len(parts) == 6 && parts[2] == "sts" && strings.HasPrefix(parts[5], "assumed-role/") {
		return strings.SplitN(strings.TrimPrefix(parts[5], "assumed-role/"), "/", 2)[0], ""
	}
	if len(parts) == 6 && strings.HasPrefix(parts[5], "role/") {
		return parts[5][strings.LastIndex(parts[5], "/")+1:], ""
	}
	return "", callerArn
}

// checkCallerIsAdmin refuses to build a cluster its deployer could not
// administer: every Kubernetes object after the cluster would fail with
// Unauthorized, after the cluster and its nodes exist.
func checkCallerIsAdmin(callerArn string, admins []string, partition, account string) error {
	role, other := callerPrincipal(callerArn)
	for _, a := range admins {
		arn, err := AdminPrincipal(a, partition, account)
		if err != nil {
			continue
		}
		if (role != "" && arn[strings.LastIndex(arn, "/")+1:] == role && strings.Contains(arn, ":role/")) || (other != "" && arn == other) {
			return nil
		}
	}
	return fmt.Errorf("the identity running this program (%s) is not among admins %v: it could create the cluster but not one object in it; add its role to tars:cluster.admins", callerArn, admins)
}

// roleName is the last path element of a role ARN, lower-cased for a resource name.
func roleName(arn string) string {
	return strings.ToLower(arn[strings.LastIndex(arn, "/")+1:])
}
