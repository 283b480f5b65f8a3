// Command etcd is the upstream etcd server (go.etcd.io/etcd/server/v3 v3.5),
// the storage the conformance tier's kube-apiserver runs on.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
