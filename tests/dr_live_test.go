package tests

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/monitoring"
	"github.com/tars-platform/infra/components/postgres"
	"github.com/tars-platform/infra/dr"
)

// liveOutputs is an OutputsSource over a fixed table.
func liveOutputs(m map[string]dr.Outputs) dr.OutputsSource {
	return func(_ context.Context, region string) (dr.Outputs, error) {
		o, ok := m[region]
		if !ok {
			return dr.Outputs{}, fmt.Errorf("no stack %s", region)
		}
		return o, nil
	}
}

// --- Route 53 -----------------------------------------------------------

// route53Fake answers GetHealthCheckStatus and ListResourceRecordSets in
// Route 53's REST/XML form (API reference, 2013-04-01: "Response Syntax"
// of GetHealthCheckStatus and ListResourceRecordSets), on loopback.
type route53Fake struct {
	mu       sync.Mutex
	requests []string // "GET path?query"
	// checks: health check id → the checkers' StatusReport.Status values.
	checks map[string][]string
	// zones: hosted zone id → record sets in Route 53's order.
	zones map[string][]fakeRecord
}

type fakeRecord struct {
	Name, Type, SetIdentifier string
	Weight                    *int64
	Value                     string
}

func (f *route53Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	f.mu.Unlock()
	const ns = `xmlns="https://route53.amazonaws.com/doc/2013-04-01/"`
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/2013-04-01/"), "/")
	w.Header().Set("Content-Type", "text/xml")
	notFound := func(code, msg string) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `<?xml version="1.0"?>
<ErrorResponse %s><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake-1</RequestId></ErrorResponse>`, ns, code, msg)
	}
	switch {
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "healthcheck" && parts[2] == "status":
		statuses, ok := f.checks[parts[1]]
		if !ok {
			notFound("NoSuchHealthCheck", "A health check with id "+parts[1]+" does not exist.")
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<GetHealthCheckStatusResponse %s>\n   <HealthCheckObservations>\n", ns)
		regions := []string{"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"}
		for i, s := range statuses {
			fmt.Fprintf(&b, `      <HealthCheckObservation>
         <IPAddress>15.177.%d.%d</IPAddress>
         <Region>%s</Region>
         <StatusReport>
            <CheckedTime>2026-11-30T09:00:%02dZ</CheckedTime>
            <Status>%s</Status>
         </StatusReport>
      </HealthCheckObservation>
`, i/2, 10+i, regions[i%len(regions)], i, s)
		}
		b.WriteString("   </HealthCheckObservations>\n</GetHealthCheckStatusResponse>\n")
		_, _ = w.Write([]byte(b.String()))
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset":
		records, ok := f.zones[parts[1]]
		if !ok {
			notFound("NoSuchHostedZone", "No hosted zone found with ID: "+parts[1])
			return
		}
		// From the first record whose name (and type) is at or after the
		// start, as Route 53 lists (names compared here as given: the
		// table is in order already).
		start := r.URL.Query().Get("name")
		i := 0
		for i < len(records) && strings.TrimSuffix(records[i].Name, ".") != strings.TrimSuffix(start, ".") {
			i++
		}
		if i == len(records) {
			i = 0
		}
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<ListResourceRecordSetsResponse %s>\n   <ResourceRecordSets>\n", ns)
		for _, rr := range records[i:] {
			b.WriteString("      <ResourceRecordSet>\n")
			fmt.Fprintf(&b, "         <Name>%s</Name>\n         <Type>%s</Type>\n", rr.Name, rr.Type)
			if rr.SetIdentifier != "" {
				fmt.Fprintf(&b, "         <SetIdentifier>%s</SetIdentifier>\n", rr.SetIdentifier)
			}
			if rr.Weight != nil {
				fmt.Fprintf(&b, "         <Weight>%d</Weight>\n", *rr.Weight)
			}
			fmt.Fprintf(&b, "         <TTL>60</TTL>\n         <ResourceRecords>\n            <ResourceRecord>\n               <Value>%s</Value>\n            </ResourceRecord>\n         </ResourceRecords>\n", rr.Value)
			if rr.SetIdentifier != "" {
				b.WriteString("         <HealthCheckId>hc-" + rr.SetIdentifier + "</HealthCheckId>\n")
			}
			b.WriteString("      </ResourceRecordSet>\n")
		}
		b.WriteString("   </ResourceRecordSets>\n   <IsTruncated>false</IsTruncated>\n   <MaxItems>300</MaxItems>\n</ListResourceRecordSetsResponse>\n")
		_, _ = w.Write([]byte(b.String()))
	default:
		notFound("NotFound", "no such action in the fake: "+r.Method+" "+r.URL.Path)
	}
}

