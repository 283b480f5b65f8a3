package costmodel

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// Line is one priced item: its monthly cost with the node groups at their
// minimum and at their maximum size (equal for everything else).
type Line struct {
	Item, Quantity string
	Min, Max       float64
}

// Estimate is a region's monthly cost.
type Estimate struct {
	AwsRegion string
	Lines     []Line
	Min, Max  float64
}

// Estimate prices an inventory in an AWS region. An instance type or a
// region the table does not list is an error, never a zero.
func (t Table) Estimate(awsRegion string, inv Inventory) (Estimate, error) {
	p, ok := t.Regions[awsRegion]
	if !ok {
		return Estimate{}, fmt.Errorf("the price table has no region %q (it lists %s)", awsRegion, strings.Join(sortedKeys(t.Regions), ", "))
	}
	a := t.Assumptions
	e := Estimate{AwsRegion: awsRegion}
	add := func(item, qty string, min, max float64) {
		e.Lines = append(e.Lines, Line{Item: item, Quantity: qty, Min: round(min), Max: round(max)})
	}
	same := func(item, qty string, cost float64) { add(item, qty, cost, cost) }

	if inv.ControlPlanes > 0 {
		same("EKS control plane", fmt.Sprintf("%d × $%g/h", inv.ControlPlanes, p.EKSClusterHour), float64(inv.ControlPlanes)*p.EKSClusterHour*HoursPerMonth)
	}
	for _, g := range inv.NodeGroups {
		// A group may launch any of its types: the cheapest at the
		// minimum, the dearest at the maximum.
		lo, hi := math.Inf(1), 0.0
		for _, it := range g.InstanceTypes {
			h, ok := p.InstanceHour[it]
			if !ok {
				return Estimate{}, fmt.Errorf("node group %s: the price table has no instance type %q", g.Name, it)
			}
			lo, hi = math.Min(lo, h), math.Max(hi, h)
		}
		add("nodes "+g.Name, fmt.Sprintf("%d–%d × %s ($%g–%g/h)", g.Min, g.Max, strings.Join(g.InstanceTypes, "|"), lo, hi),
			float64(g.Min)*lo*HoursPerMonth, float64(g.Max)*hi*HoursPerMonth)
		add("node volumes "+g.Name, fmt.Sprintf("%d–%d × %g GiB gp3", g.Min, g.Max, g.DiskGiB),
			float64(g.Min)*g.DiskGiB*p.EBSGp3GBMonth, float64(g.Max)*g.DiskGiB*p.EBSGp3GBMonth)
	}
	if inv.NATGateways > 0 {
		n := float64(inv.NATGateways)
		same("NAT gateways", fmt.Sprintf("%d × $%g/h + %g GB processed each × $%g", inv.NATGateways, p.NATGatewayHour, a.NATGBPerGateway, p.NATGatewayGB),
			n*(p.NATGatewayHour*HoursPerMonth+a.NATGBPerGateway*p.NATGatewayGB))
	}
	albs, nlbs, publicIPs := 0, 0, inv.ElasticIPs
	for _, lb := range inv.LoadBalancers {
		if lb.Network {
			nlbs++
		} else {
			albs++
		}
		if lb.InternetFacing {
			publicIPs += inv.PublicSubnets
		}
	}
	if albs > 0 {
		same("application load balancers", fmt.Sprintf("%d × ($%g/h + %g LCU × $%g/h)", albs, p.ALBHour, a.LCUsPerLoadBalancer, p.ALBLCUHour),
			float64(albs)*(p.ALBHour+a.LCUsPerLoadBalancer*p.ALBLCUHour)*HoursPerMonth)
	}
	if nlbs > 0 {
		same("network load balancers", fmt.Sprintf("%d × ($%g/h + %g NLCU × $%g/h)", nlbs, p.NLBHour, a.LCUsPerLoadBalancer, p.NLBLCUHour),
			float64(nlbs)*(p.NLBHour+a.LCUsPerLoadBalancer*p.NLBLCUHour)*HoursPerMonth)
	}
	if publicIPs > 0 {
		same("public IPv4 addresses", fmt.Sprintf("%d × $%g/h (NAT addresses, one per public subnet for each internet-facing load balancer)", publicIPs, p.PublicIPv4Hour),
			float64(publicIPs)*p.PublicIPv4Hour*HoursPerMonth)
	}
	if gb := inv.VolumeGiB(); gb > 0 {
		same("persistent volumes", fmt.Sprintf("%d claims, %g GiB gp3 × $%g", len(inv.Volumes), gb, p.EBSGp3GBMonth), gb*p.EBSGp3GBMonth)
	}
	if inv.Buckets > 0 {
		same("S3 buckets", fmt.Sprintf("%d × %g GB (assumed) × $%g", inv.Buckets, a.BucketGB, p.S3StandardGBMonth), float64(inv.Buckets)*a.BucketGB*p.S3StandardGBMonth)
	}
	if inv.KMSKeys > 0 {
		same("KMS keys", fmt.Sprintf("%d × $%g", inv.KMSKeys, p.KMSKeyMonth), float64(inv.KMSKeys)*p.KMSKeyMonth)
	}
	for _, h := range inv.HealthChecks {
		opts := "basic"
		if len(h.Options) > 0 {
			opts += " + " + strings.Join(h.Options, ", ")
		}
		same("health check "+h.Name, fmt.Sprintf("%s ($%g + %d × $%g)", opts, p.HealthCheckMonth, len(h.Options), p.HealthCheckOptionMonth),
			p.HealthCheckMonth+float64(len(h.Options))*p.HealthCheckOptionMonth)
	}
	if inv.Alarms > 0 {
		same("CloudWatch alarms", fmt.Sprintf("%d × $%g", inv.Alarms, p.AlarmMonth), float64(inv.Alarms)*p.AlarmMonth)
	}
	if len(inv.LogGroups) > 0 {
		cost := 0.0
		for _, days := range inv.LogGroups {
			if days == 0 {
				days = 365
			}
			// A steady state holds the retention's worth of months.
			cost += a.LogsGBPerGroup*p.LogsIngestGB + a.LogsGBPerGroup*float64(days)/30*p.LogsStoredGBMonth
		}
		same("CloudWatch Logs", fmt.Sprintf("%d groups × %g GB/month (assumed) ingested and kept", len(inv.LogGroups), a.LogsGBPerGroup), cost)
	}
	if inv.Peerings > 0 {
		same("cross-region transfer", fmt.Sprintf("%d peering × %g GB (assumed) × $%g", inv.Peerings, a.InterRegionGB, p.InterRegionGB), float64(inv.Peerings)*a.InterRegionGB*p.InterRegionGB)
	}
	for _, l := range e.Lines {
		e.Min += l.Min
		e.Max += l.Max
	}
	e.Min, e.Max = round(e.Min), round(e.Max)
	return e, nil
}

// round rounds to cents.
func round(v float64) float64 { return math.Round(v*100) / 100 }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Write prints the estimate as a table.
func (e Estimate) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ITEM\tQUANTITY\tMIN $/MONTH\tMAX $/MONTH\n")
	for _, l := range e.Lines {
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\n", l.Item, l.Quantity, l.Min, l.Max)
	}
	fmt.Fprintf(tw, "total\t\t%.2f\t%.2f\n", e.Min, e.Max)
	return tw.Flush()
}
