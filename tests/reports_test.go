package tests

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/components/versions"
	"gopkg.in/yaml.v3"
)

// The SLO reports (issue #18): seed 000's schedules as literals, the
// image the release workflow builds, URLs that reach rendered Services.

func reportArgs(cj map[string]any) map[string]string {
	ctr := asList(get(cj, "spec.jobTemplate.spec.template.spec.containers"))[0]
	out := map[string]string{}
	for _, a := range strs(asMap(ctr)["args"]) {
		k, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		out[k] = v
	}
	return out
}

// TestReportsRunOnTheSeedSchedules: daily 00:00 UTC, weekly Monday 09:00
// UTC, monthly on the 1st 09:00 UTC (with Kubecost); each reads the
// region's Thanos query-frontend and writes the region's bucket.
func TestReportsRunOnTheSeedSchedules(t *testing.T) {
	for _, stack := range Stacks {
		p := stackObjects(t, stack)
		aws := map[string]string{"us-east": "us-east-1", "us-west": "us-west-2"}[stack]
		for _, c := range []struct{ period, schedule string }{
			{"daily", "0 0 * * *"}, {"weekly", "0 9 * * 1"}, {"monthly", "0 9 1 * *"},
		} {
			cj := p.namedIn(t, "CronJob", "monitoring", "tars-report-"+c.period)
			assert.Equal(t, c.schedule, get(cj, "spec.schedule"), c.period)
			assert.Equal(t, "Etc/UTC", get(cj, "spec.timeZone"))
			assert.Equal(t, "Forbid", get(cj, "spec.concurrencyPolicy"))
			pod := asMap(get(cj, "spec.jobTemplate.spec.template.spec"))
			assert.Equal(t, "tars-report", pod["serviceAccountName"])
			ctr := asMap(asList(pod["containers"])[0])
			assert.Equal(t, "ghcr.io/tars-platform/tars-report:v0.1.0", ctr["image"])
			args := reportArgs(cj)
			assert.Equal(t, c.period, args["period"])
			assert.Equal(t, stack, args["region"])
			assert.Equal(t, "tars-reports-123456789012-"+aws, args["bucket"])
			assert.Equal(t, aws, args["aws-region"])
			urls := []string{args["prometheus"]}
			if c.period == "monthly" {
				urls = append(urls, args["kubecost"])
			} else {
				assert.NotContains(t, args, "kubecost", "cost analysis is the monthly report's")
			}
			// Every URL is a rendered Service's name, namespace and port.
			for _, raw := range urls {
				u, err := url.Parse(raw)
				require.NoError(t, err, raw)
				parts := strings.Split(u.Hostname(), ".")
				require.GreaterOrEqual(t, len(parts), 2, raw)
				svc := p.namedIn(t, "Service", parts[1], parts[0])
				assert.Contains(t, fmt.Sprint(get(svc, "spec.ports")), "port:"+u.Port(), "%s → %v", raw, get(svc, "spec.ports"))
			}
			// The webhook file is the mounted Secret's key.
			file := args["slack-webhook-file"]
			mount := asMap(asList(ctr["volumeMounts"])[0])
			assert.True(t, strings.HasPrefix(file, fmt.Sprint(mount["mountPath"])+"/"), file)
			sec := p.namedIn(t, "Secret", "monitoring", fmt.Sprint(get(asList(pod["volumes"])[0], "secret.secretName")))
			assert.Contains(t, asMap(sec["stringData"]), file[strings.LastIndex(file, "/")+1:])
		}
		g := renderStack(t, stack).graph
		assert.True(t, one(t, g, "kubernetes:core/v1:Secret", stack+"-reports-slack").IsSecret("stringData"), "the webhook stays a Pulumi secret")
		doc := policyJSON(t, one(t, g, "aws:iam/rolePolicy:RolePolicy", stack+"-reports"), "policy")
		for _, s := range statements(t, doc) {
			for _, a := range strs(s["Action"]) {
				assert.NotContains(t, []string{"s3:DeleteObject", "s3:GetObject", "s3:*"}, a, "the jobs only write reports")
			}
		}
	}
}

// TestReleaseWorkflowBuildsThePinnedImage: the image the CronJobs run is
// the repository the release workflow pushes tars-report to.
func TestReleaseWorkflowBuildsThePinnedImage(t *testing.T) {
	raw, err := os.ReadFile("../.github/workflows/release.yml")
	require.NoError(t, err)
	var wf struct {
		On struct {
			Push struct {
				Tags []string `yaml:"tags"`
			} `yaml:"push"`
		} `yaml:"on"`
		Jobs map[string]struct {
			Env   map[string]string `yaml:"env"`
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &wf))
	repo, tag, ok := strings.Cut(versions.TarsReport, ":v")
	require.True(t, ok, versions.TarsReport)
	found := false
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			if strings.Contains(s.Run, "ko build ./cmd/tars-report") {
				found = true
				assert.Equal(t, repo, j.Env["KO_DOCKER_REPO"])
			}
		}
	}
	assert.True(t, found, "the workflow builds cmd/tars-report with ko")
	assert.Contains(t, wf.On.Push.Tags, "v*", "tagging v%s builds the pinned tag", tag)
}