// checkers returns n observations of which ok report success.
func checkers(ok, n int) []string {
	out := make([]string, n)
	for i := range out {
		if i < ok {
			out[i] = "Success: HTTP Status Code 200, OK"
		} else {
			out[i] = "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall. See https://docs.aws.amazon.com/console/route53/health-checks-troubleshooting"
		}
	}
	return out
}

// isolateAWS keeps the developer's AWS files and profile out of a test.
func isolateAWS(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestDRLiveRoute53(t *testing.T) {
	isolateAWS(t)
	w := func(n int64) *int64 { return &n }
	const zone, failover = "Z0851562ABCDEF", "api-failover.tars.example.com"
	fake := &route53Fake{
		checks: map[string][]string{
			"hc-us-east": checkers(14, 16), // 87.5 %: healthy
			"hc-us-west": checkers(2, 16),  // 12.5 %: unhealthy
			"hc-lone":    checkers(3, 16),  // 18.75 %: healthy (more than 18 %)
		},
		zones: map[string][]fakeRecord{zone: {
			{Name: failover + ".", Type: "CNAME", SetIdentifier: "us-east", Weight: w(100), Value: "east-alb.example.com"},
			{Name: failover + ".", Type: "CNAME", SetIdentifier: "us-west", Weight: w(0), Value: "west-alb.example.com"},
			{Name: "api-global.tars.example.com.", Type: "CNAME", SetIdentifier: "eu-central", Weight: w(50), Value: "x.example.com"},
		}},
	}
	srv := httptest.NewServer(fake) // 127.0.0.1
	defer srv.Close()
	out := func(region string) dr.Outputs {
		return dr.Outputs{Region: region, HealthCheckID: "hc-" + region, DNSZoneID: zone, DNSFailoverName: failover}
	}
	live := dr.NewLive(liveOutputs(map[string]dr.Outputs{
		"us-east": out("us-east"), "us-west": out("us-west"),
		// A region whose record of the failover name is missing.
		"eu-central": {Region: "eu-central", HealthCheckID: "hc-lone", DNSZoneID: zone, DNSFailoverName: failover},
		// A region whose health check does not exist.
		"gone": {Region: "gone", HealthCheckID: "hc-gone"},
	}), dr.WithRoute53Endpoint(srv.URL),
		dr.WithAWSCredentials(credentials.NewStaticCredentialsProvider("AKIDTESTTESTTEST", "secret", "")))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	east, err := live.DNS(ctx, "us-east")
	require.NoError(t, err)
	assert.Equal(t, dr.DNS{HealthCheckID: "hc-us-east", Healthy: true, Weight: 100}, east)

	west, err := live.DNS(ctx, "us-west")
	require.NoError(t, err)
	assert.Equal(t, dr.DNS{HealthCheckID: "hc-us-west", Healthy: false, Weight: 0}, west, "2 of 16 checkers (12.5 %) is unhealthy")

	lone, err := live.DNS(ctx, "eu-central")
	require.NoError(t, err)
	assert.True(t, lone.Healthy, "3 of 16 (18.75 %) is more than 18 %")
	assert.Equal(t, int64(-1), lone.Weight, "no record of the failover name has set identifier eu-central")

	_, err = live.DNS(ctx, "gone")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "region gone")
	assert.Contains(t, err.Error(), "hc-gone")
	assert.False(t, errors.Is(err, dr.ErrUnreachable), "Route 53 answered: %v", err)

	fake.mu.Lock()
	reqs := strings.Join(fake.requests, "\n")
	fake.mu.Unlock()
	assert.Contains(t, reqs, "GET /2013-04-01/healthcheck/hc-us-east/status")
	// The listing starts at the failover name's CNAME records.
	var list *url.URL
	for _, r := range fake.requests {
		if strings.Contains(r, "/rrset") {
			list, err = url.Parse(strings.TrimPrefix(r, "GET "))
			require.NoError(t, err)
			break
		}
	}
	require.NotNil(t, list, reqs)
	assert.Equal(t, "/2013-04-01/hostedzone/"+zone+"/rrset", list.Path)
	assert.Equal(t, failover, list.Query().Get("name"))
	assert.Equal(t, "CNAME", list.Query().Get("type"))
}

