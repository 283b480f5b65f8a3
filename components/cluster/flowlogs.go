package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FlowLogAggregationSeconds is how often flow records are flushed: the
// shortest window VPC Flow Logs offers, so an incident's traffic shows up
// within a minute.
const FlowLogAggregationSeconds = 60

// newFlowLogs records every accepted and rejected flow of the VPC into a
// log group kept as long as the control-plane logs, delivered by a role
// that may write that group only and only for this account.
func (c *Cluster) newFlowLogs(ctx *pulumi.Context, name string, a Args, vpc *ec2.Vpc) error {
	parent := pulumi.Parent(c)
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/vpc/" + a.Name + "/flow-logs"),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            tags(a.Tags, nil),
	}, parent)
	if err != nil {
		return err
	}
	trust, err := NewPolicy(PolicyStatement{
		Principal: map[string]any{"Service": "vpc-flow-logs.amazonaws.com"},
		Action:    []string{"sts:AssumeRole"},
		// Confused-deputy guard: only flow logs of this account use the role.
		Condition: map[string]map[string]ConditionValue{"StringEquals": {"aws:SourceAccount": {c.AccountID}}},
	}).JSON()
	if err != nil {
		return err
	}
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust),
		Description:      pulumi.String("VPC flow logs of " + a.Name + " into their log group"),
		Tags:             tags(a.Tags, nil),
	}, parent)
	if err != nil {
		return err
	}
	policy := group.Arn.ApplyT(func(arn string) (string, error) {
		return NewPolicy(PolicyStatement{
			Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
			Resource: []string{arn, arn + ":*"},
		}).JSON()
	}).(pulumi.StringOutput)
	rp, err := iam.NewRolePolicy(ctx, name+"-flow-logs", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, parent)
	if err != nil {
		return err
	}
	_, err = ec2.NewFlowLog(ctx, name+"-flow-logs", &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(FlowLogAggregationSeconds),
		Tags:                   tags(a.Tags, map[string]string{"Name": a.nameTag(name)}),
	}, parent, pulumi.DependsOn([]pulumi.Resource{rp}))
	if err != nil {
		return fmt.Errorf("flow log: %w", err)
	}
	return nil
}
