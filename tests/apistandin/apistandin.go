// Package apistandin is a stand-in for a region's kube-apiserver for the
// tests of tarsctl verify: the service proxy and object reads, on
// loopback, in client-go's paths and formats.
package apistandin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tars-platform/infra/verify"
)

// Server is a stand-in for a region's kube-apiserver, on loopback,
// speaking the paths and formats client-go uses:
//   - the service proxy, /api/v1/namespaces/NS/services/SCHEME:NAME:PORT/proxy/PATH,
//     handed to the handler registered for the Service with PATH (and the
//     query) as the request's URL;
//   - lists and gets of objects, /apis/GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME]
//     (and /api/v1/... for the core group), as a List or the object, and
//     a Status 404 for anything unknown.
//
// The checks are tested through verify.KubeCluster against it, so the
// URLs they build are client-go's.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	services map[string]http.Handler // "ns/name:port"
	objects  map[string][]map[string]any
	// Requests are the requests served, "METHOD URI", in order.
	Requests []string
}

// New starts a stand-in, closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{services: map[string]http.Handler{}, objects: map[string][]map[string]any{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Cluster is a KubeCluster built from a kubeconfig for the stand-in.
func (s *Server) Cluster(t testing.TB) *verify.KubeCluster {
	t.Helper()
	c, err := verify.NewKubeCluster(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: stand-in
  cluster: {server: %q}
users:
- name: admin
  user: {token: stand-in}
contexts:
- name: stand-in
  context: {cluster: stand-in, user: admin}
current-context: stand-in
`, s.URL))
	require.NoError(t, err)
	return c
}

// Service answers the proxied requests to ns/name:port.
func (s *Server) Service(ns, name, port string, h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.services[ns+"/"+name+":"+port] = h
}

// Objects serves objs as the resource's objects ("verticalpodautoscalers.autoscaling.k8s.io/v1",
// "configmaps/v1" for the core group); each must have metadata.namespace
// and metadata.name. An unregistered resource is a 404, as for a CRD that
// is not installed.
func (s *Server) Objects(resource string, objs ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[resource] = append(s.objects[resource], objs...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.Requests = append(s.Requests, r.Method+" "+r.URL.RequestURI())
	s.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// Service proxy.
	if len(parts) >= 7 && parts[0] == "api" && parts[2] == "namespaces" && parts[4] == "services" && parts[6] == "proxy" {
		sp := strings.Split(parts[5], ":") // scheme:name:port or name:port
		name, port := sp[0], ""
		if len(sp) == 3 {
			name, port = sp[1], sp[2]
		} else if len(sp) == 2 {
			port = sp[1]
		}
		s.mu.Lock()
		h, ok := s.services[parts[3]+"/"+name+":"+port]
		s.mu.Unlock()
		if !ok {
			status(w, http.StatusServiceUnavailable, "ServiceUnavailable", fmt.Sprintf(`no endpoints available for service "%s:%s"`, name, port))
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + strings.Join(parts[7:], "/")
		r2.URL.RawPath = ""
		h.ServeHTTP(w, r2)
		return
	}
	// Objects.
	var group, version string
	rest := parts
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		group, version, rest = "", parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		group, version, rest = parts[1], parts[2], parts[3:]
	default:
		status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	ns := ""
	if len(rest) >= 3 && rest[0] == "namespaces" {
		ns, rest = rest[1], rest[2:]
	}
	key := rest[0] + "." + group + "/" + version
	if group == "" {
		key = rest[0] + "/" + version
	}
	s.mu.Lock()
	objs, served := s.objects[key]
	s.mu.Unlock()
	if !served {
		status(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	var match []map[string]any
	for _, o := range objs {
		meta, _ := o["metadata"].(map[string]any)
		if ns != "" && meta["namespace"] != ns {
			continue
		}
		if len(rest) == 2 && meta["name"] != rest[1] {
			continue
		}
		match = append(match, o)
	}
	w.Header().Set("Content-Type", "application/json")
	if len(rest) == 2 {
		if len(match) == 0 {
			status(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s %q not found", rest[0], rest[1]))
			return
		}
		_ = json.NewEncoder(w).Encode(match[0])
		return
	}
	if match == nil {
		match = []map[string]any{}
	}
	apiVersion := version
	if group != "" {
		apiVersion = group + "/" + version
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"apiVersion": apiVersion, "kind": "List", "metadata": map[string]any{"resourceVersion": "1"}, "items": match})
}

// status writes a metav1.Status failure, as the API server does.
func status(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}
