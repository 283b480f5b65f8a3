package verify_test

import (
	"testing"

	"github.com/tars-platform/infra/tests/apistandin"
)

// apiServer is the stand-in kube-apiserver (tests/apistandin): register
// proxied Services with Service and served objects with Objects; Cluster
// is a verify.KubeCluster pointed at it.
type apiServer = apistandin.Server

func newAPIServer(t *testing.T) *apiServer { return apistandin.New(t) }
