package chromadb

import (
	"fmt"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/cluster"
	"github.com/tars-platform/infra/components/versions"
)

// newBucket creates the region's snapshot bucket. Both regions have one,
// so a DR flip only changes which region writes.
func (c *ChromaDB) newBucket(ctx *pulumi.Context, name string, a Args) (*cluster.PrivateBucket, error) {
	return cluster.NewPrivateBucket(ctx, name+"-snapshots", cluster.BucketArgs{
		Name: BucketName(a.AccountID, a.AwsRegion), Partition: a.Partition,
		KeyAlias: "tars-chromadb-" + a.Region, Purpose: "ChromaDB snapshots", Region: a.Region,
		// Every sync overwrites a slot: keep a day of undo, not a month
		// of 15-minute churn.
		NoncurrentVersionDays: 1,
		Tags:                  a.Tags,
		Keep:                  a.Keep,
	}, pulumi.Parent(c))
}

// SyncPolicy is the sync jobs' IAM policy: the snapshotting region writes
// (and deletes, `sync --delete`) under the prefix of its own bucket; the
// restoring region only reads the peer's bucket, through S3 in the peer's
// region.
func SyncPolicy(a Args, own *cluster.PrivateBucket) cluster.PolicyDocument {
	bucketArn := own.Arn
	region := a.AwsRegion
	objects := []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
	kms := []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}
	if a.Role == RoleRestore {
		bucketArn = fmt.Sprintf("arn:%s:s3:::%s", a.Partition, a.Peer.Bucket)
		region = a.Peer.AwsRegion
		objects = []string{"s3:GetObject"}
		kms = []string{"kms:Decrypt"}
	}
	return cluster.NewPolicy(
		cluster.PolicyStatement{Sid: "List", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: []string{bucketArn},
			Condition: map[string]map[string]cluster.ConditionValue{"StringLike": {"s3:prefix": {prefix, prefix + "/*"}}}},
		cluster.PolicyStatement{Sid: "Objects", Effect: "Allow", Action: objects, Resource: []string{bucketArn + "/" + prefix + "/*"}},
		cluster.PolicyStatement{Sid: "Key", Effect: "Allow", Action: kms,
			Resource:  []string{fmt.Sprintf("arn:%s:kms:%s:%s:key/*", a.Partition, region, a.AccountID)},
			Condition: cluster.KMSViaS3(region, bucketArn)},
	)
}

// newSync creates the sync job of the region's role: its service account
// (IRSA), and for the restoring region the right to restart ChromaDB. The
// restoring region whose peer has no bucket yet gets no job.
func (c *ChromaDB) newSync(ctx *pulumi.Context, name string, a Args, own *cluster.PrivateBucket, opts ...pulumi.ResourceOption) error {
	if a.Role == RoleRestore && a.Peer == nil {
		_ = ctx.Log.Warn(fmt.Sprintf("ChromaDB: %s restores the primary region's snapshots, whose stack exports no bucket yet: no restore job until the next `pulumi up`", a.Region), nil)
		return nil
	}
	c.Syncing = true
	policy := SyncPolicy(a, own)
	role, err := cluster.NewIRSARole(ctx, name+"-sync", a.OIDC, a.Partition, cluster.IRSAArgs{
		Namespace: a.Namespace, ServiceAccount: SyncAccount, Policy: &policy, Tags: a.Tags,
	}, c)
	if err != nil {
		return err
	}
	meta := func(n string) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: pulumi.String(a.Namespace), Labels: labels("sync")}
	}
	sa := meta(SyncAccount)
	sa.Annotations = pulumi.StringMap{"eks.amazonaws.com/role-arn": role.Arn}
	account, err := corev1.NewServiceAccount(ctx, name+"-sync", &corev1.ServiceAccountArgs{Metadata: sa}, opts...)
	if err != nil {
		return err
	}
	jobOpts := append(opts, pulumi.DependsOn([]pulumi.Resource{account}))
	cron, schedule, env := SnapshotCronJob, SnapshotSchedule, corev1.EnvVarArray{
		envVar("BUCKET", BucketName(a.AccountID, a.AwsRegion)), envVar("AWS_REGION", a.AwsRegion),
		envVar("DATA_DIR", volumeMount+"/"+dataDir),
	}
	readOnly := true
	if a.Role == RoleRestore {
		cron, schedule, env = RestoreCronJob, RestoreSchedule, corev1.EnvVarArray{
			envVar("SOURCE_BUCKET", a.Peer.Bucket), envVar("AWS_REGION", a.Peer.AwsRegion),
			envVar("VOLUME", volumeMount), envVar("NAMESPACE", a.Namespace), envVar("POD", podName),
		}
		readOnly = false
		if err := c.newRestartRight(ctx, name, a, opts...); err != nil {
			return err
		}
	}
	env = append(env, envVar("PREFIX", prefix), envVar("HOME", "/tmp"))
	_, err = batchv1.NewCronJob(ctx, name+"-"+string(a.Role), &batchv1.CronJobArgs{
		Metadata: meta(cron),
		Spec: &batchv1.CronJobSpecArgs{
			Schedule: pulumi.String(schedule), TimeZone: pulumi.String("Etc/UTC"),
			ConcurrencyPolicy:          pulumi.String("Forbid"),
			StartingDeadlineSeconds:    pulumi.Int(300),
			SuccessfulJobsHistoryLimit: pulumi.Int(2), FailedJobsHistoryLimit: pulumi.Int(3),
			JobTemplate: batchv1.JobTemplateSpecArgs{Spec: batchv1.JobSpecArgs{
				ActiveDeadlineSeconds: pulumi.Int(SyncDeadlineSeconds),
				BackoffLimit:          pulumi.Int(1),
				Template:              syncPod(string(a.Role), env, readOnly),
			}},
		},
	}, jobOpts...)
	return err
}

