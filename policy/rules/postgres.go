package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/tars-platform/infra/slo"
)

// The Postgres rules (seed 003 "PostgreSQL WAL Replication"): WAL archived
// through the Barman Cloud plugin to an object store that keeps 30 days,
// a base backup every day, and the replication-lag alert at the 5 s target.
// The bucket behind the store is checked by s3-bucket-baseline.
const (
	typeCNPGBackupSched = "kubernetes:postgresql.cnpg.io/v1:ScheduledBackup"
	barmanPlugin        = "barman-cloud.cloudnative-pg.io"
	replicationLagSerie = "cnpg_pg_replication_lag"
)

// dailyCron is CloudNativePG's six-field schedule (seconds first) firing
// once a day: fixed second, minute and hour, every day of every month.
var dailyCron = regexp.MustCompile(`^\d{1,2} \d{1,2} \d{1,2} \* \* \*$`)

// barmanRetentionRE is the plugin's retention policy ("30d", "4w", "1m").
var barmanRetentionRE = regexp.MustCompile(`^([1-9][0-9]*)([dwm])$`)

func postgresPolicies() []policyx.Policy {
	mandatory := policyx.EnforcementLevelMandatory
	return []policyx.Policy{
		stackPolicy("postgres-wal-archiving-and-backups",
			"Every CloudNativePG cluster archives WAL through the Barman Cloud plugin to an object store of the stack that keeps at least 30 days, and has a daily plugin backup.",
			mandatory, postgresBackups),
		stackPolicy("postgres-replication-lag-alert",
			"A stack with a CloudNativePG cluster alerts on cnpg_pg_replication_lag at a threshold no higher than the 5 s replication-lag target.",
			mandatory, replicationLagAlert),
	}
}

// objKey names a namespaced object.
func objKey(r policyx.AnalyzerResource) string {
	ns, _ := str(r.Properties, "metadata.namespace")
	name, _ := str(r.Properties, "metadata.name")
	return ns + "/" + name
}

func postgresBackups(rs []policyx.AnalyzerResource) []finding {
	stores := map[string]policyx.AnalyzerResource{}
	backups := map[string][]policyx.AnalyzerResource{} // by namespace/cluster
	for _, r := range rs {
		switch r.Type {
		case typeBarmanObjStore:
			stores[objKey(r)] = r
		case typeCNPGBackupSched:
			ns, _ := str(r.Properties, "metadata.namespace")
			cl, _ := str(r.Properties, "spec.cluster.name")
			backups[ns+"/"+cl] = append(backups[ns+"/"+cl], r)
		}
	}
	want := slo.BackupRetention
	var out []finding
	for _, r := range rs {
		if r.Type != typeCNPGCluster {
			continue
		}
		ns, _ := str(r.Properties, "metadata.namespace")
		name, _ := str(r.Properties, "metadata.name")
		store := ""
		for _, p := range mapList(r.Properties, "spec.plugins") {
			pn, _ := str(p, "name")
			archiver, _ := boolean(p, "isWALArchiver")
			if pn == barmanPlugin && archiver {
				store, _ = str(p, "parameters.barmanObjectName")
			}
		}
		switch s, ok := stores[ns+"/"+store]; {
		case store == "":
			out = append(out, finding{r.URN, fmt.Sprintf("cluster %s: WAL archiving is off: add spec.plugins {name: %s, isWALArchiver: true, parameters.barmanObjectName}", name, barmanPlugin)})
		case !ok:
			out = append(out, finding{r.URN, fmt.Sprintf("cluster %s archives to ObjectStore %s/%s, which the stack does not define", name, ns, store)})
		default:
			got, _ := str(s.Properties, "spec.retentionPolicy")
			if d, ok := barmanRetention(got); !ok || d < want {
				out = append(out, finding{s.URN, fmt.Sprintf("ObjectStore %s (the archive of cluster %s): spec.retentionPolicy is %q, want at least %dd", store, name, got, int(want.Hours()/24))})
			}
		}
		daily := false
		for _, b := range backups[ns+"/"+name] {
			sched, _ := str(b.Properties, "spec.schedule")
			method, _ := str(b.Properties, "spec.method")
			plugin, _ := str(b.Properties, "spec.pluginConfiguration.name")
			suspended, _ := boolean(b.Properties, "spec.suspend")
			if dailyCron.MatchString(sched) && method == "plugin" && plugin == barmanPlugin && !suspended {
				daily = true
			}
		}
		if !daily {
			out = append(out, finding{r.URN, fmt.Sprintf("cluster %s has no daily backup: add a ScheduledBackup with a six-field daily schedule (\"0 0 2 * * *\"), method plugin, plugin %s", name, barmanPlugin)})
		}
	}
	return out
}

// barmanRetention reads "30d", "4w", "1m" (the plugin's retention policy).
func barmanRetention(s string) (time.Duration, bool) {
	m := barmanRetentionRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, false
	}
	day := 24 * time.Hour
	return time.Duration(n) * map[string]time.Duration{"d": day, "w": 7 * day, "m": 30 * day}[m[2]], true
}

func replicationLagAlert(rs []policyx.AnalyzerResource) []finding {
	var clusters []policyx.AnalyzerResource
	for _, r := range rs {
		if r.Type == typeCNPGCluster {
			clusters = append(clusters, r)
		}
	}
	if len(clusters) == 0 {
		return nil
	}
	target := slo.ReplicationLagTarget.Seconds()
	var above []string
	for _, r := range rs {
		if r.Type != typePrometheusRule {
			continue
		}
		for _, g := range mapList(r.Properties, "spec.groups") {
			for _, rule := range mapList(g, "rules") {
				alert, _ := str(rule, "alert")
				expr, _ := str(rule, "expr")
				threshold, ok := lagThreshold(expr)
				switch {
				case alert == "" || !ok:
				case threshold <= target:
					return nil
				default:
					// An escalation step above the target is fine beside
					// an alert at the target, not instead of it.
					above = append(above, fmt.Sprintf("%s at %g s", alert, threshold))
				}
			}
		}
	}
	msg := fmt.Sprintf("no alert fires on %s at or below the %g s replication-lag target", replicationLagSerie, target)
	if len(above) > 0 {
		msg += fmt.Sprintf(" (only %s)", strings.Join(above, ", "))
	}
	return []finding{{clusters[0].URN, msg}}
}

// lagThreshold finds `<expression over cnpg_pg_replication_lag> > N` (or
// >=) in a PromQL expression and returns N.
func lagThreshold(expr string) (float64, bool) {
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return 0, false
	}
	var threshold float64
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		b, ok := n.(*parser.BinaryExpr)
		if !ok || (b.Op != parser.GTR && b.Op != parser.GTE) {
			return nil
		}
		num, ok := b.RHS.(*parser.NumberLiteral)
		if !ok || !selects(b.LHS, replicationLagSerie) {
			return nil
		}
		threshold, found = num.Val, true
		return nil
	})
	return threshold, found
}

// selects reports whether an expression reads the metric.
func selects(e parser.Node, metric string) bool {
	hit := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && vs.Name == metric {
			hit = true
		}
		return nil
	})
	return hit
}
