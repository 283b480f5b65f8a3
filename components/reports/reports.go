// Package reports runs the SLO reports of seed 000 "Automated Reporting":
// cmd/tars-report as CronJobs in each region (daily 00:00 UTC over 24 h,
// weekly Monday 09:00 UTC over 7 days, monthly on the 1st 09:00 UTC over
// 30 days with Kubecost's cost analysis), reading the region's Thanos,
// storing Markdown and JSON in the region's report bucket and posting a
// summary to Slack.
package reports

import (
	"fmt"
	"github.com/tars-platform/infra/internal/keep"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/internal/check"
)

// TypeToken is the component's Pulumi type.
const TypeToken = "tars:reports:Reports"

// Report is one cadence: the --period of tars-report and its schedule
// (UTC).
type Report struct {
	Period   string
	Schedule string
	// Cost: the report includes Kubecost's cost analysis.
	Cost bool
}

// Reports: seed 000 "Automated Reporting" cron lines.
var Reports = []Report{
	{Period: "daily", Schedule: "0 0 * * *"},
	{Period: "weekly", Schedule: "0 9 * * 1"},
	{Period: "monthly", Schedule: "0 9 1 * *", Cost: true},
}

// Names of the objects.
const (
	ServiceAccount = "tars-report"
	slackSecret    = "tars-report-slack"
	slackKey       = "webhook-url"
	slackDir       = "/etc/tars-report/slack"
	// Prefix is where the reports go in the bucket (tars-report's default).
	Prefix = "slo-reports"
	// deadlineSeconds: a monthly report over Thanos takes minutes, not an hour.
	deadlineSeconds = 30 * 60
	uid             = 65532 // distroless nonroot
)

// Args configures the reports of one region.
type Args struct {
	// Namespace runs the jobs (the monitoring namespace; it exists). Required.
	Namespace string
	// Region is the logical region the reports cover. Required.
	Region string
	// PrometheusURL is the region's Thanos query-frontend; KubecostURL
	// serves /model/allocation. Required.
	PrometheusURL, KubecostURL string
	// SlackWebhookURL (a secret) receives the summaries. Required.
	SlackWebhookURL pulumi.StringInput
	// AccountID, AwsRegion, Partition and OIDC: the bucket and the IRSA
	// role. Required.
	AccountID, AwsRegion, Partition string
	OIDC                            cluster.OIDC
	// DependsOn: the namespace.
	DependsOn []pulumi.Resource
	Tags      map[string]string
	// Keep protects the report bucket and its key.
	Keep keep.Keep
}

// Validate reports every problem.
func (a Args) Validate() error {
	var p check.Problems
	if !check.DNSLabel(a.Namespace, 63) {
		p.Addf("namespace", "(%q) must be a Kubernetes namespace name", a.Namespace)
	}
	if !check.DNSLabel(a.Region, 20) {
		p.Addf("region", "(%q) must be a short lower-case name like us-east", a.Region)
	}
	if a.PrometheusURL == "" || a.KubecostURL == "" {
		p.Addf("prometheusUrl", "and kubecostUrl are required")
	}
	if a.SlackWebhookURL == nil {
		p.Addf("slackWebhookUrl", "is required (a Pulumi secret)")
	}
	if a.AccountID == "" || a.AwsRegion == "" || a.Partition == "" {
		p.Addf("awsRegion", "(%q), accountId (%q) and partition (%q) are required", a.AwsRegion, a.AccountID, a.Partition)
	}
	return p.Err()
}

// BucketName is the region's report bucket.
func BucketName(accountID, awsRegion string) string {
	return fmt.Sprintf("tars-reports-%s-%s", accountID, awsRegion)
}

// Reporting is the component.
type Reporting struct {
	pulumi.ResourceState
	Bucket pulumi.StringOutput `pulumi:"bucket"`
}

