package cluster

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newServiceRole creates a role that an AWS service (eks.amazonaws.com,
// ec2.amazonaws.com) assumes, with AWS managed policies attached. It returns
// the attachments too, so callers can wait for the permissions to exist.
func newServiceRole(ctx *pulumi.Context, name, service, description, partition string, policies []string, t map[string]string, parent pulumi.Resource) (*iam.Role, []pulumi.Resource, error) {
	trust, err := assumeRolePolicy(service)
	if err != nil {
		return nil, nil, err
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
		Description:      pulumi.String(description),
		Tags:             tags(t, nil),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, nil, err
	}
	attached, err := attachManagedPolicies(ctx, name, role, partition, policies, parent)
	return role, attached, err
}

// attachManagedPolicies attaches AWS managed policies by name; each
// attachment is named <name>-<policy, lower-cased>.
func attachManagedPolicies(ctx *pulumi.Context, name string, role *iam.Role, partition string, policies []string, parent pulumi.Resource) ([]pulumi.Resource, error) {
	var out []pulumi.Resource
	for _, p := range policies {
		att, err := iam.NewRolePolicyAttachment(ctx, name+"-"+strings.ToLower(p), &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(managedPolicyArn(partition, p)),
		}, pulumi.Parent(parent))
		if err != nil {
			return nil, err
		}
		out = append(out, att)
	}
	return out, nil
}
