// Command kube-controller-manager is the upstream Kubernetes controller
// manager at the control plane's version, for the scheduling tier
// (tests/kubeapi): it turns Deployments, StatefulSets, DaemonSets and Jobs
// into pods and binds volume claims. It is the upstream main, unchanged.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