func TestDRLiveRoute53Rule(t *testing.T) {
	for _, tc := range []struct {
		ok, n int
		want  bool
	}{
		{14, 16, true}, {2, 16, false}, {3, 16, true}, {18, 100, false}, {19, 100, true}, {0, 0, false}, {16, 16, true},
	} {
		assert.Equal(t, tc.want, dr.Route53Healthy(checkers(tc.ok, tc.n)), "%d of %d", tc.ok, tc.n)
	}
	assert.False(t, dr.Route53Healthy([]string{"Failure: HTTP Status Code 503, Service Unavailable", ""}))
}

func TestDRLiveRoute53Unreachable(t *testing.T) {
	isolateAWS(t)
	live := dr.NewLive(liveOutputs(map[string]dr.Outputs{"us-east": {Region: "us-east", HealthCheckID: "hc"}}),
		dr.WithRoute53Endpoint("http://127.0.0.1:1"),
		dr.WithAWSCredentials(credentials.NewStaticCredentialsProvider("AKIDTESTTESTTEST", "secret", "")))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := live.DNS(ctx, "us-east")
	require.Error(t, err)
	t.Logf("route 53 unreachable: %v", err)
	assert.ErrorIs(t, err, dr.ErrUnreachable)
}

// --- Kubernetes ---------------------------------------------------------

// liveKubeconfig is a kubeconfig for the test API server with its admin
// token (the server's certificate is self-signed for the run).
func liveKubeconfig(server, token string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: tier
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: %q}
contexts:
- name: tier
  context: {cluster: tier, user: admin}
