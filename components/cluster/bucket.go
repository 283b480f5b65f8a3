package cluster

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tars-platform/infra/internal/keep"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Bucket lifecycle defaults.
const (
	// DefaultAbortIncompleteUploadDays: a multipart upload that was
	// interrupted (a pod restarted mid-upload) is removed after this.
	DefaultAbortIncompleteUploadDays = 7
	// DefaultNoncurrentVersionDays: what a writer deleted or overwrote (by
	// its retention, or by mistake) stays recoverable as a noncurrent
	// version this long, then goes.
	DefaultNoncurrentVersionDays = 30
)

// BucketArgs is a private data bucket of the platform: the Postgres WAL
// archive, Thanos's blocks.
type BucketArgs struct {
	// Name is the bucket's global name. Required.
	Name string
	// Partition is the AWS partition ("aws"). Required.
	Partition string
	// KeyAlias names the bucket's KMS key ("alias/" is prepended). Required.
	KeyAlias string
	// Purpose describes the data and Region is the logical region, for the
	// key's description. Required.
	Purpose, Region string
	// AbortIncompleteUploadDays. Default DefaultAbortIncompleteUploadDays.
	AbortIncompleteUploadDays int
	// NoncurrentVersionDays. Default DefaultNoncurrentVersionDays.
	NoncurrentVersionDays int
	Tags                  map[string]string
	// Keep protects the bucket and its key (keep.Keep.Data); both are
	// retained on delete whatever it says.
	Keep keep.Keep
}

// PrivateBucket is a created bucket.
type PrivateBucket struct {
	Name   string
	Arn    string
	KeyArn pulumi.StringOutput
}

// NewPrivateBucket creates the bucket and its own KMS key (rotated):
// versioned, encrypted with the key (bucket keys on), owner-enforced, every
// public-access block on, a policy that refuses plain HTTP, and a lifecycle
// that never touches current objects: the writer's own retention (barman's,
// Thanos compactor's) alone decides what is kept; lifecycle only removes
// aborted uploads and, after NoncurrentVersionDays, what the writer
// deleted. The bucket and the key are protected as the stack says and
// outlive the stack (RetainOnDelete): a destroyed or rebuilt stack must not
// take the data with it. The bucket's settings are retained with it (a
// bucket left behind keeps its encryption, versioning, public-access block
// and TLS-only policy), and it never has forceDestroy: S3 refuses to
// delete a bucket that still holds objects. Children are named name,
// name+"-key".
func NewPrivateBucket(ctx *pulumi.Context, name string, a BucketArgs, opts ...pulumi.ResourceOption) (*PrivateBucket, error) {
	if a.AbortIncompleteUploadDays == 0 {
		a.AbortIncompleteUploadDays = DefaultAbortIncompleteUploadDays
	}
	if a.NoncurrentVersionDays == 0 {
		a.NoncurrentVersionDays = DefaultNoncurrentVersionDays
	}
	if a.Name == "" || a.Partition == "" || a.KeyAlias == "" || a.Purpose == "" || a.Region == "" {
		return nil, errors.New("bucket " + name + ": name, partition, keyAlias, purpose and region are required")
	}
	if a.AbortIncompleteUploadDays < 1 || a.NoncurrentVersionDays < 1 {
		return nil, fmt.Errorf("bucket %s: abortIncompleteUploadDays (%d) and noncurrentVersionDays (%d) must be at least 1", name, a.AbortIncompleteUploadDays, a.NoncurrentVersionDays)
	}
	b := &PrivateBucket{Name: a.Name, Arn: fmt.Sprintf("arn:%s:s3:::%s", a.Partition, a.Name)}
	data := append(slices.Clone(opts), a.Keep.Data()...)
	key, err := kms.NewKey(ctx, name+"-key", &kms.KeyArgs{
		Description:          pulumi.Sprintf("T.A.R.S. %s (%s, bucket %s)", a.Purpose, a.Region, b.Name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(DefaultKMSDeletionWindowDays),
		Tags:                 pulumi.ToStringMap(a.Tags),
	}, data...)
	if err != nil {
		return nil, err
	}
	b.KeyArn = key.Arn
	if _, err := kms.NewAlias(ctx, name+"-key", &kms.AliasArgs{
		Name: pulumi.String("alias/" + a.KeyAlias), TargetKeyId: key.KeyId,
	}, opts...); err != nil {
		return nil, err
	}
	bkt, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		Bucket: pulumi.String(b.Name),
		Tags:   pulumi.ToStringMap(a.Tags),
		// Never forceDestroy: a destroy must not empty the bucket.
		ForceDestroy: pulumi.Bool(false),
	}, data...)
	if err != nil {
		return nil, err
	}
	onBucket := append(append(slices.Clone(opts), keep.Part()...), pulumi.Parent(bkt))
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bkt.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, onBucket...); err != nil {
		return nil, err
	}
	block, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bkt.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, onBucket...)
	if err != nil {
		return nil, err
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bkt.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, onBucket...)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
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
	tlsOnly := PolicyDocument{Version: "2012-10-17", Statement: []PolicyStatement{{
		Sid: "DenyInsecureTransport", Effect: "Deny",
		Principal: map[string]any{"AWS": "*"},
		Action:    []string{"s3:*"},
		Resource:  []string{b.Arn, b.Arn + "/*"},
		Condition: map[string]map[string]ConditionValue{"Bool": {"aws:SecureTransport": {"false"}}},
	}}}
	policy, err := tlsOnly.JSON()
	if err != nil {
		return nil, err
	}
	// The policy after the public-access block: S3 checks the block when
	// a policy is put.
	if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bkt.ID(), Policy: pulumi.String(policy),
	}, append(onBucket, pulumi.DependsOn([]pulumi.Resource{block}))...); err != nil {
		return nil, err
	}
	// Lifecycle rules on a versioned bucket need versioning in place.
	_, err = s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bkt.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id: pulumi.String("abort-incomplete-uploads"), Status: pulumi.String("Enabled"),
				Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
					DaysAfterInitiation: pulumi.Int(a.AbortIncompleteUploadDays),
				},
			},
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id: pulumi.String("expire-noncurrent-versions"), Status: pulumi.String("Enabled"),
				Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
					NoncurrentDays: pulumi.Int(a.NoncurrentVersionDays),
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

// KMSViaS3 is the condition that lets a role use a bucket's key only
// through S3, for that bucket.
func KMSViaS3(awsRegion, bucketArn string) map[string]map[string]ConditionValue {
	return map[string]map[string]ConditionValue{
		"StringEquals": {"kms:ViaService": {"s3." + awsRegion + ".amazonaws.com"}},
		"StringLike":   {"kms:EncryptionContext:aws:s3:arn": {bucketArn, bucketArn + "/*"}},
	}
}
