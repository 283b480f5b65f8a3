// Package kubeapi runs a real etcd and kube-apiserver on loopback and checks
// Kubernetes objects against them with server-side dry-run apply: the
// conformance tier. The servers are built from source (tools/kubeserver) at
// the versions components/versions pins, cached by version in the user
// cache directory so that only the first run builds them.
package kubeapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tars-platform/infra/components/versions"
)

// SkipEnv, set to 1, skips the conformance tier (documented in the README).
const SkipEnv = "TARS_SKIP_CONFORMANCE"

// binary is one server the tiers run and how it is built: the package pkg
// of the tool module under the repository (module), or of an upstream
// module at version (upstream).
type binary struct {
	name, version string
	module, pkg   string
	// dir is a subdirectory of the binary's cache directory it goes in
	// (the Automation API finds the CLI at <root>/bin/pulumi).
	dir string
	// ldflags are added to -s -w.
	ldflags         string
	upstream        string
	upstreamReplace []string // submodules the upstream go.mod replaces with its own directories
}

// binaries are the servers, each built once per version into the cache.
var binaries = []binary{
	{name: "etcd", version: versions.Etcd, module: "tools/kubeserver/etcd", pkg: "."},
	{name: "kube-apiserver", version: versions.KubeAPIServer, module: "tools/kubeserver/apiserver", pkg: "."},
	{name: "kube-scheduler", version: versions.KubeAPIServer, module: "tools/kubeserver/apiserver", pkg: "./scheduler"},
	{name: "kube-controller-manager", version: versions.KubeAPIServer, module: "tools/kubeserver/apiserver", pkg: "./controllermanager"},
	{
		// The engine tier's Pulumi CLI, with its version stamped as the
		// release build does (the Automation API reads it).
		name: "pulumi", version: versions.PulumiCLI, module: "tools/pulumicli", pkg: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi", dir: "bin",
		ldflags: "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=" + versions.PulumiCLI,
	},
	{
		// The operator kube-prometheus-stack runs (its appVersion): the
		// scheduling tier's Prometheus and Alertmanager pods are its own
		// StatefulSets.
		name: "prometheus-operator", version: "v" + versions.KubePrometheusStack.AppVersion, pkg: "./cmd/operator",
		upstream: "github.com/prometheus-operator/prometheus-operator",
		// Its go.mod points these at its own directories, which the module
		// zip leaves out; the same versions are published as modules.
		upstreamReplace: []string{"pkg/apis/monitoring", "pkg/client"},
	},
}

// EnsureBinaries returns the paths of the servers (etcd, kube-apiserver,
// kube-scheduler, kube-controller-manager, prometheus-operator), building
// any that the cache lacks with `go build` (tool modules under repoRoot,
// upstream modules from the module proxy).
func EnsureBinaries(repoRoot string) (map[string]string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("user cache dir: %w", err)
	}
	out := map[string]string{}
	for _, b := range binaries {
		path := filepath.Join(cache, "tars-kubeserver", b.name+"-"+b.version, b.dir, b.name)
		if _, err := os.Stat(path); err != nil {
			if err := b.build(repoRoot, path); err != nil {
				return nil, fmt.Errorf("build %s %s: %w", b.name, b.version, err)
			}
		}
		out[b.name] = path
	}
	return out, nil
}

func (b binary) build(repoRoot, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	dir := filepath.Join(repoRoot, b.module)
	env := append(os.Environ(), "CGO_ENABLED=0")
	if b.upstream != "" {
		src, err := upstreamSource(b, filepath.Dir(out))
		if err != nil {
			return err
		}
		defer os.RemoveAll(src) //nolint:errcheck // a scratch copy
		dir = src
		env = append(env, "GOFLAGS=-mod=mod -buildvcs=false")
	}
	tmp := out + ".tmp"
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w "+b.ldflags, "-o", tmp, b.pkg)
	cmd.Dir = dir
	cmd.Env = env
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w\n%s", err, msg)
	}
	return os.Rename(tmp, out) // atomic: a killed build never leaves a half binary
}

// upstreamSource copies the upstream module at its version from the module
// cache (downloading it) into a scratch directory under parent, with its
// replaced submodules required at the same version instead.
func upstreamSource(b binary, parent string) (string, error) {
	mod := b.upstream + "@" + b.version
	dl := exec.Command("go", "mod", "download", "-json", mod)
	raw, err := dl.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", mod, err)
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(raw, &info); err != nil || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s: no directory in %s", mod, raw)
	}
	src, err := os.MkdirTemp(parent, "src-")
	if err != nil {
		return "", err
	}
	if err := os.CopyFS(src, os.DirFS(info.Dir)); err != nil {
		return "", fmt.Errorf("copy %s: %w", mod, err)
	}
	// The module cache is read-only and CopyFS keeps the modes.
	if err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	}); err != nil {
		return "", err
	}
	args := []string{"mod", "edit"}
	for _, sub := range b.upstreamReplace {
		args = append(args, "-dropreplace="+b.upstream+"/"+sub, "-require="+b.upstream+"/"+sub+"@"+b.version)
	}
	edit := exec.Command("go", args...)
	edit.Dir = src
	if msg, err := edit.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go mod edit: %w\n%s", err, msg)
	}
	return src, nil
}