current-context: tier
`, server, token)
}

func TestDRLiveUnreachable(t *testing.T) {
	live := dr.NewLive(liveOutputs(map[string]dr.Outputs{"us-west": {
		Region: "us-west", PostgresCluster: postgres.ClusterName("us-west"),
		Kubeconfig: liveKubeconfig("https://127.0.0.1:1", "nobody"),
	}}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := live.Postgres(ctx, "us-west")
	require.Error(t, err)
	t.Logf("unreachable: %v", err)
	assert.ErrorIs(t, err, dr.ErrUnreachable)
	assert.Contains(t, err.Error(), "region us-west")
	assert.Contains(t, err.Error(), "tars-postgres/tars-pg-us-west")
	assert.ErrorIs(t, live.DeleteCluster(ctx, "us-west"), dr.ErrUnreachable)
	assert.ErrorIs(t, live.WriteMarker(ctx, "us-west", "drill-1"), dr.ErrUnreachable)
	_, err = live.ReadMarker(ctx, "us-west", "drill-1")
	assert.ErrorIs(t, err, dr.ErrUnreachable)
}

func TestDRLiveNoCluster(t *testing.T) {
	// No Cluster in the outputs: nothing to reach, an empty answer.
	live := dr.NewLive(liveOutputs(map[string]dr.Outputs{"us-west": {Region: "us-west"}}))
	p, err := live.Postgres(context.Background(), "us-west")
	require.NoError(t, err)
	assert.Equal(t, dr.Postgres{}, p)
	require.NoError(t, live.DeleteCluster(context.Background(), "us-west"))
	_, err = live.Postgres(context.Background(), "nowhere")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "region nowhere")
}

// TestDRLiveKubernetes: Live reads a real CloudNativePG Cluster (the 1.30
// CRD, its status patched as the operator would) and the barman-cloud
// ObjectStore from a real kube-apiserver, and deletes the Cluster.
func TestDRLiveKubernetes(t *testing.T) {
	srv := kubeAPI(t) // skips when TARS_SKIP_CONFORMANCE=1
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ns = dr.PostgresNamespace
	west, east := postgres.ClusterName("us-west"), postgres.ClusterName("us-east")
	require.NoError(t, srv.Apply(ctx, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}, false))
	clusterPath := "/apis/postgresql.cnpg.io/v1/namespaces/" + ns + "/clusters/" + west
	storePath := "/apis/barmancloud.cnpg.io/v1/namespaces/" + ns + "/objectstores/" + west
	t.Cleanup(func() {
		_ = srv.Delete(context.Background(), clusterPath) // best effort: the server is per binary
		_ = srv.Delete(context.Background(), storePath)
	})

	cluster := func(replica map[string]any) map[string]any {
		spec := map[string]any{
			"instances": 3,
			"storage":   map[string]any{"size": "1Gi"},
			"plugins": []any{map[string]any{"name": postgres.PluginName, "isWALArchiver": true,
				"parameters": map[string]any{"barmanObjectName": west}}},
			"externalClusters": []any{
				map[string]any{"name": west, "plugin": map[string]any{"name": postgres.PluginName,
					"parameters": map[string]any{"barmanObjectName": west, "serverName": west}}},
				map[string]any{"name": east, "plugin": map[string]any{"name": postgres.PluginName,
					"parameters": map[string]any{"barmanObjectName": east, "serverName": east}}},
			},
		}
		if replica != nil {
			spec["replica"] = replica
		}
		return map[string]any{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
			"metadata": map[string]any{"name": west, "namespace": ns}, "spec": spec}
	}
	require.NoError(t, srv.Apply(ctx, cluster(map[string]any{"self": west, "primary": east, "source": east}), false))
	archivingSince := time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)
	token := "eyJzeXN0ZW1JRCI6IjczNjQ4MjkxMDQ3NTYyMTg0NDEiLCJ0aW1lbGluZUlEIjoyfQ=="
	require.NoError(t, srv.MergePatch(ctx, clusterPath+"/status", map[string]any{"status": map[string]any{
		"phase": dr.PhaseHealthy, "instances": 3, "readyInstances": 3,
		"currentPrimary": west + "-1", "targetPrimary": west + "-1", "timelineID": 2,
		"demotionToken": token,
		"conditions": []any{map[string]any{
			"type": "ContinuousArchiving", "status": "True", "reason": "ContinuousArchivingSuccess",
			"message": "Continuous archiving is working", "lastTransitionTime": archivingSince.Format(time.RFC3339),
		}},
	}}))
	// The plugin's record of the region's backups.
	require.NoError(t, srv.Apply(ctx, map[string]any{"apiVersion": "barmancloud.cnpg.io/v1", "kind": "ObjectStore",
		"metadata": map[string]any{"name": west, "namespace": ns},
		"spec": map[string]any{"configuration": map[string]any{"destinationPath": "s3://tars-pg-us-west/",
			"s3Credentials": map[string]any{"inheritFromIAMRole": true}}}}, false))
	lastBackup := time.Date(2026, 11, 30, 2, 3, 4, 0, time.UTC)
	require.NoError(t, srv.MergePatch(ctx, storePath+"/status", map[string]any{"status": map[string]any{
		"serverRecoveryWindow": map[string]any{west: map[string]any{
			"firstRecoverabilityPoint": "2026-10-31T02:00:00Z",
			"lastSuccessfulBackupTime": lastBackup.Format(time.RFC3339),
		}},
	}}))

	outputs := map[string]dr.Outputs{
		"us-west": {Region: "us-west", PostgresCluster: west, Kubeconfig: liveKubeconfig(srv.URL, srv.Token)},
		// A wrong token: the server answers 401, the region is reachable.
		"us-east": {Region: "us-east", PostgresCluster: east, Kubeconfig: liveKubeconfig(srv.URL, "not-the-token")},
	}
	live := dr.NewLive(liveOutputs(outputs))

	p, err := live.Postgres(ctx, "us-west")
	require.NoError(t, err)
	assert.Equal(t, dr.Postgres{
		Cluster: west, Phase: dr.PhaseHealthy, Primary: false, Following: east,
		ReadyInstances: 3, Instances: 3, DemotionToken: token, Timeline: 2,
		// No Prometheus behind the service proxy here: the lag is unknown.
		Lag: 0, LagKnown: false,
		LastBackup:          lastBackup,
		LastArchivedWALTime: archivingSince,
	}, p)
	assert.True(t, p.Healthy())

	// The same Cluster promoted: spec.replica.primary is itself.
	require.NoError(t, srv.Apply(ctx, cluster(map[string]any{"self": west, "primary": west, "source": east}), false))
	p, err = live.Postgres(ctx, "us-west")
	require.NoError(t, err)
	assert.True(t, p.Primary)
	assert.Empty(t, p.Following)
	assert.Equal(t, 2, p.Timeline)

	// Without spec.replica: a plain primary.
	require.NoError(t, srv.Apply(ctx, cluster(nil), false))
	p, err = live.Postgres(ctx, "us-west")
	require.NoError(t, err)
	assert.True(t, p.Primary)
	assert.Equal(t, west, p.Cluster)

	// An answer that is not a success is not "unreachable".
	_, err = live.Postgres(ctx, "us-east")
	require.Error(t, err)
	t.Logf("wrong token: %v", err)
	assert.False(t, errors.Is(err, dr.ErrUnreachable), "%v", err)
	assert.Contains(t, err.Error(), "region us-east")

	// The primary pod does not exist here: exec fails, with the pod named,
	// and the API server did answer.
	err = live.WriteMarker(ctx, "us-west", "drill-1")
	require.Error(t, err)
	t.Logf("exec without a pod: %v", err)
	assert.False(t, errors.Is(err, dr.ErrUnreachable), "%v", err)
	assert.Contains(t, err.Error(), west+"-1")

	require.NoError(t, live.DeleteCluster(ctx, "us-west"))
	status, _, err := srv.Do(ctx, http.MethodGet, clusterPath, "", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, status, "the Cluster is deleted")
	p, err = live.Postgres(ctx, "us-west")
	require.NoError(t, err, "a deleted Cluster is an empty answer")
	assert.Equal(t, dr.Postgres{}, p)
	require.NoError(t, live.DeleteCluster(ctx, "us-west"), "deleting twice")
}

// --- Prometheus ---------------------------------------------------------

func TestDRLivePromQuery(t *testing.T) {
	// The instant-query answer as Prometheus documents it (HTTP API,
	// "Instant queries" and "Expression query result formats").
	vector := `{
   "status" : "success",
   "data" : {
      "resultType" : "vector",
      "result" : [
         {
            "metric" : {},
            "value": [ 1435781451.781, "2.5" ]
         }
      ]
   }
}`
	v, known, err := dr.ParsePromQuery([]byte(vector))
	require.NoError(t, err)
	assert.True(t, known)
	assert.Equal(t, 2.5, v)

	v, known, err = dr.ParsePromQuery([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	require.NoError(t, err)
	assert.False(t, known, "an empty vector is unknown")
	assert.Zero(t, v)

	_, known, err = dr.ParsePromQuery([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1435781451.781,"NaN"]}]}}`))
	require.NoError(t, err)
	assert.False(t, known, "NaN is unknown")

	v, known, err = dr.ParsePromQuery([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"7"]}}`))
	require.NoError(t, err)
	assert.True(t, known)
	assert.Equal(t, 7.0, v)

	_, _, err = dr.ParsePromQuery([]byte(`{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad_data")
	for _, bad := range []string{``, `not json`, `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1]}]}}`,
		`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1, 2]}]}}`} {
		_, _, err := dr.ParsePromQuery([]byte(bad))
		assert.Error(t, err, "%q", bad)
	}
	assert.Equal(t, `max(cnpg_pg_replication_lag{namespace="tars-postgres"})`, dr.LagQuery)
}

