package tests

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/tars-platform/infra"

// TestImportDirection enforces main → stacks → components/* → internal/*:
// components never import stacks, tests or cmd; internal never imports
// components, stacks, tests or cmd; dr (tarsctl dr) and verify (tarsctl
// verify) import neither tests nor cmd, and nothing below them imports
// them; and the deployed program links neither the Helm
// SDK, the chart tier nor tarsctl's Kubernetes client (they are for
// tarsctl and the tests).
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/...").Output()
	require.NoError(t, err)
	forbidden := map[string][]string{
		module + "/components/": {module + "/stacks", module + "/tests", module + "/cmd", module + "/policy", module + "/dr", module + "/verify"},
		module + "/internal/":   {module + "/components", module + "/stacks", module + "/tests", module + "/cmd", module + "/dr", module + "/verify"},
		module + "/slo":         {module + "/components", module + "/stacks", module + "/tests", module + "/cmd", module + "/verify"},
		module + "/stacks":      {module + "/tests", module + "/cmd", module + "/dr", module + "/verify"},
		module + "/dr":          {module + "/tests", module + "/cmd", module + "/verify"},
		module + "/verify":      {module + "/tests", module + "/cmd"},
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := fields[0]
		for prefix, bad := range forbidden {
			if !strings.HasPrefix(pkg, prefix) {
				continue
			}
			checked++
			for _, imp := range fields[1:] {
				for _, b := range bad {
					assert.False(t, imp == b || strings.HasPrefix(imp, b+"/"), "%s imports %s", pkg, imp)
				}
			}
		}
	}
	assert.Greater(t, checked, 8, "packages checked")

	deps, err := exec.Command("go", "list", "-deps", module).Output()
	require.NoError(t, err)
	for _, d := range strings.Fields(string(deps)) {
		for _, bad := range []string{"helm.sh/", module + "/internal/helmchart", module + "/internal/kube", module + "/tests/", module + "/dr", module + "/verify"} {
			assert.False(t, strings.HasPrefix(d, bad), "the deployed program links %s", d)
		}
	}
}
