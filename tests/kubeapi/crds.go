package kubeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/tars-platform/infra/components/versions"
	"gopkg.in/yaml.v3"
)

// CRDSource says where the CRDs of a pinned chart's operator live: in the
// operator's own Go module, at the chart's appVersion. Witness is a file of
// the module that declares the module's release and the pattern that reads
// it, so a test can prove the module fetched is the release the chart runs.
type CRDSource struct {
	Chart  versions.Chart
	Module string // Go module path
	// Version is the module version holding the CRDs, typed here on its
	// own: a test compares it with the chart archive's appVersion, the
	// release the module declares and the operator image the chart runs.
	Version string
	// Image is the operator image repository the chart renders.
	Image   string
	Files   []string // CRD files or globs, relative to the module root
	Witness string   // file that states the release
	Pattern string   // regexp with one group: the release in Witness
}

// ModuleVersion is the module version that holds the chart's CRDs.
func (c CRDSource) ModuleVersion() string { return c.Version }

// CRDSources is the one table from chart to operator module.
var CRDSources = []CRDSource{
	{
		Chart: versions.KubePrometheusStack, Module: "github.com/prometheus-operator/prometheus-operator",
		Version: "v0.93.1", Image: "quay.io/prometheus-operator/prometheus-operator",
		Files:   []string{"example/prometheus-operator-crd/monitoring.coreos.com_*.yaml"},
		Witness: "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
		Pattern: `operator\.prometheus\.io/version: (\S+)`,
	},
	{
		Chart: versions.CloudNativePG, Module: "github.com/cloudnative-pg/cloudnative-pg",
		Version: "v1.30.0", Image: "ghcr.io/cloudnative-pg/cloudnative-pg",
		Files:   []string{"config/crd/bases/postgresql.cnpg.io_*.yaml"},
		Witness: "pkg/versions/versions.go", Pattern: `Version = "([^"]+)"`,
	},
	{
		Chart: versions.PluginBarmanCloud, Module: "github.com/cloudnative-pg/plugin-barman-cloud",
		Version: "v0.13.0", Image: "ghcr.io/cloudnative-pg/plugin-barman-cloud",
		Files:   []string{"config/crd/bases/barmancloud.cnpg.io_*.yaml"},
		Witness: "internal/cnpgi/metadata/constants.go", Pattern: `Version:\s+"([^"]+)"`,
	},
	{
		Chart: versions.VerticalPodAutoscaler, Module: "k8s.io/autoscaler/vertical-pod-autoscaler",
		Version: "v1.7.1", Image: "registry.k8s.io/autoscaling/vpa-recommender",
		Files:   []string{"deploy/vpa-v1-crd-gen.yaml"},
		Witness: "common/version.go", Pattern: `versionCore = "([^"]+)"`,
	},
}

// ModuleDir downloads (or finds in the module cache) the source's module
// and returns its directory, with `go mod download -json`.
func (c CRDSource) ModuleDir() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", c.Module+"@"+c.ModuleVersion())
	cmd.Dir = os.TempDir() // outside any module: leaves the project's go.mod alone
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	_ = json.Unmarshal(out, &info) // on failure the Error field or err says why
	if err != nil || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %v %s", c.Module, c.ModuleVersion(), err, info.Error)
	}
	return info.Dir, nil
}

// DeclaredVersion reads the release the module itself declares.
func (c CRDSource) DeclaredVersion() (string, error) {
	dir, err := c.ModuleDir()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(dir, c.Witness))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(c.Pattern).FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s: no %q in %s", c.Module, c.Pattern, c.Witness)
	}
	return strings.TrimPrefix(string(m[1]), "v"), nil
}

// CRDs returns the CRD documents of the source.
func (c CRDSource) CRDs() ([]map[string]any, error) {
	dir, err := c.ModuleDir()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, glob := range c.Files {
		paths, err := filepath.Glob(filepath.Join(dir, glob))
		if err != nil || len(paths) == 0 {
			return nil, fmt.Errorf("%s@%s: no CRDs at %s", c.Module, c.ModuleVersion(), glob)
		}
		for _, p := range paths {
			docs, err := readYAMLDocs(p)
			if err != nil {
				return nil, err
			}
			for _, d := range docs {
				if d["kind"] == "CustomResourceDefinition" {
					out = append(out, d)
				}
			}
		}
	}
	return out, nil
}

func readYAMLDocs(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		if doc != nil {
			out = append(out, doc)
		}
	}
}

// InstallCRDs applies every source's CRDs for real and waits until they
// are established; it returns how many it installed.
func (s *Server) InstallCRDs(ctx context.Context) (int, error) {
	var names []string
	for _, src := range CRDSources {
		crds, err := src.CRDs()
		if err != nil {
			return 0, err
		}
		for _, crd := range crds {
			if err := s.Apply(ctx, crd, false); err != nil {
				return 0, fmt.Errorf("install CRD from %s: %w", src.Module, err)
			}
			names = append(names, crd["metadata"].(map[string]any)["name"].(string))
		}
	}
	return len(names), s.WaitEstablished(ctx, names, 60*time.Second)
}
