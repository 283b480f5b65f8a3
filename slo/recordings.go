package slo

import (
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
)

// Recording rules that pre-aggregate what the Evaluation dashboard reads
// (seed 000, dashboard 2: "Prometheus recording rules for pre-aggregated
// metrics", load time < 3 s).
const (
	RecAgentReward      = "tars:agent_reward:mean5m"
	RecEpisodeDuration  = "tars:training_episode_duration_seconds:p95_5m"
	RecNashConvergence  = "tars:nash_equilibrium_distance:avg5m"
	RecHPOTrials        = "tars:hpo_trials:rate5m"
	RecModelScore       = "tars:model_evaluation_score:max5m"
	RecordingRulesGroup = "tars-dashboard-recordings"
)

// DashboardRecordings is the recording-rule group behind the Evaluation dashboard.
func DashboardRecordings() rulefmt.RuleGroup {
	rec := func(name, expr string) rulefmt.Rule { return rulefmt.Rule{Record: name, Expr: expr} }
	return rulefmt.RuleGroup{Name: RecordingRulesGroup, Interval: model.Duration(EvaluationInterval), Rules: []rulefmt.Rule{
		rec(RecAgentReward, `sum by (agent) (rate(tars_agent_reward_sum[5m])) / (sum by (agent) (rate(tars_agent_reward_count[5m])) > 0)`),
		rec(RecEpisodeDuration, `histogram_quantile(0.95, sum by (le, agent) (rate(tars_training_episode_duration_seconds_bucket[5m])))`),
		rec(RecNashConvergence, `avg by (game) (avg_over_time(tars_nash_equilibrium_distance[5m]))`),
		rec(RecHPOTrials, `sum by (status) (rate(tars_hpo_trials_total[5m]))`),
		rec(RecModelScore, `max by (model) (max_over_time(tars_model_evaluation_score[5m]))`),
	}}
}