// TestDRLiveNames: Live looks where the program deploys.
func TestDRLiveNames(t *testing.T) {
	assert.Equal(t, monitoring.ReleaseName+"-prometheus", dr.PrometheusService)
	assert.Equal(t, monitoring.DefaultNamespace, dr.PrometheusNamespace)
	assert.Equal(t, postgres.DefaultNamespace, dr.PostgresNamespace)
	assert.Equal(t, postgres.DefaultDatabase, dr.PostgresDatabase)
	assert.Equal(t, postgres.PluginName, dr.BarmanCloudPlugin)
}

// TestDRLivePrometheusProxy: the lag and the last archival come from
// Prometheus through the API server's service proxy. kube-apiserver does
// not proxy to loopback endpoints, so a stub API server answers here: it
// checks the paths Live asks for and answers as Prometheus does.
func TestDRLivePrometheusProxy(t *testing.T) {
	const proxy = "/api/v1/namespaces/monitoring/services/http:kube-prometheus-stack-prometheus:9090/proxy/api/v1/query"
	east, west := postgres.ClusterName("us-east"), postgres.ClusterName("us-west")
	archived := time.Date(2026, 11, 30, 9, 0, 0, 500_000_000, time.UTC)
	clusterJSON := func(name, replica string) string {
		return fmt.Sprintf(`{"apiVersion":"postgresql.cnpg.io/v1","kind":"Cluster","metadata":{"name":%q,"namespace":"tars-postgres"},
"spec":{"instances":3,%s"plugins":[{"name":"barman-cloud.cloudnative-pg.io","isWALArchiver":true,"parameters":{"barmanObjectName":%q}}]},
"status":{"phase":"Cluster in healthy state","instances":3,"readyInstances":2,"currentPrimary":%q,"timelineID":1,
"conditions":[{"type":"ContinuousArchiving","status":"True","reason":"ContinuousArchivingSuccess","message":"Continuous archiving is working","lastTransitionTime":"2026-11-01T00:00:00Z"}]}}`,
			name, replica, name, name+"-2")
	}
	clusters := map[string]string{
		// us-west replicates from us-east.
		west: clusterJSON(west, fmt.Sprintf(`"replica":{"self":%q,"primary":%q,"source":%q},`, west, east, east)),
		east: clusterJSON(east, ""),
	}
	var mu sync.Mutex
	var seen []string
	empty := false
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path+"?"+r.URL.RawQuery)
		answerEmpty := empty
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		vector := func(v string) string {
			if answerEmpty {
				return `{"status":"success","data":{"resultType":"vector","result":[]}}`
			}
			return `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1764493200.1,"` + v + `"]}]}}`
		}
		const clustersPath = "/apis/postgresql.cnpg.io/v1/namespaces/tars-postgres/clusters/"
		if c, ok := clusters[strings.TrimPrefix(r.URL.Path, clustersPath)]; ok && strings.HasPrefix(r.URL.Path, clustersPath) {
			fmt.Fprint(w, c)
			return
		}
		switch r.URL.Path {
		case proxy:
			switch r.URL.Query().Get("query") {
			case dr.LagQuery:
				fmt.Fprint(w, vector("0.25"))
			case dr.LastArchivedQuery:
				fmt.Fprint(w, vector(fmt.Sprintf("%.1f", float64(archived.UnixMilli())/1000)))
			default:
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"unexpected query"}`)
			}
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"not found","reason":"NotFound","code":404}`)
		}
	}))
	defer stub.Close()
	live := dr.NewLive(liveOutputs(map[string]dr.Outputs{
		"us-west": {Region: "us-west", PostgresCluster: west, Kubeconfig: liveKubeconfig(stub.URL, "stub")},
		"us-east": {Region: "us-east", PostgresCluster: east, Kubeconfig: liveKubeconfig(stub.URL, "stub")},
	}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := live.Postgres(ctx, "us-west")
	require.NoError(t, err)
	assert.False(t, p.Primary)
	assert.Equal(t, east, p.Following)
	assert.Equal(t, 2, p.ReadyInstances)
	assert.False(t, p.Healthy(), "2 of 3 ready")
	assert.True(t, p.LagKnown)
	assert.Equal(t, 250*time.Millisecond, p.Lag)
	assert.Equal(t, archived, p.LastArchivedWALTime, "the archiver's time, newer than the condition's")
	mu.Lock()
	assert.Contains(t, strings.Join(seen, "\n"), proxy+"?query="+url.QueryEscape(dr.LagQuery))
	assert.Contains(t, strings.Join(seen, "\n"), "/apis/barmancloud.cnpg.io/v1/namespaces/tars-postgres/objectstores/"+west)
	mu.Unlock()

	// A primary has no replication lag (Reality's contract), whatever its
	// local standbys report.
	p, err = live.Postgres(ctx, "us-east")
	require.NoError(t, err)
	assert.True(t, p.Primary)
	assert.False(t, p.LagKnown)
	assert.Zero(t, p.Lag)
	assert.Equal(t, archived, p.LastArchivedWALTime)

	mu.Lock()
	empty = true
	mu.Unlock()
	p, err = live.Postgres(ctx, "us-west")
	require.NoError(t, err)
	assert.False(t, p.LagKnown, "no series: unknown")
	assert.Equal(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), p.LastArchivedWALTime, "the condition's time when Prometheus has none")
}

