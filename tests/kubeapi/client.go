package kubeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Do sends one request with the admin token.
func (s *Server) Do(ctx context.Context, method, path, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// apiResource is what discovery says about a kind.
type apiResource struct {
	plural     string
	namespaced bool
}

type discovery struct {
	mu    sync.Mutex
	cache map[string]map[string]apiResource // apiVersion → kind → resource
}

var disco = &discovery{cache: map[string]map[string]apiResource{}}

// resourceFor returns the REST resource of apiVersion/kind from discovery.
// A miss is not cached, so kinds of CRDs installed later are found.
func (s *Server) resourceFor(ctx context.Context, apiVersion, kind string) (apiResource, error) {
	disco.mu.Lock()
	defer disco.mu.Unlock()
	key := s.URL + " " + apiVersion
	if r, ok := disco.cache[key][kind]; ok {
		return r, nil
	}
	path := "/apis/" + apiVersion
	if apiVersion == "v1" {
		path = "/api/v1"
	}
	status, body, err := s.Do(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return apiResource{}, err
	}
	if status != http.StatusOK {
		return apiResource{}, fmt.Errorf("%s/%s: the server does not serve %s (HTTP %d)", apiVersion, kind, apiVersion, status)
	}
	var list struct {
		Resources []struct {
			Name       string `json:"name"`
			Namespaced bool   `json:"namespaced"`
			Kind       string `json:"kind"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return apiResource{}, fmt.Errorf("discovery %s: %w", apiVersion, err)
	}
	kinds := map[string]apiResource{}
	for _, r := range list.Resources {
		if !strings.Contains(r.Name, "/") {
			kinds[r.Kind] = apiResource{plural: r.Name, namespaced: r.Namespaced}
		}
	}
	disco.cache[key] = kinds
	r, ok := kinds[kind]
	if !ok {
		return apiResource{}, fmt.Errorf("%s/%s: %w in discovery", apiVersion, kind, errNotFound)
	}
	return r, nil
}

// Rejection is the API server refusing an object.
type Rejection struct {
	Object string // kind namespace/name
	Status int
	Reason string // the server's message
}

func (r *Rejection) Error() string {
	return fmt.Sprintf("%s rejected (HTTP %d): %s", r.Object, r.Status, r.Reason)
}

// Apply server-side applies obj (apiVersion, kind, metadata.name set). With
// dryRun the server validates, defaults and admits it without storing it.
// Unknown fields are errors (fieldValidation=Strict). Namespaced objects
// without a namespace go to "default".
func (s *Server) Apply(ctx context.Context, obj map[string]any, dryRun bool) error {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	if apiVersion == "" || kind == "" || name == "" {
		return fmt.Errorf("object needs apiVersion, kind and metadata.name: %v/%v %v", apiVersion, kind, name)
	}
	res, err := s.resourceFor(ctx, apiVersion, kind)
	if err != nil {
		return err
	}
	base := "/apis/" + apiVersion
	if apiVersion == "v1" {
		base = "/api/v1"
	}
	id := kind + " " + name
	if res.namespaced {
		ns, _ := meta["namespace"].(string)
		if ns == "" {
			ns = "default"
			meta["namespace"] = ns
		}
		base += "/namespaces/" + url.PathEscape(ns)
		id = kind + " " + ns + "/" + name
	} else {
		delete(meta, "namespace")
	}
	q := url.Values{"fieldManager": {"tars-conformance"}, "force": {"true"}, "fieldValidation": {"Strict"}}
	if dryRun {
		q.Set("dryRun", "All")
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	status, resp, err := s.Do(ctx, http.MethodPatch, base+"/"+res.plural+"/"+url.PathEscape(name)+"?"+q.Encode(), "application/apply-patch+yaml", body)
	if err != nil {
		return fmt.Errorf("%s: %w", id, err)
	}
	if status >= 300 {
		var st struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(resp, &st) != nil || st.Message == "" {
			st.Message = string(resp)
		}
		return &Rejection{Object: id, Status: status, Reason: st.Message}
	}
	return nil
}

// WaitEstablished waits until every named CRD reports Established.
func (s *Server) WaitEstablished(ctx context.Context, names []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, n := range names {
		for {
			status, body, err := s.Do(ctx, http.MethodGet, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+n, "", nil)
			if err == nil && status == http.StatusOK && established(body) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("CRD %s not established after %s", n, timeout)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return nil
}

func established(body []byte) bool {
	var crd struct {
		Status struct {
			Conditions []struct{ Type, Status string } `json:"conditions"`
		} `json:"status"`
	}
	if json.Unmarshal(body, &crd) != nil {
		return false
	}
	for _, c := range crd.Status.Conditions {
		if c.Type == "Established" && c.Status == "True" {
			return true
		}
	}
	return false
}