// Server is a running etcd + kube-apiserver pair.
type Server struct {
	URL   string // https://127.0.0.1:<port>
	Token string // bearer token of a system:masters user
	HTTP  *http.Client

	dir   string
	procs []*exec.Cmd
	logs  []*lockedBuffer
}

// Start launches etcd and kube-apiserver on free loopback ports with a
// temporary data directory, service-account keys and a static admin token,
// and waits until /readyz answers ok (at most timeout). A port taken
// between FreePorts choosing it and a server binding it (parallel tests'
// connections use the same ephemeral range) is retried on new ports, at
// most three times in all.
func Start(bins map[string]string, timeout time.Duration) (*Server, error) {
	for attempt := 1; ; attempt++ {
		dir, err := os.MkdirTemp("", "tars-kubeapi-")
		if err != nil {
			return nil, err
		}
		s := &Server{dir: dir}
		err = s.start(bins, timeout)
		if err == nil {
			return s, nil
		}
		logs := s.Logs()
		s.Stop()
		if errors.Is(err, errPortTaken) && attempt < 3 {
			continue
		}
		return nil, fmt.Errorf("%w\n--- server logs (tail) ---\n%s", err, tail(logs, 4000))
	}
}

// errPortTaken: a server could not bind the port it was given.
var errPortTaken = errors.New("a port was taken before the server bound it")

func (s *Server) start(bins map[string]string, timeout time.Duration) error {
	ports, err := FreePorts(3)
	if err != nil {
		return err
	}
	etcdClient := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	etcdPeer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	if err := s.run(bins["etcd"],
		"--name=conformance", "--data-dir="+filepath.Join(s.dir, "etcd"),
		"--listen-client-urls="+etcdClient, "--advertise-client-urls="+etcdClient,
		"--listen-peer-urls="+etcdPeer, "--initial-advertise-peer-urls="+etcdPeer,
		"--initial-cluster=conformance="+etcdPeer, "--log-level=error",
	); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return err
	}
	s.Token = hex.EncodeToString(tok)
	files := map[string][]byte{
		"sa.key":     keyPEM,
		"sa.pub":     pubPEM,
		"tokens.csv": []byte(s.Token + ",conformance-admin,1,system:masters\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(s.dir, name), b, 0o600); err != nil {
			return err
		}
	}
	port := strconv.Itoa(ports[2])
	if err := s.run(bins["kube-apiserver"],
		"--etcd-servers="+etcdClient,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+port,
		"--cert-dir="+filepath.Join(s.dir, "certs"),
		"--token-auth-file="+filepath.Join(s.dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		// As on EKS: privileged pods are admitted (node agents need them).
		"--allow-privileged=true",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+filepath.Join(s.dir, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(s.dir, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=0",
	); err != nil {
		return err
	}
	s.URL = "https://127.0.0.1:" + port
	s.HTTP = &http.Client{
		Timeout: 30 * time.Second,
		// The server's certificate is self-signed for this run only, on loopback.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec
	}
	return s.waitReady(timeout)
}

func (s *Server) run(bin string, args ...string) error {
	return s.runEnv(nil, bin, args...)
}

// runEnv starts bin with env added to this process's environment.
func (s *Server) runEnv(env []string, bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	s.procs = append(s.procs, cmd)
	s.logs = append(s.logs, log)
	return nil
}

func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		for _, p := range s.procs {
			if p.ProcessState != nil {
				return fmt.Errorf("%s exited early", filepath.Base(p.Path))
			}
		}
		if logs := s.Logs(); strings.Contains(logs, "address already in use") {
			return fmt.Errorf("%w: %s", errPortTaken, tail(logs, 300))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		status, body, err := s.Do(ctx, http.MethodGet, "/readyz", "", nil)
		cancel()
		if err == nil && status == http.StatusOK {
			return nil
		}
		last = fmt.Sprintf("status %d %s %v", status, tail(string(body), 300), err)
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver not ready after %s: %s", timeout, last)
}

// lockedBuffer is a process's output, written by exec's copying goroutine
// while waitReady reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Logs returns what both servers printed.
func (s *Server) Logs() string {
	var b bytes.Buffer
	for i, l := range s.logs {
		fmt.Fprintf(&b, "--- %s\n%s\n", filepath.Base(s.procs[i].Path), l.String())
	}
	return b.String()
}

// Stop kills both servers and removes their data.
func (s *Server) Stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		if p.Process != nil {
			_ = p.Process.Kill() // the process may already be gone; Wait reaps it either way
			_ = p.Wait()
		}
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir) // best effort: a temp dir
	}
}

// handedOut are the ports FreePorts has returned in this process: the
// kernel may offer a closed port again, and parallel tests would then start
// servers on the same port.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// FreePorts asks the kernel for n free loopback ports, none of which it
// returned before in this process.
func FreePorts(n int) ([]int, error) {
	handedOut.Lock()
	defer handedOut.Unlock()
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l) // held open until all n are chosen: no duplicates within one call
		p := l.Addr().(*net.TCPAddr).Port
		if handedOut.ports[p] {
			continue
		}
		handedOut.ports[p] = true
		ports = append(ports, p)
	}
	return ports, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

var errNotFound = errors.New("not found")
