// Command kube-apiserver is the upstream Kubernetes API server, built from
// the k8s.io/kubernetes module at the minor the EKS clusters run, for the
// conformance tier (tests/kubeapi). It is the upstream main, unchanged.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
