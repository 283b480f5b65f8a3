// Command ensure builds the conformance tier's etcd and kube-apiserver into
// the user cache (once per version) and prints their paths. .ci/run calls it
// before the tests so the build's minutes are not spent inside `go test`.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/tars-platform/infra/tests/kubeapi"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	start := time.Now()
	bins, err := kubeapi.EnsureBinaries(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeserver:", err)
		os.Exit(1)
	}
	for name, path := range bins {
		fmt.Printf("%s: %s\n", name, path)
	}
	fmt.Printf("kubeserver binaries ready in %s\n", time.Since(start).Round(time.Millisecond))
}
