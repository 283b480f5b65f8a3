package postgres

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/cluster"
)

// Bucket lifecycle.
const (
	// AbortIncompleteUploadDays: a multipart upload of a base backup that
	// was interrupted (a pod restarted mid-backup) is removed after this.
	AbortIncompleteUploadDays = 7
	// NoncurrentVersionDays: what the retention policy has deleted (and
	// anything overwritten or deleted by mistake) stays recoverable as a
	// noncurrent version this long, then goes. Current objects never
	// expire by lifecycle: barman's retention policy alone decides which
	// base backups and WAL a 30-day recovery window still needs.
	NoncurrentVersionDays = 30
)

// bucket is the region's WAL and base-backup store.
type bucket struct {
	Name   string
	Arn    string
	KeyArn pulumi.StringOutput
}

// newBucket creates the KMS key and the bucket: versioned, encrypted with
// the key (bucket keys on), owner-enforced, every public-access block on,
// TLS-only, and a lifecycle that never touches current objects. The bucket
// and the key outlive the stack (RetainOnDelete): a destroyed or rebuilt
// stack must not take the backups with it.
func (c *Database) newBucket(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (*bucket, error) {
	b := &bucket{Name: BucketName(a.AccountID, a.AwsRegion)}
	b.Arn = fmt.Sprintf("arn:%s:s3:::%s", a.Partition, b.Name)
	keep := append(opts, pulumi.RetainOnDelete(true))
	key, err := kms.NewKey(ctx, name+"-wal-key", &kms.KeyArgs{
		Description:          pulumi.Sprintf("T.A.R.S. Postgres WAL and backups (%s, bucket %s)", a.Region, b.Name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(30),
		Tags:                 pulumi.ToStringMap(a.Tags),
	}, keep...)
	if err != nil {
		return nil, err
	}
	b.KeyArn = key.Arn
	if _, err := kms.NewAlias(ctx, name+"-wal-key", &kms.AliasArgs{
		Name: pulumi.String("alias/" + ClusterName(a.Region) + "-wal"), TargetKeyId: key.KeyId,
	}, opts...); err != nil {
		return nil, err
	}
	bkt, err := s3.NewBucketV2(ctx, name+"-wal", &s3.BucketV2Args{
		Bucket: pulumi.String(b.Name),
		Tags:   pulumi.ToStringMap(a.Tags),
	}, keep...)
	if err != nil {
		return nil, err
	}
	onBucket := append(opts, pulumi.Parent(bkt))
	if _, err := s3.NewBucketOwnershipControls(ctx, name+"-wal", &s3.BucketOwnershipControlsArgs{
		Bucket: bkt.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, onBucket...); err != nil {
		return nil, err
	}
	block, err := s3.NewBucketPublicAccessBlock(ctx, name+"-wal", &s3.BucketPublicAccessBlockArgs{
		Bucket:                bkt.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, onBucket...)
	if err != nil {
		return nil, err
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name+"-wal", &s3.BucketVersioningV2Args{
		Bucket:                  bkt.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, onBucket...)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name+"-wal", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bkt.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm:   pulumi.String("aws:kms"),
				KmsMasterKeyId: key.Arn,
			},
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, onBucket...); err != nil {
		return nil, err
	}
	tlsOnly := cluster.PolicyDocument{Version: "2012-10-17", Statement: []cluster.PolicyStatement{{
		Sid: "DenyInsecureTransport", Effect: "Deny",
		Principal: map[string]any{"AWS": "*"},
		Action:    []string{"s3:*"},
		Resource:  []string{b.Arn, b.Arn + "/*"},
		Condition: map[string]map[string]cluster.ConditionValue{"Bool": {"aws:SecureTransport": {"false"}}},
	}}}
	policy, err := tlsOnly.JSON()
	if err != nil {
		return nil, err
	}
	// The policy after the public-access block: S3 checks the block when
	// a policy is put.
	if _, err := s3.NewBucketPolicy(ctx, name+"-wal", &s3.BucketPolicyArgs{
		Bucket: bkt.ID(), Policy: pulumi.String(policy),
	}, append(onBucket, pulumi.DependsOn([]pulumi.Resource{block}))...); err != nil {
		return nil, err
	}
	// Lifecycle rules on a versioned bucket need versioning in place.
	_, err = s3.NewBucketLifecycleConfigurationV2(ctx, name+"-wal", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bkt.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id: pulumi.String("abort-incomplete-uploads"), Status: pulumi.String("Enabled"),
				Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
					DaysAfterInitiation: pulumi.Int(AbortIncompleteUploadDays),
				},
			},
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id: pulumi.String("expire-noncurrent-versions"), Status: pulumi.String("Enabled"),
				Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
					NoncurrentDays: pulumi.Int(NoncurrentVersionDays),
				},
				// Only the delete markers left once no version remains.
				Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{ExpiredObjectDeleteMarker: pulumi.Bool(true)},
			},
		},
	}, append(onBucket, pulumi.DependsOn([]pulumi.Resource{versioning}))...)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// backupPolicy is the instances' IAM policy: read and write their own
// region's bucket (barman's retention deletes what it no longer needs),
// read the peer's (the replica region bootstraps and falls back to its
// archive), and use each bucket's key only through S3 for that bucket.
func backupPolicy(a Args, own *bucket) *cluster.PolicyDocument {
	viaS3 := func(awsRegion, bucketArn string) map[string]map[string]cluster.ConditionValue {
		return map[string]map[string]cluster.ConditionValue{
			"StringEquals": {"kms:ViaService": {"s3." + awsRegion + ".amazonaws.com"}},
			"StringLike":   {"kms:EncryptionContext:aws:s3:arn": {bucketArn, bucketArn + "/*"}},
		}
	}
	keys := func(awsRegion, account string) string {
		return fmt.Sprintf("arn:%s:kms:%s:%s:key/*", a.Partition, awsRegion, account)
	}
	doc := &cluster.PolicyDocument{Version: "2012-10-17", Statement: []cluster.PolicyStatement{
		{Sid: "OwnBucket", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:GetBucketLocation"}, Resource: []string{own.Arn}},
		{Sid: "OwnObjects", Effect: "Allow", Action: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}, Resource: []string{own.Arn + "/*"}},
		{Sid: "OwnKey", Effect: "Allow", Action: []string{"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"},
			Resource: []string{keys(a.AwsRegion, a.AccountID)}, Condition: viaS3(a.AwsRegion, own.Arn)},
	}}
	if a.Peer != nil {
		peerArn := fmt.Sprintf("arn:%s:s3:::%s", a.Partition, a.Peer.Bucket)
		doc.Statement = append(doc.Statement,
			cluster.PolicyStatement{Sid: "PeerBucketRead", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:GetBucketLocation"}, Resource: []string{peerArn}},
			cluster.PolicyStatement{Sid: "PeerObjectsRead", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: []string{peerArn + "/*"}},
			cluster.PolicyStatement{Sid: "PeerKeyDecrypt", Effect: "Allow", Action: []string{"kms:Decrypt"},
				Resource: []string{keys(a.Peer.AwsRegion, a.Peer.AccountID)}, Condition: viaS3(a.Peer.AwsRegion, peerArn)},
		)
	}
	return doc
}
