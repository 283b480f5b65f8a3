package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"
)

// period is one report cadence of seed 000 "Automated Reporting".
type period struct {
	Name string
	// Window is the span the report covers, ending at --at.
	Window time.Duration
	// TrendStep is the bucket of the error-rate trend: hourly for the
	// daily report (one day has one daily bucket), daily otherwise.
	TrendStep time.Duration
	// Resolution is the subquery step of the resource summary (peaks and
	// averages of gauges): fine enough to see a peak, coarse enough that
	// a 30-day query stays cheap on Thanos.
	Resolution time.Duration
}

var periods = map[string]period{
	"daily":   {Name: "daily", Window: 24 * time.Hour, TrendStep: time.Hour, Resolution: 5 * time.Minute},
	"weekly":  {Name: "weekly", Window: 7 * 24 * time.Hour, TrendStep: 24 * time.Hour, Resolution: 15 * time.Minute},
	"monthly": {Name: "monthly", Window: 30 * 24 * time.Hour, TrendStep: 24 * time.Hour, Resolution: time.Hour},
}

func periodNames() []string {
	var names []string
	for n := range periods {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return periods[names[i]].Window < periods[names[j]].Window })
	return names
}

// config is the validated command line.
type config struct {
	Period     period
	Prometheus string
	Kubecost   string
	Region     string
	AWSRegion  string
	Bucket     string
	Prefix     string
	// SlackWebhookFile is the path of the mounted Secret; the URL itself
	// is read later and never logged.
	SlackWebhookFile string
	S3Endpoint       string
	EndpointLabel    string
	At               time.Time
	DryRun           bool
	Timeout          time.Duration
}

// envPrefix names the environment fallbacks: --slack-webhook-file falls
// back to TARS_REPORT_SLACK_WEBHOOK_FILE, and so on.
const envPrefix = "TARS_REPORT_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

