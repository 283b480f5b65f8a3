package helmchart

import (
	"fmt"
	"os"
	"path/filepath"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli"
)

// PullResult says what Pull did with one chart.
type PullResult struct {
	Ref  Ref
	Path string
	// Present is true when a valid archive was already there.
	Present bool
}

// Pull downloads the pinned archive of r into dir with Helm's own pull
// (`helm pull <chart> --repo <repository> --version <version>`), from
// repository when it is not empty (an internal mirror serving the same
// charts), else from the chart's own repository. An archive already in dir
// that loads and matches the pin is kept. The downloaded archive is
// checked against the pin before it is kept.
func Pull(r Ref, dir, repository string) (PullResult, error) {
	res := PullResult{Ref: r, Path: filepath.Join(dir, r.Archive())}
	if ch, err := loader.Load(res.Path); err == nil && Verify(ch, r) == nil {
		res.Present = true
		return res, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	// Helm's repository cache and config go to a scratch directory: the
	// pull must not read or change the user's own `helm repo` setup.
	scratch, err := os.MkdirTemp("", "tars-charts-pull-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(scratch)
	settings := cli.New()
	settings.RepositoryCache = filepath.Join(scratch, "cache")
	settings.RepositoryConfig = filepath.Join(scratch, "repositories.yaml")
	p := action.NewPullWithOpts(action.WithConfig(&action.Configuration{}))
	p.Settings = settings
	p.RepoURL = r.Repository
	if repository != "" {
		p.RepoURL = repository
	}
	p.Version = r.Version
	p.DestDir = scratch
	if _, err := p.Run(r.Name); err != nil {
		return res, fmt.Errorf("pull %s %s from %s: %w", r.Name, r.Version, p.RepoURL, err)
	}
	got := filepath.Join(scratch, r.Archive())
	ch, err := loader.Load(got)
	if err != nil {
		return res, fmt.Errorf("pull %s %s from %s: %w", r.Name, r.Version, p.RepoURL, err)
	}
	if err := Verify(ch, r); err != nil {
		return res, fmt.Errorf("pull %s %s from %s: %w", r.Name, r.Version, p.RepoURL, err)
	}
	return res, install(got, res.Path)
}

// install copies src to dst through a temporary file in dst's directory,
// so a reader never sees half an archive.
func install(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}
