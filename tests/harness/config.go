package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// SecretPlaceholder is what a `secure:` config value becomes offline, where
// it cannot be decrypted. The key stays marked secret, so the program sees a
// Pulumi secret exactly as under `pulumi up`. A key whose name ends in "Url"
// gets an https URL on the reserved .invalid domain, as the program checks
// the form of URLs.
func SecretPlaceholder(key string) string {
	if strings.HasSuffix(key, "Url") {
		return "https://offline-secret-placeholder.invalid/" + key
	}
	return "offline-secret-placeholder:" + key
}

// StackConfig is a stack's effective config as the Pulumi CLI would hand it
// to the program: Pulumi.yaml defaults overlaid by Pulumi.<stack>.yaml.
// Values are plain YAML-decoded Go values (string, int, bool, float64,
// []any, map[string]any).
type StackConfig struct {
	Project string
	Stack   string
	Values  map[string]any
	// Secret keys (declared `secure:` in the stack file, or secret: true in
	// Pulumi.yaml).
	Secret map[string]bool
	// Placeholders are the declared secrets the stack file does not set.
	Placeholders []string
}

// projectFile is the subset of Pulumi.yaml the harness needs.
type projectFile struct {
	Name   string `yaml:"name"`
	Config map[string]struct {
		Type    string `yaml:"type"`
		Default any    `yaml:"default"`
		Secret  bool   `yaml:"secret"`
	} `yaml:"config"`
}

type stackFile struct {
	Config map[string]any `yaml:"config"`
}

// ProjectDir finds the directory holding Pulumi.yaml: $TARS_PROJECT_DIR, or
// the nearest one at or above the working directory (tests run in their
// package directory, tarsctl anywhere in the repo).
func ProjectDir() (string, error) {
	if d := os.Getenv("TARS_PROJECT_DIR"); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no Pulumi.yaml at or above the working directory; run from the repository or set TARS_PROJECT_DIR")
		}
		dir = parent
	}
}

// Stacks lists the stacks that have a Pulumi.<stack>.yaml in dir.
func Stacks(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range matches {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "Pulumi."), ".yaml"))
	}
	slices.Sort(out)
	return out, nil
}

// LoadStackConfig reads Pulumi.yaml and Pulumi.<stack>.yaml from dir.
func LoadStackConfig(dir, stack string) (*StackConfig, error) {
	var proj projectFile
	if err := readYAML(filepath.Join(dir, "Pulumi.yaml"), &proj); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "Pulumi."+stack+".yaml")
	if _, err := os.Stat(path); err != nil {
		known, _ := Stacks(dir)
		return nil, fmt.Errorf("unknown stack %q: no %s (stacks here: %s)", stack, filepath.Base(path), strings.Join(known, ", "))
	}
	var sf stackFile
	if err := readYAML(path, &sf); err != nil {
		return nil, err
	}
	cfg := &StackConfig{Project: proj.Name, Stack: stack, Values: map[string]any{}, Secret: map[string]bool{}}
	for key, decl := range proj.Config {
		key = qualify(proj.Name, key)
		if decl.Default != nil {
			cfg.Values[key] = normalize(decl.Default)
		}
		if decl.Secret {
			cfg.Secret[key] = true
		}
	}
	for key, v := range sf.Config {
		key = qualify(proj.Name, key)
		plain, secret := stripSecure(key, normalize(v))
		cfg.Values[key] = plain
		if secret {
			cfg.Secret[key] = true
		}
	}
	// A secret the project declares but the stack file does not hold is set
	// per deployment (`pulumi config set --secret`); offline it becomes a
	// marked placeholder so the plan still runs. `pulumi up` refuses a
	// missing one.
	for key := range cfg.Secret {
		if _, ok := cfg.Values[key]; !ok {
			cfg.Values[key] = SecretPlaceholder(key)
			cfg.Placeholders = append(cfg.Placeholders, key)
		}
	}
	slices.Sort(cfg.Placeholders)
	return cfg, nil
}

func readYAML(path string, out any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}

// qualify prefixes a bare key with the project namespace, as the CLI does.
func qualify(project, key string) string {
	if strings.Contains(key, ":") {
		return key
	}
	return project + ":" + key
}

// normalize turns YAML-decoded maps into map[string]any, recursively.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = normalize(x)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[fmt.Sprint(k)] = normalize(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = normalize(x)
		}
		return out
	}
	return v
}

