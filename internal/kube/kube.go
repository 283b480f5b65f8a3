// Package kube is tarsctl's access to a region's Kubernetes API from the
// kubeconfig its stack exported: typed and dynamic clients, GET through
// the API server's service proxy, and exec into a pod (as kubectl exec).
// `tarsctl dr` and `tarsctl verify` use it; the deployed program does not
// link it.
package kube

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/httpstream"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/remotecommand"
)

// RequestTimeout bounds one API request when the kubeconfig sets none.
const RequestTimeout = 30 * time.Second

// Client is one cluster's clients, built from one kubeconfig.
type Client struct {
	Config *rest.Config
	Dyn    dynamic.Interface
	Core   kubernetes.Interface
}

// New builds the clients from a kubeconfig document. The kubeconfig is a
// secret: a parse error never quotes it.
func New(kubeconfig string) (*Client, error) {
	if strings.TrimSpace(kubeconfig) == "" {
		return nil, errors.New("no kubeconfig")
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(kubeconfig))
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %s", Redact(err))
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = RequestTimeout
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return &Client{Config: cfg, Dyn: dyn, Core: core}, nil
}

// Redact keeps a kubeconfig parse error from echoing the document.
func Redact(err error) string {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}

// ServiceGet GETs path (with query) from a Service's port through the API
// server's service proxy (/api/v1/namespaces/NS/services/SCHEME:NAME:PORT/proxy/PATH):
// no port-forward, no public endpoint. A non-2xx answer is an error that
// carries the body's start; the body is returned too.
func (c *Client) ServiceGet(ctx context.Context, namespace, scheme, service, port, path string, query url.Values) ([]byte, error) {
	params := map[string]string{}
	for k, vs := range query {
		if len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	body, err := c.Core.CoreV1().Services(namespace).
		ProxyGet(scheme, service, port, strings.TrimPrefix(path, "/"), params).
		DoRaw(ctx)
	if err != nil {
		what := fmt.Sprintf("GET %s/%s:%s/%s through the API server", namespace, service, port, strings.TrimPrefix(path, "/"))
		if msg := strings.Join(strings.Fields(string(body)), " "); msg != "" && !strings.Contains(err.Error(), msg) {
			if len(msg) > 300 {
				msg = msg[:300] + "…"
			}
			return body, fmt.Errorf("%s: %w (answer: %s)", what, err, msg)
		}
		return body, fmt.Errorf("%s: %w", what, err)
	}
	return body, nil
}

// Exec runs cmd in a pod's container and returns what it printed. As
// kubectl: WebSocket (V5) first, SPDY when the server refuses the upgrade.
// The context bounds the stream. A failed command's error carries the
// start of its stderr.
func (c *Client) Exec(ctx context.Context, namespace, pod, container string, cmd []string) (stdout, stderr string, err error) {
	req := c.Core.CoreV1().RESTClient().Post().
		Resource("pods").Namespace(namespace).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: container,
			Command:   cmd,
			Stdout:    true,
			Stderr:    true,
		}, scheme.ParameterCodec)
	// A stream has no overall timeout: the context bounds it.
	cfg := rest.CopyConfig(c.Config)
	cfg.Timeout = 0
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	if err != nil {
		return "", "", err
	}
	spdy, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		return "", "", err
	}
	exec, err := remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		return "", "", err
	}
	var o, e bytes.Buffer
	err = exec.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &o, Stderr: &e})
	if err != nil {
		msg := strings.TrimSpace(e.String())
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		if msg != "" {
			return o.String(), e.String(), fmt.Errorf("%w: %s", err, msg)
		}
		return o.String(), e.String(), err
	}
	return o.String(), e.String(), nil
}

// Unreachable reports whether err is a failure to reach a server at all:
// a refused or failed dial, an unknown host, a timeout, a reset
// connection. An answer from the server (an HTTP status, a TLS or
// authentication failure) is not.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return false // the server answered
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err)
}
