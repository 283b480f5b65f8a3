package verify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/tars-platform/infra/dr"
	"github.com/tars-platform/infra/internal/kube"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Env is what the checks read: the regions of the run, the topology the
// stacks deployed, Route 53 and DNS.
type Env struct {
	// RunID marks what the run writes (the Postgres marker row, the Redis
	// key): [a-z0-9-], e.g. "verify-20261130-142233-5f3a".
	RunID string
	// Regions of the run, by name: one, or both for --region both.
	Regions map[string]*Region
	// Peers are the regions not in the run whose outputs a check may
	// still read (the DNS primary's endpoint); never written to.
	Peers map[string]*Region
	// PostgresPrimary and DNSPrimary are the regions the stacks deployed
	// as primary (the topology output).
	PostgresPrimary, DNSPrimary string
	// Route53 reads health checks and records (dr.Live in tarsctl).
	Route53 Route53
	// Resolver answers DNS queries for the global name (the system's
	// resolver in tarsctl, a loopback server in the tests).
	Resolver Resolver
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Poll is how often a check that waits (the marker row) looks again
	// (default 250 ms).
	Poll time.Duration
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Env) poll() time.Duration {
	if e.Poll > 0 {
		return e.Poll
	}
	return 250 * time.Millisecond
}

// RegionNames are the run's regions, sorted.
func (e *Env) RegionNames() []string {
	names := make([]string, 0, len(e.Regions))
	for n := range e.Regions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Region returns a region of the run, or a peer.
func (e *Env) Region(name string) (*Region, error) {
	if r, ok := e.Regions[name]; ok {
		return r, nil
	}
	if r, ok := e.Peers[name]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("region %q is not known to this run", name)
}

// Region is one region: its cluster, what the program deployed there, and
// its stack's outputs.
type Region struct {
	Name string
	// Cluster reads (and for the marker and key, writes) the region's
	// Kubernetes API; nil for a peer whose cluster the run does not touch.
	Cluster Cluster
	// Inventory is what the program deploys in the region.
	Inventory Inventory
	// Outputs are the stack's outputs (the kubeconfig is not needed once
	// Cluster is built).
	Outputs dr.Outputs
}

// Route53 is what the DNS check reads from Route 53 (dr.Live).
type Route53 interface {
	DNS(ctx context.Context, region string) (dr.DNS, error)
}

// Resolver resolves a host name (net.Resolver's signatures).
type Resolver interface {
	LookupCNAME(ctx context.Context, host string) (string, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// Service is a Kubernetes Service port a check talks to through the API
// server's service proxy.
type Service struct {
	Namespace, Name string
	// Port is the port's name or number; Scheme "http" (default) or "https".
	Port, Scheme string
}

func (s Service) String() string { return s.Namespace + "/" + s.Name + ":" + s.Port }

// ErrNotFound is what Cluster.Get returns for an object that does not
// exist (or a resource the API server does not serve).
var ErrNotFound = errors.New("not found")

// Cluster is a region's Kubernetes API as the checks use it.
type Cluster interface {
	// ServiceGet GETs path from a Service through the API server's proxy.
	ServiceGet(ctx context.Context, svc Service, path string, query url.Values) ([]byte, error)
	// List lists a resource's objects in a namespace ("" for all).
	List(ctx context.Context, gvr schema.GroupVersionResource, namespace string) ([]map[string]any, error)
	// Get reads one object; ErrNotFound when it does not exist.
	Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (map[string]any, error)
	// Exec runs cmd in a pod's container (kubectl exec).
	Exec(ctx context.Context, namespace, pod, container string, cmd []string) (stdout, stderr string, err error)
}

// KubeCluster is the live Cluster: client-go from the stack's kubeconfig.
type KubeCluster struct{ c *kube.Client }

// NewKubeCluster builds the clients from a kubeconfig (a secret: errors
// never quote it).
func NewKubeCluster(kubeconfig string) (*KubeCluster, error) {
	c, err := kube.New(kubeconfig)
	if err != nil {
		return nil, err
	}
	return &KubeCluster{c: c}, nil
}

func (k *KubeCluster) ServiceGet(ctx context.Context, svc Service, path string, query url.Values) ([]byte, error) {
	scheme := svc.Scheme
	if scheme == "" {
		scheme = "http"
	}
	return k.c.ServiceGet(ctx, svc.Namespace, scheme, svc.Name, svc.Port, path, query)
}

func (k *KubeCluster) List(ctx context.Context, gvr schema.GroupVersionResource, namespace string) ([]map[string]any, error) {
	l, err := k.c.Dyn.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("list %s: the API server does not serve it (is its CRD installed?): %w", gvr.Resource+"."+gvr.Group, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", gvr.Resource+"."+gvr.Group, err)
	}
	out := make([]map[string]any, len(l.Items))
	for i, u := range l.Items {
		out[i] = u.Object
	}
	return out, nil
}

func (k *KubeCluster) Get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (map[string]any, error) {
	u, err := k.c.Dyn.Resource(gvr).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%s %s/%s: %w", gvr.Resource, namespace, name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %s/%s: %w", gvr.Resource, namespace, name, err)
	}
	return u.Object, nil
}

func (k *KubeCluster) Exec(ctx context.Context, namespace, pod, container string, cmd []string) (string, string, error) {
	o, e, err := k.c.Exec(ctx, namespace, pod, container, cmd)
	if err != nil {
		return o, e, fmt.Errorf("exec in pod %s/%s (%s): %w", namespace, pod, container, err)
	}
	return o, e, nil
}
