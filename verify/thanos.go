package verify

import (
	"context"
	"fmt"
	"net/url"
	"time"
)

// thanosBlockMaxAge: the store gateway must have a block whose data ends
// less than this long ago (issue #24: "younger than 4 h"); the sidecars
// upload a block every 2 h.
const thanosBlockMaxAge = 4 * time.Hour

const thanosBlocksTimeout = 30 * time.Second

// thanosStoreService is the store gateway's HTTP port. stevehipwell's
// thanos chart renders the store gateway with a headless Service only
// (templates/store-gateway/service-headless.yaml:
// "<thanos.fullname>-store-gateway-headless", port "http" =
// storeGateway.service.httpPort, default 10902); the API server's proxy
// picks one of its ready endpoints.
func thanosStoreService(rel Release) Service {
	return Service{Namespace: rel.Namespace, Name: obsFullname(rel, chartThanos, 63) + "-store-gateway-headless",
		Port: obsPort(rel, "storeGateway.service.httpPort", 10902)}
}

// thanosBlock is a block's meta.json as the blocks API serves it
// (pkg/block/metadata.Meta: tsdb.BlockMeta plus "thanos"); times are
// Unix milliseconds.
type thanosBlock struct {
	ULID    string `json:"ulid"`
	MinTime int64  `json:"minTime"`
	MaxTime int64  `json:"maxTime"`
	Thanos  struct {
		Labels map[string]string `json:"labels"`
		Source string            `json:"source"`
	} `json:"thanos"`
}

// ThanosBlocks: the Thanos store gateway has loaded a block whose data is
// younger than 4 h, so the sidecars upload and the store sees the bucket.
func ThanosBlocks() Check {
	return Check{
		ID:       "thanos-blocks",
		Expected: "the Thanos store gateway has loaded a block younger than 4h",
		Scope:    PerRegion,
		Timeout:  thanosBlocksTimeout,
		Run:      runThanosBlocks,
	}
}

// runThanosBlocks reads the store gateway's blocks API: GET
// /api/v1/blocks?view=loaded, the blocks its meta fetcher has loaded
// (thanos v0.42 cmd/thanos/store.go registers pkg/api/blocks under
// /api/v1 on the HTTP port unless --web.disable; data is BlocksInfo
// {label, blocks, refreshedAt, err}).
func runThanosBlocks(ctx context.Context, env *Env, region string) (Outcome, error) {
	r, rel, err := obsRelease(env, region, chartThanos)
	if err != nil {
		return Outcome{}, err
	}
	svc := thanosStoreService(rel)
	var data struct {
		Blocks      []thanosBlock `json:"blocks"`
		RefreshedAt string        `json:"refreshedAt"`
	}
	if err := promGet(ctx, r.Cluster, "Thanos store gateway", svc, "/api/v1/blocks", url.Values{"view": {"loaded"}}, &data); err != nil {
		return Outcome{}, err
	}
	var out Outcome
	if len(data.Blocks) == 0 {
		out.Observed = fmt.Sprintf("no blocks loaded (refreshed %s)", data.RefreshedAt)
		return out.Failf("Thanos store gateway %s: no blocks loaded: is the bucket empty, or is the sidecar not uploading?", svc), nil
	}
	newest := data.Blocks[0]
	for _, b := range data.Blocks[1:] {
		if b.MaxTime > newest.MaxTime {
			newest = b
		}
	}
	maxTime := time.UnixMilli(newest.MaxTime).UTC()
	age := env.now().Sub(maxTime)
	out.Observed = fmt.Sprintf("%d blocks loaded; newest %s ends %s (%s ago)", len(data.Blocks), newest.ULID, maxTime.Format(time.RFC3339), age.Round(time.Minute))
	if age >= thanosBlockMaxAge {
		out = out.Failf("Thanos store gateway %s: newest block %s ends %s, %s ago (limit %s): are the sidecars uploading?", svc, newest.ULID, maxTime.Format(time.RFC3339), age.Round(time.Minute), thanosBlockMaxAge)
	}
	return out, nil
}
