// Command tars-report is the SLO report program the report CronJobs run
// (seed 000 "Automated Reporting": daily at 00:00 UTC, weekly on Mondays
// at 09:00 UTC, monthly on the 1st at 09:00 UTC).
//
//	tars-report --period daily|weekly|monthly --prometheus URL --region NAME \
//	  --bucket BUCKET [--prefix slo-reports] --slack-webhook-file FILE \
//	  [--kubecost URL] [--at RFC3339] [--dry-run]
//
// It evaluates every ratio SLO of the catalog (package slo) over the
// period's window on the region's Thanos query-frontend, adds the alert
// frequency, the slowest endpoints, the 5xx trend, the resource summary
// and (monthly) Kubecost's cost by namespace, stores the report as
// Markdown and JSON in S3 and posts a summary to Slack.
//
// Exit status: 0 done (a section that failed is reported inside the
// report and the Slack message), 1 run failed (SLO queries, S3, Slack),
// 2 bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr, time.Now()))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, now time.Time) int {
	c, err := parseConfig(args, getenv, now, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "tars-report: %v\n", err)
		}
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	if err := execute(ctx, c, log, stdout, now); err != nil {
		log.Error("report failed", "period", c.Period.Name, "region", c.Region, "err", err)
		return 1
	}
	return 0
}

func execute(ctx context.Context, c config, log *slog.Logger, stdout io.Writer, now time.Time) error {
	// Secrets and the bucket client first: a broken mount fails before
	// minutes of queries.
	var (
		hook webhook
		st   ObjectStore
		err  error
	)
	if !c.DryRun {
		if hook, err = readWebhook(c.SlackWebhookFile); err != nil {
			return err
		}
		if st, err = newS3Store(ctx, c.AWSRegion, c.S3Endpoint); err != nil {
			return err
		}
	}
	q, err := newPromQuerier(c.Prometheus, log)
	if err != nil {
		return err
	}
	var costs CostSource
	if c.Kubecost != "" {
		costs = kubecostClient{base: c.Kubecost, http: &http.Client{Timeout: 2 * time.Minute}}
	}
	log.Info("building report", "period", c.Period.Name, "region", c.Region,
		"start", c.At.Add(-c.Period.Window).Format(time.RFC3339), "end", c.At.Format(time.RFC3339), "prometheus", c.Prometheus)
	began := time.Now()
	r, err := buildReport(ctx, c, q, costs, now)
	if err != nil {
		return err
	}
	for _, w := range q.Warned {
		r.Warnings = append(r.Warnings, "query warning: "+w)
	}
	for _, w := range r.Warnings {
		log.Warn("report incomplete", "warning", w)
	}
	log.Info("report built", "took", time.Since(began).Round(time.Millisecond).String())

	if c.DryRun {
		fmt.Fprint(stdout, r.Markdown())
		fmt.Fprintf(stdout, "\n---\nSlack message (not posted):\n%s\n", r.SlackText())
		log.Info("dry run: nothing stored or posted",
			"markdown_key", reportKey(c.Prefix, r.Period, r.Region, r.End, "md"),
			"json_key", reportKey(c.Prefix, r.Period, r.Region, r.End, "json"))
		return nil
	}
	if err := store(ctx, st, c, r); err != nil {
		return err
	}
	log.Info("report stored", "bucket", c.Bucket, "markdown_key", r.Location.Markdown, "json_key", r.Location.JSON)
	if err := newSlackNotifier(hook).Notify(ctx, r.SlackText()); err != nil {
		return err
	}
	log.Info("slack summary posted", "webhook_file", c.SlackWebhookFile)
	return nil
}