// New creates the bucket, the jobs' role and Secret, and one CronJob per
// report. Pass the cluster's Kubernetes provider in opts.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Reporting, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("reports %s: %w", name, err)
	}
	r := &Reporting{}
	if err := ctx.RegisterComponentResource(TypeToken, name, r, opts...); err != nil {
		return nil, fmt.Errorf("reports %s: register: %w", name, err)
	}
	bkt, err := cluster.NewPrivateBucket(ctx, name, cluster.BucketArgs{
		Name: BucketName(args.AccountID, args.AwsRegion), Partition: args.Partition,
		KeyAlias: "tars-reports-" + args.Region, Purpose: "SLO reports", Region: args.Region, Tags: args.Tags,
		Keep: args.Keep,
	}, pulumi.Parent(r))
	if err != nil {
		return nil, fmt.Errorf("reports %s: bucket: %w", name, err)
	}
	policy := WriterPolicy(args, bkt)
	role, err := cluster.NewIRSARole(ctx, name, args.OIDC, args.Partition, cluster.IRSAArgs{
		Namespace: args.Namespace, ServiceAccount: ServiceAccount, Policy: &policy, Tags: args.Tags,
	}, r)
	if err != nil {
		return nil, fmt.Errorf("reports %s: %w", name, err)
	}
	kube := []pulumi.ResourceOption{pulumi.Parent(r), pulumi.DependsOn(args.DependsOn)}
	meta := func(n string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: pulumi.String(args.Namespace), Labels: labels()}
	}
	sa := meta(ServiceAccount)
	sa.Annotations = pulumi.StringMap{"eks.amazonaws.com/role-arn": role.Arn}
	account, err := corev1.NewServiceAccount(ctx, name, &corev1.ServiceAccountArgs{Metadata: sa}, kube...)
	if err != nil {
		return nil, fmt.Errorf("reports %s: service account: %w", name, err)
	}
	secret, err := corev1.NewSecret(ctx, name+"-slack", &corev1.SecretArgs{
		Metadata:   meta(slackSecret),
		StringData: pulumi.StringMap{slackKey: pulumi.ToSecret(args.SlackWebhookURL).(pulumi.StringOutput)},
	}, kube...)
	if err != nil {
		return nil, fmt.Errorf("reports %s: slack secret: %w", name, err)
	}
	jobOpts := append(kube, pulumi.DependsOn([]pulumi.Resource{account, secret}))
	for _, rep := range Reports {
		if _, err := batchv1.NewCronJob(ctx, name+"-"+rep.Period, &batchv1.CronJobArgs{
			Metadata: meta("tars-report-" + rep.Period),
			Spec: &batchv1.CronJobSpecArgs{
				Schedule: pulumi.String(rep.Schedule), TimeZone: pulumi.String("Etc/UTC"),
				ConcurrencyPolicy:       pulumi.String("Forbid"),
				StartingDeadlineSeconds: pulumi.Int(3600),
				JobTemplate: batchv1.JobTemplateSpecArgs{Spec: batchv1.JobSpecArgs{
					ActiveDeadlineSeconds: pulumi.Int(deadlineSeconds),
					BackoffLimit:          pulumi.Int(2),
					Template:              podTemplate(args, rep),
				}},
			},
		}, jobOpts...); err != nil {
			return nil, fmt.Errorf("reports %s: %s cronjob: %w", name, rep.Period, err)
		}
	}
	r.Bucket = pulumi.String(bkt.Name).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{"bucket": r.Bucket}); err != nil {
		return nil, fmt.Errorf("reports %s: register outputs: %w", name, err)
	}
	return r, nil
}

// Command is the tars-report command line of a report.
func Command(a Args, rep Report) []string {
	cmd := []string{
		"--period=" + rep.Period, "--prometheus=" + a.PrometheusURL, "--region=" + a.Region,
		"--aws-region=" + a.AwsRegion, "--bucket=" + BucketName(a.AccountID, a.AwsRegion), "--prefix=" + Prefix,
		"--slack-webhook-file=" + slackDir + "/" + slackKey,
	}
	if rep.Cost {
		cmd = append(cmd, "--kubecost="+a.KubecostURL)
	}
	return cmd
}

func labels() pulumi.StringMap {
	return pulumi.StringMap{"app.kubernetes.io/name": pulumi.String("tars-report"), "app.kubernetes.io/part-of": pulumi.String("tars")}
}

func podTemplate(a Args, rep Report) corev1.PodTemplateSpecArgs {
	return corev1.PodTemplateSpecArgs{
		Metadata: &metav1.ObjectMetaArgs{Labels: labels()},
		Spec: &corev1.PodSpecArgs{
			ServiceAccountName: pulumi.String(ServiceAccount),
			RestartPolicy:      pulumi.String("Never"),
			SecurityContext: &corev1.PodSecurityContextArgs{
				RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(uid),
				SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
			},
			Containers: corev1.ContainerArray{corev1.ContainerArgs{
				Name:  pulumi.String("tars-report"),
				Image: pulumi.String(versions.TarsReport),
				Args:  pulumi.ToStringArray(Command(a, rep)),
				Resources: &corev1.ResourceRequirementsArgs{
					Requests: pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("128Mi")},
					Limits:   pulumi.StringMap{"cpu": pulumi.String("1"), "memory": pulumi.String("512Mi")},
				},
				SecurityContext: &corev1.SecurityContextArgs{
					RunAsNonRoot: pulumi.Bool(true), AllowPrivilegeEscalation: pulumi.Bool(false), ReadOnlyRootFilesystem: pulumi.Bool(true),
					Capabilities: &corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})},
				},
				VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("slack"), MountPath: pulumi.String(slackDir), ReadOnly: pulumi.Bool(true)}},
			}},
			Volumes: corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("slack"), Secret: &corev1.SecretVolumeSourceArgs{SecretName: pulumi.String(slackSecret)}}},
		},
	}
}

// WriterPolicy lets the jobs write reports under Prefix, and nothing else.
func WriterPolicy(a Args, b *cluster.PrivateBucket) cluster.PolicyDocument {
	return cluster.NewPolicy(
		cluster.PolicyStatement{Sid: "Reports", Effect: "Allow", Action: []string{"s3:PutObject"}, Resource: []string{b.Arn + "/" + Prefix + "/*"}},
		cluster.PolicyStatement{Sid: "Key", Effect: "Allow", Action: []string{"kms:Encrypt", "kms:GenerateDataKey"},
			Resource:  []string{fmt.Sprintf("arn:%s:kms:%s:%s:key/*", a.Partition, a.AwsRegion, a.AccountID)},
			Condition: cluster.KMSViaS3(a.AwsRegion, b.Arn)},
	)
}
