package geodns

import (
	"fmt"

	"github.com/pulumi/pulumi-cloudflare/sdk/v6/go/cloudflare"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// CloudflareRegions are the Cloudflare geo-steering regions each logical
// region serves: eastern and western North America.
var CloudflareRegions = map[string]string{"us-east": "ENAM", "us-west": "WNAM"}

// newCloudflare creates the region's monitor and pool and, in the
// singletons owner's stack, the proxied load balancer steering eastern
// North America to us-east and western to us-west, each with the other
// pool behind it, and the secondary region as the fallback.
func (e *Edge) newCloudflare(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	cf := a.Cloudflare
	prov, err := cloudflare.NewProvider(ctx, name+"-cloudflare", &cloudflare.ProviderArgs{ApiToken: a.CloudflareAPIToken}, opts...)
	if err != nil {
		return err
	}
	in := append(opts, pulumi.Provider(prov))
	host := a.RegionName(a.Region)
	mon, err := cloudflare.NewLoadBalancerMonitor(ctx, name+"-monitor", &cloudflare.LoadBalancerMonitorArgs{
		AccountId:       pulumi.String(cf.AccountID),
		Description:     pulumi.Sprintf("tars API %s: HTTPS %s", a.Region, a.HealthCheck.Path),
		Type:            pulumi.String("https"),
		Method:          pulumi.String("GET"),
		Path:            pulumi.String(a.HealthCheck.Path),
		Port:            pulumi.Int(443),
		ExpectedCodes:   pulumi.String("200"),
		Header:          pulumi.StringArrayMap{"Host": pulumi.ToStringArray([]string{host})},
		Interval:        pulumi.Int(cf.IntervalSeconds),
		Timeout:         pulumi.Int(DefaultCloudflareTimeoutSeconds),
		Retries:         pulumi.Int(0),
		ConsecutiveDown: pulumi.Int(cf.ConsecutiveDown),
		ConsecutiveUp:   pulumi.Int(2),
	}, in...)
	if err != nil {
		return err
	}
	pool, err := cloudflare.NewLoadBalancerPool(ctx, name+"-pool", &cloudflare.LoadBalancerPoolArgs{
		AccountId: pulumi.String(cf.AccountID),
		Name:      pulumi.String("tars-api-" + a.Region),
		Monitor:   mon.ID().ToStringOutput(),
		Origins: cloudflare.LoadBalancerPoolOriginArray{cloudflare.LoadBalancerPoolOriginArgs{
			Name: pulumi.String(a.Region), Address: pulumi.String(host), Enabled: pulumi.Bool(true),
		}},
		MinimumOrigins: pulumi.Int(1),
		CheckRegions:   pulumi.ToStringArray([]string{CloudflareRegions[a.Region], CloudflareRegions[a.PeerRegion]}),
	}, in...)
	if err != nil {
		return err
	}
	e.CloudflarePool = pool.ID().ToStringOutput()
	if !a.OwnsSingletons() {
		return nil
	}
	if a.PeerPool == "" {
		return fmt.Errorf("the load balancer needs %s's pool, which its stack has not exported yet (cloudflarePoolId): run `pulumi up` of %s's stack first", a.PeerRegion, a.PeerRegion)
	}
	pools := map[string]pulumi.StringInput{a.Region: pool.ID().ToStringOutput(), a.PeerRegion: pulumi.String(a.PeerPool)}
	secondary := a.PeerRegion
	if a.DNSPrimary == a.PeerRegion {
		secondary = a.Region
	}
	primary := a.DNSPrimary
	_, err = cloudflare.NewLoadBalancer(ctx, name+"-lb", &cloudflare.LoadBalancerArgs{
		ZoneId:         pulumi.String(cf.ZoneID),
		Name:           pulumi.String(cf.Hostname),
		Description:    pulumi.String("tars API: geo steering, each region backed by the other"),
		SteeringPolicy: pulumi.String("geo"),
		RegionPools: pulumi.StringArrayMap{
			CloudflareRegions[a.Region]:     pulumi.StringArray{pools[a.Region], pools[a.PeerRegion]},
			CloudflareRegions[a.PeerRegion]: pulumi.StringArray{pools[a.PeerRegion], pools[a.Region]},
		},
		DefaultPools: pulumi.StringArray{pools[primary], pools[secondary]},
		FallbackPool: pools[secondary],
		Proxied:      pulumi.Bool(true),
	}, in...)
	return err
}