// --- SQL ----------------------------------------------------------------

func TestDRLiveMarkerSQL(t *testing.T) {
	for _, bad := range []string{"", "Drill", "drill_1", "drill 1", "x'; DROP TABLE tars_dr.markers; --", "drill-1\n", strings.Repeat("a", 65), "é"} {
		assert.Error(t, dr.ValidMarkerID(bad), "%q", bad)
		_, err := dr.WriteMarkerSQL(bad)
		assert.Error(t, err, "%q", bad)
		_, err = dr.ReadMarkerSQL(bad)
		assert.Error(t, err, "%q", bad)
		_, err = dr.DeleteMarkerSQL(bad)
		assert.Error(t, err, "%q", bad)
	}
	require.NoError(t, dr.ValidMarkerID(strings.Repeat("a", 64)))

	w, err := dr.WriteMarkerSQL("drill-2026-11-30")
	require.NoError(t, err)
	assert.Equal(t, "CREATE SCHEMA IF NOT EXISTS tars_dr; "+
		"CREATE TABLE IF NOT EXISTS tars_dr.markers (id text PRIMARY KEY, written_at timestamptz NOT NULL DEFAULT now()); "+
		"INSERT INTO tars_dr.markers (id) VALUES ('drill-2026-11-30') ON CONFLICT (id) DO NOTHING;", w)
	r, err := dr.ReadMarkerSQL("drill-2026-11-30")
	require.NoError(t, err)
	assert.Equal(t, "SELECT count(*) FROM tars_dr.markers WHERE id = 'drill-2026-11-30';", r)
	d, err := dr.DeleteMarkerSQL("drill-2026-11-30")
	require.NoError(t, err)
	assert.Equal(t, "DELETE FROM tars_dr.markers WHERE id = 'drill-2026-11-30';", d)
	assert.Equal(t, []string{"psql", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-d", "tars", "-Atc", r}, dr.PsqlCommand(r))

	// A bad id is refused before anything is reached.
	live := dr.NewLive(liveOutputs(map[string]dr.Outputs{"us-west": {Region: "us-west", PostgresCluster: "tars-pg-us-west",
		Kubeconfig: liveKubeconfig("https://127.0.0.1:1", "x")}}))
	err = live.WriteMarker(context.Background(), "us-west", "Bad Id")
	require.Error(t, err)
	assert.False(t, errors.Is(err, dr.ErrUnreachable))
	_, err = live.ReadMarker(context.Background(), "us-west", "Bad Id")
	require.Error(t, err)
	assert.False(t, errors.Is(err, dr.ErrUnreachable))
	err = live.DeleteMarker(context.Background(), "us-west", "")
	require.Error(t, err)
	assert.False(t, errors.Is(err, dr.ErrUnreachable))
}
