// Package helmchart works with the pinned charts' archives offline, with
// the Helm SDK (v3.19, the Helm generation the Pulumi Kubernetes provider's
// helm.sh/v3 Release embeds): it finds an archive in the chart directory,
// pulls it from its repository, renders it exactly as a Release would
// install it, and reads what the rendered objects run. The chart tier
// (tests/) and `tarsctl charts pull` / `tarsctl images` use it; the
// program itself never does (the import-direction test keeps the Helm SDK
// out of the deployed binary).
package helmchart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

// DirEnv names the directory the archives are read from.
const DirEnv = "TARS_CHARTS_DIR"

// PullCommand is what fetches missing archives.
const PullCommand = "go run ./cmd/tarsctl charts pull"

// Ref is one pinned chart.
type Ref struct {
	Name, Version, Repository string
	// AppVersion without a leading "v".
	AppVersion string
}

// Archive is the archive's file name, as `helm pull` writes it.
func (r Ref) Archive() string { return r.Name + "-" + r.Version + ".tgz" }

// Dir is the chart directory: $TARS_CHARTS_DIR, or tars/charts under the
// user's cache directory.
func Dir() (string, error) {
	if d := os.Getenv(DirEnv); d != "" {
		return d, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("%s is not set and there is no user cache directory: %w", DirEnv, err)
	}
	return filepath.Join(cache, "tars", "charts"), nil
}

// MissingError is an archive that is not in the chart directory.
type MissingError struct {
	Archive, Dir string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("chart archive %s is not in %s (%s): run `%s` on a machine with internet, or set %s to a directory that holds it",
		e.Archive, e.Dir, DirEnv, PullCommand, DirEnv)
}

// Load reads the pinned archive from dir and checks that it is the chart
// the pin names: its Chart.yaml name, version and appVersion.
func Load(dir string, r Ref) (*chart.Chart, error) {
	path := filepath.Join(dir, r.Archive())
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, &MissingError{Archive: r.Archive(), Dir: dir}
	}
	ch, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := Verify(ch, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ch, nil
}

// Verify checks a loaded chart against its pin.
func Verify(ch *chart.Chart, r Ref) error {
	m := ch.Metadata
	var errs []error
	if m.Name != r.Name {
		errs = append(errs, fmt.Errorf("Chart.yaml name is %q, the pin says %q", m.Name, r.Name))
	}
	if m.Version != r.Version {
		errs = append(errs, fmt.Errorf("Chart.yaml version is %q, the pin says %q", m.Version, r.Version))
	}
	if r.AppVersion != "" && strings.TrimPrefix(m.AppVersion, "v") != r.AppVersion {
		errs = append(errs, fmt.Errorf("Chart.yaml appVersion is %q, the pin says %q", m.AppVersion, r.AppVersion))
	}
	return errors.Join(errs...)
}