// stripSecure replaces `{secure: <ciphertext>}` leaves with placeholders and
// reports whether any were found.
func stripSecure(key string, v any) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		if c, ok := t["secure"]; ok && len(t) == 1 {
			if _, isString := c.(string); isString {
				return SecretPlaceholder(key), true
			}
		}
		secret := false
		out := make(map[string]any, len(t))
		for k, x := range t {
			var s bool
			out[k], s = stripSecure(key+"."+k, x)
			secret = secret || s
		}
		return out, secret
	case []any:
		secret := false
		out := make([]any, len(t))
		for i, x := range t {
			var s bool
			out[i], s = stripSecure(fmt.Sprintf("%s[%d]", key, i), x)
			secret = secret || s
		}
		return out, secret
	}
	return v, false
}

// Clone deep-copies the config so a test can edit it.
func (c *StackConfig) Clone() *StackConfig {
	out := &StackConfig{Project: c.Project, Stack: c.Stack, Values: map[string]any{}, Secret: map[string]bool{}}
	for k, v := range c.Values {
		out.Values[k] = normalize(v)
	}
	for k, v := range c.Secret {
		out.Secret[k] = v
	}
	out.Placeholders = slices.Clone(c.Placeholders)
	return out
}

var pathPart = regexp.MustCompile(`^([^\[\]]*)((?:\[\d+\])*)$`)

var digits = regexp.MustCompile(`\d+`)

// Set assigns value at a path such as "tars:cluster.nodeGroups[1].maxSize".
// The first dot-separated element is the config key. Intermediate objects
// are created; list indexes must exist.
func (c *StackConfig) Set(path string, value any) error {
	return c.edit(path, func(parent any, last step) error { return last.set(parent, normalize(value)) })
}

// Delete removes the value at path (a whole key, or a field of an object).
func (c *StackConfig) Delete(path string) error {
	return c.edit(path, func(parent any, last step) error { return last.del(parent) })
}

type step struct {
	field string
	index int // -1 for a field step
}

func (s step) set(parent any, v any) error {
	if s.index >= 0 {
		l, ok := parent.([]any)
		if !ok || s.index >= len(l) {
			return fmt.Errorf("index [%d] out of range", s.index)
		}
		l[s.index] = v
		return nil
	}
	m, ok := parent.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: parent is not an object", s.field)
	}
	m[s.field] = v
	return nil
}

func (s step) del(parent any) error {
	m, ok := parent.(map[string]any)
	if !ok || s.index >= 0 {
		return fmt.Errorf("can only delete object fields")
	}
	delete(m, s.field)
	return nil
}

func (s step) get(parent any, create bool) (any, error) {
	if s.index >= 0 {
		l, ok := parent.([]any)
		if !ok || s.index >= len(l) {
			return nil, fmt.Errorf("index [%d] out of range", s.index)
		}
		return l[s.index], nil
	}
	m, ok := parent.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: parent is not an object", s.field)
	}
	v, ok := m[s.field]
	if !ok && create {
		v = map[string]any{}
		m[s.field] = v
	}
	return v, nil
}

func (c *StackConfig) edit(path string, apply func(parent any, last step) error) error {
	steps, err := parsePath(path)
	if err != nil {
		return err
	}
	root := any(c.Values)
	cur := root
	for _, s := range steps[:len(steps)-1] {
		if cur, err = s.get(cur, true); err != nil {
			return fmt.Errorf("config path %s: %w", path, err)
		}
	}
	if err := apply(cur, steps[len(steps)-1]); err != nil {
		return fmt.Errorf("config path %s: %w", path, err)
	}
	return nil
}

// parsePath splits "tars:cluster.nodeGroups[1].maxSize"; the key keeps its colon.
func parsePath(path string) ([]step, error) {
	var steps []step
	for _, part := range strings.Split(path, ".") {
		m := pathPart.FindStringSubmatch(part)
		if m == nil || m[1] == "" {
			return nil, fmt.Errorf("config path %q: bad element %q", path, part)
		}
		steps = append(steps, step{field: m[1], index: -1})
		for _, idx := range digits.FindAllString(m[2], -1) {
			i, _ := strconv.Atoi(idx)
			steps = append(steps, step{index: i})
		}
	}
	return steps, nil
}

// runtimeConfig renders the config as the engine passes it to a Go program:
// every value a string, objects and lists as JSON.
func (c *StackConfig) runtimeConfig() (map[string]string, []string, error) {
	out := make(map[string]string, len(c.Values))
	for k, v := range c.Values {
		switch t := v.(type) {
		case string:
			out[k] = t
		case map[string]any, []any:
			b, err := json.Marshal(t)
			if err != nil {
				return nil, nil, fmt.Errorf("config %s: %w", k, err)
			}
			out[k] = string(b)
		default:
			out[k] = fmt.Sprint(t)
		}
	}
	var secrets []string
	for k, s := range c.Secret {
		if s {
			secrets = append(secrets, k)
		}
	}
	slices.Sort(secrets)
	return out, secrets, nil
}
