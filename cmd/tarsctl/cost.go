package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tars-platform/infra/internal/costmodel"
	"github.com/tars-platform/infra/internal/helmchart"
	"github.com/tars-platform/infra/slo"
	"github.com/tars-platform/infra/tests/charttier"
	"github.com/tars-platform/infra/tests/harness"
)

// daysPerMonth turns a monthly cost into a daily one (365 / 12).
const daysPerMonth = 365.0 / 12

// cost prints the monthly cost of each stack's planned graph, then the
// regions together against the seed's budgets.
func cost(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stacks := fs.String("stack", "", "stack name(s), comma-separated (a Pulumi.<stack>.yaml must exist for each)")
	dir := fs.String("charts-dir", "", "chart archive directory (default $"+helmchart.DirEnv+" or <user cache>/tars/charts)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *stacks == "" {
		return usageError{"cost: --stack is required"}
	}
	d, err := chartsDir(*dir)
	if err != nil {
		return err
	}
	t := costmodel.AWS
	fmt.Fprintf(stdout, "Prices: %s (read %s). Assumed: %g GB per S3 bucket, %g capacity unit per load balancer, %g GB through each NAT gateway, %g GB logged per log group and %g GB across each peering per month. Not included: internet egress, DNS queries, requests.\n\n",
		t.Source, t.Date, t.Assumptions.BucketGB, t.Assumptions.LCUsPerLoadBalancer, t.Assumptions.NATGBPerGateway, t.Assumptions.LogsGBPerGroup, t.Assumptions.InterRegionGB)
	var min, max float64
	names := strings.Split(*stacks, ",")
	for _, stack := range names {
		g, err := harness.Run(strings.TrimSpace(stack))
		if err != nil {
			return err
		}
		e, _, err := charttier.Cost(context.Background(), g, d, t)
		if err != nil {
			return fmt.Errorf("cost: %w", err)
		}
		fmt.Fprintf(stdout, "Stack %s (%s), USD per month:\n", g.Stack, e.AwsRegion)
		if err := e.Write(stdout); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		min += e.Min
		max += e.Max
	}
	fmt.Fprintf(stdout, "%s: $%.2f to $%.2f per month ($%.2f to $%.2f per day)\n", strings.Join(names, " + "), min, max, min/daysPerMonth, max/daysPerMonth)
	fmt.Fprintln(stdout, budgetLine("monthly", slo.MonthlyBudgetUSD, min))
	fmt.Fprintln(stdout, budgetLine("daily", slo.DailyBudgetUSD, min/daysPerMonth))
	return nil
}

// budgetLine compares the minimum cost with a budget.
func budgetLine(period string, budget, minimum float64) string {
	if minimum > budget {
		return fmt.Sprintf("over the %s budget of $%g: the minimum alone is $%.2f (%.0f%% of it)", period, budget, minimum, 100*minimum/budget)
	}
	return fmt.Sprintf("within the %s budget of $%g at the minimum ($%.2f, %.0f%% of it)", period, budget, minimum, 100*minimum/budget)
}