var (
	regionRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	labelRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

const usageText = `tars-report builds the T.A.R.S. SLO report of one period from Thanos
(and Kubecost for the monthly report), stores it in S3 as Markdown and JSON
under <prefix>/<period>/<region>/<end date>.md|.json and posts a summary to
Slack. Every flag falls back to the environment variable TARS_REPORT_<FLAG>
(upper case, dashes as underscores), e.g. TARS_REPORT_PERIOD.

`

// parseConfig parses and validates args; every problem is reported, each
// naming its flag.
func parseConfig(args []string, getenv func(string) string, now time.Time, usage io.Writer) (config, error) {
	fs := flag.NewFlagSet("tars-report", flag.ContinueOnError)
	fs.SetOutput(usage)
	var (
		c        config
		periodS  string
		atS      string
		dryRunS  bool
		timeoutD time.Duration
	)
	fs.StringVar(&periodS, "period", "", "report period: "+strings.Join(periodNames(), ", ")+" (windows 24h, 7d, 30d)")
	fs.StringVar(&c.Prometheus, "prometheus", "", "Prometheus API base URL: the region's Thanos query-frontend, e.g. http://thanos-query-frontend.monitoring.svc.cluster.local:10902")
	fs.StringVar(&c.Kubecost, "kubecost", "", "Kubecost base URL serving /model/allocation (required for monthly), e.g. http://kubecost-frontend.kubecost.svc.cluster.local:9090")
	fs.StringVar(&c.Region, "region", "", "T.A.R.S. region the report covers (key segment and title), e.g. us-east")
	fs.StringVar(&c.AWSRegion, "aws-region", "", "AWS region of the bucket (default: the SDK's chain, i.e. AWS_REGION)")
	fs.StringVar(&c.Bucket, "bucket", "", "S3 bucket the report is stored in")
	fs.StringVar(&c.Prefix, "prefix", "slo-reports", "S3 key prefix")
	fs.StringVar(&c.SlackWebhookFile, "slack-webhook-file", "", "file holding the Slack incoming-webhook URL (a mounted Secret); the URL is never logged")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", "", "S3 endpoint override (path-style addressing), for S3-compatible stores and tests")
	fs.StringVar(&c.EndpointLabel, "endpoint-label", "handler", "label of http_request_duration_seconds naming the endpoint (the services' metric contract lists none: see the report's note)")
	fs.StringVar(&atS, "at", "", "report end time, RFC3339 (default: now, truncated to the minute)")
	fs.BoolVar(&dryRunS, "dry-run", false, "print the report and the Slack message; store and post nothing")
	fs.DurationVar(&timeoutD, "timeout", 10*time.Minute, "deadline of the whole run")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	var problems []error
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	// Environment fallbacks: a flag not given takes TARS_REPORT_<FLAG>.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	from := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		from[f.Name] = "--" + f.Name
		if set[f.Name] {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				problems = append(problems, fmt.Errorf("--%s (from %s): %w", f.Name, envName(f.Name), err))
			}
			from[f.Name] = "--" + f.Name + " (from " + envName(f.Name) + ")"
		}
	})
	bad := func(name, format string, a ...any) {
		problems = append(problems, fmt.Errorf("%s: %s", from[name], fmt.Sprintf(format, a...)))
	}

	p, ok := periods[periodS]
	switch {
	case periodS == "":
		bad("period", "is required (one of %s)", strings.Join(periodNames(), ", "))
	case !ok:
		bad("period", "%q is not one of %s", periodS, strings.Join(periodNames(), ", "))
	}
	c.Period = p
	c.DryRun = dryRunS
	c.Timeout = timeoutD
	if timeoutD <= 0 {
		bad("timeout", "must be positive, got %s", timeoutD)
	}

	if err := checkURL(c.Prometheus); err != nil {
		bad("prometheus", "%v", err)
	}
	c.Prometheus = strings.TrimRight(c.Prometheus, "/")
	switch {
	case c.Kubecost != "":
		if err := checkURL(c.Kubecost); err != nil {
			bad("kubecost", "%v", err)
		}
		c.Kubecost = strings.TrimRight(c.Kubecost, "/")
	case p.Name == "monthly":
		bad("kubecost", "is required for --period monthly (the cost analysis)")
	}
	if c.S3Endpoint != "" {
		if err := checkURL(c.S3Endpoint); err != nil {
			bad("s3-endpoint", "%v", err)
		}
	}
	if !regionRE.MatchString(c.Region) {
		bad("region", "%q is not a region name (lower-case letters, digits, dashes)", c.Region)
	}
	c.Prefix = strings.Trim(c.Prefix, "/")
	if strings.Contains(c.Prefix, "//") {
		bad("prefix", "%q has an empty path segment", c.Prefix)
	}
	if !labelRE.MatchString(c.EndpointLabel) || c.EndpointLabel == "le" {
		bad("endpoint-label", "%q is not a usable label name", c.EndpointLabel)
	}
	if !c.DryRun {
		if c.Bucket == "" {
			bad("bucket", "is required (or --dry-run)")
		}
		if c.SlackWebhookFile == "" {
			bad("slack-webhook-file", "is required (or --dry-run)")
		} else if _, err := os.Stat(c.SlackWebhookFile); err != nil {
			bad("slack-webhook-file", "%v", err)
		}
	}

	if atS == "" {
		c.At = now.UTC().Truncate(time.Minute)
	} else {
		at, err := time.Parse(time.RFC3339, atS)
		switch {
		case err != nil:
			bad("at", "%q is not an RFC3339 time (e.g. 2026-11-30T00:00:00Z)", atS)
		case at.After(now.Add(time.Minute)):
			bad("at", "%s is in the future", atS)
		default:
			c.At = at.UTC()
		}
	}
	if len(problems) > 0 {
		return config{}, errors.Join(problems...)
	}
	return c, nil
}

func checkURL(s string) error {
	if s == "" {
		return errors.New("is required")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}
