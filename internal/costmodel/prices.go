// Package costmodel prices a planned region before anything exists: it
// collects what costs money from the program's resources and Kubernetes
// objects (Collect) and prices that inventory from one price table
// (Table.Estimate), at the node groups' minimum and maximum size. tarsctl
// cost and the policy pack's budget advisory use it. It imports nothing of
// the program: inputs are plain maps.
package costmodel

// HoursPerMonth is the month AWS's monthly figures use (365 × 24 / 12).
const HoursPerMonth = 730

// Table is a price list in USD with where and when it was read.
type Table struct {
	// Source names the pages the prices come from; Date is when they were
	// read.
	Source, Date string
	// Regions are the prices per AWS region.
	Regions map[string]RegionPrices
	// Assumptions price what the graph cannot tell (usage).
	Assumptions Assumptions
}

// RegionPrices are one region's on-demand list prices.
type RegionPrices struct {
	// EKSClusterHour: standard support, per cluster.
	EKSClusterHour float64
	// InstanceHour: Linux on-demand, per instance type.
	InstanceHour map[string]float64
	// NATGatewayHour and NATGatewayGB (data processed).
	NATGatewayHour, NATGatewayGB float64
	// PublicIPv4Hour: every public IPv4 address, attached or not.
	PublicIPv4Hour float64
	// ALBHour, NLBHour and their capacity units per hour.
	ALBHour, ALBLCUHour, NLBHour, NLBLCUHour float64
	// EBSGp3GBMonth: gp3 storage (baseline IOPS and throughput included).
	EBSGp3GBMonth float64
	// S3StandardGBMonth: S3 Standard, first 50 TB.
	S3StandardGBMonth float64
	// KMSKeyMonth: a customer-managed key.
	KMSKeyMonth float64
	// HealthCheckMonth is an AWS-endpoint health check; each optional
	// feature (HTTPS, string matching, 10 s interval, latency
	// measurement) adds HealthCheckOptionMonth.
	HealthCheckMonth, HealthCheckOptionMonth float64
	// AlarmMonth: a standard-resolution metric alarm.
	AlarmMonth float64
	// LogsIngestGB and LogsStoredGBMonth: CloudWatch Logs.
	LogsIngestGB, LogsStoredGBMonth float64
	// InterRegionGB: data transfer to another AWS region.
	InterRegionGB float64
}

// Assumptions are the usage figures the estimate cannot read from the graph.
type Assumptions struct {
	// BucketGB is stored per S3 bucket (WAL and backups, metric blocks,
	// log chunks).
	BucketGB float64
	// LCUsPerLoadBalancer: average capacity units each load balancer uses.
	LCUsPerLoadBalancer float64
	// NATGBPerGateway: data each NAT gateway processes per month.
	NATGBPerGateway float64
	// LogsGBPerGroup: ingested per log group per month; stored for the
	// group's retention.
	LogsGBPerGroup float64
	// InterRegionGB: replication traffic per month over each peering.
	InterRegionGB float64
}

// awsRegion is the list price set both regions the platform runs in share
// (us-east-1 and us-west-2 list the same prices for every item here).
var awsRegion = RegionPrices{
	EKSClusterHour: 0.10,
	InstanceHour: map[string]float64{
		"m5.large": 0.096, "m5.xlarge": 0.192, "m5.2xlarge": 0.384, "m5.4xlarge": 0.768,
		"m5a.large": 0.086, "m5a.xlarge": 0.172, "m5a.2xlarge": 0.344, "m5a.4xlarge": 0.688,
		"m6i.large": 0.096, "m6i.xlarge": 0.192, "m6i.2xlarge": 0.384,
		"r5.xlarge": 0.252, "r5.2xlarge": 0.504,
		"c5.xlarge": 0.17, "c5.2xlarge": 0.34,
		// The GPU pool's sizes (components/cluster GPUsPerInstance, NVIDIA
		// T4, issue #23): every g4dn size, from the same on-demand page
		// (Linux; us-east-1 and us-west-2 list the same), transcribed
		// offline like the rest.
		"g4dn.xlarge": 0.526, "g4dn.2xlarge": 0.752, "g4dn.4xlarge": 1.204, "g4dn.8xlarge": 2.176,
		"g4dn.12xlarge": 3.912, "g4dn.16xlarge": 4.352, "g4dn.metal": 7.824,
		"g5.xlarge": 1.006,
	},
	NATGatewayHour: 0.045, NATGatewayGB: 0.045,
	PublicIPv4Hour: 0.005,
	ALBHour:        0.0225, ALBLCUHour: 0.008, NLBHour: 0.0225, NLBLCUHour: 0.006,
	EBSGp3GBMonth:     0.08,
	S3StandardGBMonth: 0.023,
	KMSKeyMonth:       1.00,
	HealthCheckMonth:  0.50, HealthCheckOptionMonth: 1.00,
	AlarmMonth:   0.10,
	LogsIngestGB: 0.50, LogsStoredGBMonth: 0.03,
	InterRegionGB: 0.02,
}

// AWS is the platform's price table.
var AWS = Table{
	Source: "AWS on-demand list prices, Linux, from aws.amazon.com/{eks,ec2/pricing/on-demand,vpc/pricing," +
		"elasticloadbalancing/pricing,ebs/pricing,s3/pricing,kms/pricing,route53/pricing,cloudwatch/pricing}",
	// Transcribed from the pages as published in June 2025; this offline
	// machine could not re-read them. Check before budgeting.
	Date:    "2025-06",
	Regions: map[string]RegionPrices{"us-east-1": awsRegion, "us-west-2": awsRegion},
	Assumptions: Assumptions{
		BucketGB: 100, LCUsPerLoadBalancer: 1, NATGBPerGateway: 100, LogsGBPerGroup: 10, InterRegionGB: 100,
	},
}
