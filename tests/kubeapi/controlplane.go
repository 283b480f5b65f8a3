package kubeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Controllers are the control-plane processes the scheduling tier runs
// beside the API server: the real kube-scheduler, the kube-controller-manager
// controllers that turn workloads into pods and bind volumes, and the
// prometheus-operator, which turns Prometheus and Alertmanager objects into
// StatefulSets. Nothing plays the kubelet: the test does (Kubelet).
var Controllers = []string{
	"deployment-controller", "replicaset-controller", "statefulset-controller",
	"daemonset-controller", "job-controller", "persistentvolume-binder-controller",
	"serviceaccount-controller",
}

// StartControlPlane starts kube-scheduler, kube-controller-manager (the
// Controllers only: no node lifecycle, so nodes without a kubelet stay
// schedulable) and prometheus-operator against s, all as the admin user,
// serving nothing but the operator's metrics on loopback. Stop stops them
// with the servers.
func (s *Server) StartControlPlane(bins map[string]string) error {
	kubeconfig := filepath.Join(s.dir, "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: tier
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: %q}
contexts:
- name: tier
  context: {cluster: tier, user: admin}
current-context: tier
`, s.URL, s.Token)
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		return err
	}
	if err := s.run(bins["kube-scheduler"],
		"--kubeconfig="+kubeconfig, "--leader-elect=false", "--secure-port=0", "--v=1",
	); err != nil {
		return err
	}
	if err := s.run(bins["kube-controller-manager"],
		"--kubeconfig="+kubeconfig, "--leader-elect=false", "--secure-port=0", "--v=1",
		"--controllers="+strings.Join(Controllers, ","),
	); err != nil {
		return err
	}
	ports, err := FreePorts(1)
	if err != nil {
		return err
	}
	op := bins["prometheus-operator"]
	if err := s.runEnv([]string{"KUBECONFIG=" + kubeconfig}, op,
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(ports[0]), "--log-level=warn",
	); err != nil {
		return err
	}
	return nil
}

// List returns the items of a collection path ("/api/v1/pods").
func (s *Server) List(ctx context.Context, path string) ([]map[string]any, error) {
	status, body, err := s.Do(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", path, status, tail(string(body), 300))
	}
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return list.Items, nil
}

// Create POSTs obj to a collection path.
func (s *Server) Create(ctx context.Context, path string, obj map[string]any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	status, body, err := s.Do(ctx, http.MethodPost, path, "application/json", b)
	if err != nil {
		return err
	}
	if status >= 300 {
		return fmt.Errorf("POST %s: HTTP %d: %s", path, status, tail(string(body), 500))
	}
	return nil
}

// MergePatch sends a JSON merge patch to path (a "/status" path patches
// the status subresource).
func (s *Server) MergePatch(ctx context.Context, path string, patch map[string]any) error {
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	status, body, err := s.Do(ctx, http.MethodPatch, path, "application/merge-patch+json", b)
	if err != nil {
		return err
	}
	if status >= 300 {
		return fmt.Errorf("PATCH %s: HTTP %d: %s", path, status, tail(string(body), 500))
	}
	return nil
}

// Delete deletes the object at path at once (grace period 0); a missing
// object is not an error.
func (s *Server) Delete(ctx context.Context, path string) error {
	status, body, err := s.Do(ctx, http.MethodDelete, path+"?"+url.Values{"gracePeriodSeconds": {"0"}}.Encode(), "", nil)
	if err != nil {
		return err
	}
	if status >= 300 && status != http.StatusNotFound {
		return fmt.Errorf("DELETE %s: HTTP %d: %s", path, status, tail(string(body), 300))
	}
	return nil
}

// ProcessLogs returns what the named process (base name of its binary)
// printed, for a failing test's message.
func (s *Server) ProcessLogs(name string) string {
	for i, p := range s.procs {
		if filepath.Base(p.Path) == name {
			return s.logs[i].String()
		}
	}
	return ""
}