// syncPod runs a sync script on ChromaDB's node (the gp3 volume attaches
// to one node; pods on that node may share it).
func syncPod(script string, env corev1.EnvVarArray, readOnly bool) corev1.PodTemplateSpecArgs {
	return corev1.PodTemplateSpecArgs{
		Metadata: &metav1.ObjectMetaArgs{Labels: labels("sync")},
		Spec: &corev1.PodSpecArgs{
			ServiceAccountName: pulumi.String(SyncAccount),
			RestartPolicy:      pulumi.String("Never"),
			SecurityContext: &corev1.PodSecurityContextArgs{
				RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(uid), FsGroup: pulumi.Int(uid),
				SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
			},
			Affinity: &corev1.AffinityArgs{PodAffinity: &corev1.PodAffinityArgs{
				RequiredDuringSchedulingIgnoredDuringExecution: corev1.PodAffinityTermArray{corev1.PodAffinityTermArgs{
					LabelSelector: &metav1.LabelSelectorArgs{MatchLabels: labels("server")},
					TopologyKey:   pulumi.String("kubernetes.io/hostname"),
				}},
			}},
			Containers: corev1.ContainerArray{corev1.ContainerArgs{
				Name:            pulumi.String(script),
				Image:           pulumi.String(versions.AWSCLI),
				Command:         pulumi.ToStringArray([]string{"sh", scriptsDir + "/" + script + ".sh"}),
				Env:             env,
				Resources:       smallResources(),
				SecurityContext: restricted(),
				VolumeMounts: corev1.VolumeMountArray{
					corev1.VolumeMountArgs{Name: pulumi.String(volumeClaim), MountPath: pulumi.String(volumeMount), ReadOnly: pulumi.Bool(readOnly)},
					corev1.VolumeMountArgs{Name: pulumi.String("scripts"), MountPath: pulumi.String(scriptsDir), ReadOnly: pulumi.Bool(true)},
				},
			}},
			Volumes: corev1.VolumeArray{
				corev1.VolumeArgs{Name: pulumi.String(volumeClaim), PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{
					ClaimName: pulumi.String(volumeClaimOfPod), ReadOnly: pulumi.Bool(readOnly),
				}},
				scriptsVolume(),
			},
		},
	}
}

// newRestartRight lets the sync account delete ChromaDB's pod, and only
// that pod: the restart that swaps in the staged snapshot.
func (c *ChromaDB) newRestartRight(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	meta := &metav1.ObjectMetaArgs{Name: pulumi.String(RestoreCronJob), Namespace: pulumi.String(a.Namespace), Labels: labels("sync")}
	role, err := rbacv1.NewRole(ctx, name+"-restart", &rbacv1.RoleArgs{
		Metadata: meta,
		Rules: rbacv1.PolicyRuleArray{rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray([]string{""}), Resources: pulumi.ToStringArray([]string{"pods"}),
			ResourceNames: pulumi.ToStringArray([]string{podName}), Verbs: pulumi.ToStringArray([]string{"delete"}),
		}},
	}, opts...)
	if err != nil {
		return err
	}
	_, err = rbacv1.NewRoleBinding(ctx, name+"-restart", &rbacv1.RoleBindingArgs{
		Metadata: meta,
		RoleRef:  rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: pulumi.String(RestoreCronJob)},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"), Name: pulumi.String(SyncAccount), Namespace: pulumi.String(a.Namespace)}},
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{role}))...)
	return err
}

func envVar(name, value string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), Value: pulumi.String(value)}
}
