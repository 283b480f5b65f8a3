package postgres

import (
	"fmt"

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

// newBucket creates the region's WAL and base-backup store (see
// cluster.NewPrivateBucket: versioned, KMS-encrypted, private, TLS-only,
// retained when the stack is destroyed).
func (c *Database) newBucket(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (*cluster.PrivateBucket, error) {
	return cluster.NewPrivateBucket(ctx, name+"-wal", cluster.BucketArgs{
		Name:                      BucketName(a.AccountID, a.AwsRegion),
		Partition:                 a.Partition,
		KeyAlias:                  ClusterName(a.Region) + "-wal",
		Purpose:                   "Postgres WAL and backups",
		Region:                    a.Region,
		AbortIncompleteUploadDays: AbortIncompleteUploadDays,
		NoncurrentVersionDays:     NoncurrentVersionDays,
		Tags:                      a.Tags,
		Keep:                      a.Keep,
	}, opts...)
}

// backupPolicy is the instances' IAM policy: read and write their own
// region's bucket (barman's retention deletes what it no longer needs),
// read the peer's (the replica region bootstraps and falls back to its
// archive), and use each bucket's key only through S3 for that bucket.
func backupPolicy(a Args, own *cluster.PrivateBucket) *cluster.PolicyDocument {
	viaS3 := cluster.KMSViaS3
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
