package stacks

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/check"
)

// checkFields reports every object key in v that the Go type t has no json
// field for, matching case-sensitively: encoding/json would silently map
// "nodegroups" onto NodeGroups, and a typo in stack config must not pass.
func checkFields(p *check.Problems, path string, v any, t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return // a type mismatch; json decoding reports it
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				p.Addf(path, "has unknown field %q%s", k, suggest(k, fields))
				continue
			}
			checkFields(p, path+"."+k, obj[k], ft)
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return
		}
		for i, x := range list {
			checkFields(p, fmt.Sprintf("%s[%d]", path, i), x, t.Elem())
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, x := range obj {
			checkFields(p, path+"."+k, x, t.Elem())
		}
	}
}

// jsonFields maps the json names of t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// suggest names the field a misspelt key probably meant.
func suggest(key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	return nearest(key, names)
}

// nearest names the known name a misspelt one most likely meant: the same
// name in another case, else the closest by edit distance if it is close
// (at most a third of the name's length), else nothing.
func nearest(key string, known []string) string {
	slices.Sort(known)
	for _, name := range known {
		if strings.EqualFold(name, key) {
			return fmt.Sprintf(" (did you mean %q?)", name)
		}
	}
	best, dist := "", 0
	for _, name := range known {
		if d := editDistance(strings.ToLower(key), strings.ToLower(name)); best == "" || d < dist {
			best, dist = name, d
		}
	}
	if best != "" && dist <= max(1, len(key)/3) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// ProjectKeys are the keys of the project's namespace (tars:) the program
// reads; anything else there is a mistake.
var ProjectKeys = []string{
	KeyTopology, KeyCluster, KeyAlerting, KeyRedis, KeyPostgres, KeyDNS, KeyGrafana,
	KeyPagerDutyCritical, KeyPagerDutyHigh, KeySlackWebhook, KeyDeadMansSwitch, KeySMTPPassword,
	KeyPostgresAppPassword, KeyPostgresReplicationPassword,
	KeyGrafanaAdminPassword, KeyGrafanaDBPassword, KeyGrafanaOAuthClientSecret, KeyCloudflareToken,
	KeyPagerDuty, KeyPagerDutyToken, KeyProtect,
}

// CheckConfigKeys reports every key of the stack's config in the tars:
// namespace that the program does not read, naming the nearest known key.
// Keys of other namespaces (aws:, pulumi:) belong to their providers.
func CheckConfigKeys(keys []string) error {
	var p check.Problems
	slices.Sort(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, "tars:") || slices.Contains(ProjectKeys, k) {
			continue
		}
		p.Addf(k, "is not a config key of this program%s", nearest(k, slices.Clone(ProjectKeys)))
	}
	return p.Err()
}

// runConfigKeys are the config keys `pulumi up` passes the program: the
// language host hands the whole config over in PULUMI_CONFIG (a JSON
// object). Under mocks it is unset and the harness checks the stack file's
// keys itself with CheckConfigKeys.
func runConfigKeys() ([]string, error) {
	raw := os.Getenv(pulumi.EnvConfig)
	if raw == "" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object: %w", pulumi.EnvConfig, err)
	}
	return slices.Collect(maps.Keys(m)), nil
}

// UnreadSecrets are the secret keys the program does not read with this
// config (stack config values by key): the hand-set PagerDuty routing keys
// when tars:pagerduty is enabled, its token when not, the Cloudflare token
// when tars:dns.cloudflare is off.
func UnreadSecrets(values map[string]any) []string {
	on := func(key, field string) bool {
		m, _ := values[key].(map[string]any)
		if field != "" {
			m, _ = m[field].(map[string]any)
		}
		v, _ := m["enabled"].(bool)
		return v
	}
	var out []string
	if on(KeyPagerDuty, "") {
		out = append(out, KeyPagerDutyCritical, KeyPagerDutyHigh)
	} else {
		out = append(out, KeyPagerDutyToken)
	}
	if !on(KeyDNS, "cloudflare") {
		out = append(out, KeyCloudflareToken)
	}
	return out
}
