package cluster

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	storagev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/storage/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The cluster's two StorageClasses, both encrypted gp3 bound where the pod
// lands (WaitForFirstConsumer) and expandable. They differ in what a
// deleted claim does to its volume.
const (
	// StorageClassName is the default class, for scratch: a deleted claim
	// deletes its EBS volume (reclaimPolicy Delete). Caches, working
	// directories, what rebuilds itself.
	StorageClassName = "gp3-encrypted"
	// DataStorageClassName is the class of every data volume (Postgres,
	// Redis, ChromaDB, Prometheus, Alertmanager, Loki, OpenSearch): a deleted claim leaves
	// its PersistentVolume Released and the EBS volume in place
	// (reclaimPolicy Retain), to be re-attached (README "Re-attach a
	// retained volume").
	DataStorageClassName = "gp3-encrypted-retain"
)

// Kubeconfig renders a kubeconfig that authenticates with `aws eks get-token`
// (short-lived tokens from the caller's AWS identity; nothing long-lived is
// stored in state).
func Kubeconfig(clusterName, region, endpoint, caData string) (string, error) {
	user := map[string]any{"exec": map[string]any{
		"apiVersion": "client.authentication.k8s.io/v1beta1",
		"command":    "aws",
		"args":       []string{"eks", "get-token", "--cluster-name", clusterName, "--region", region, "--output", "json"},
	}}
	cfg := map[string]any{
		"apiVersion":      "v1",
		"kind":            "Config",
		"current-context": clusterName,
		"clusters":        []any{map[string]any{"name": clusterName, "cluster": map[string]any{"server": endpoint, "certificate-authority-data": caData}}},
		"users":           []any{map[string]any{"name": clusterName, "user": user}},
		"contexts":        []any{map[string]any{"name": clusterName, "context": map[string]any{"cluster": clusterName, "user": clusterName}}},
	}
	b, err := json.Marshal(cfg) // JSON is valid kubeconfig YAML
	if err != nil {
		return "", fmt.Errorf("render kubeconfig: %w", err)
	}
	return string(b), nil
}

// newKubernetes creates the Kubernetes provider for the cluster (after its
// node groups, so nothing is scheduled before there are nodes) and the two
// StorageClasses.
func (c *Cluster) newKubernetes(ctx *pulumi.Context, name string, a Args, cp *controlPlane, groups []pulumi.Resource) error {
	ca := cp.cluster.CertificateAuthority.Data().Elem()
	kubeconfig := pulumi.All(cp.cluster.Name, cp.cluster.Endpoint, ca).ApplyT(func(v []any) (string, error) {
		return Kubeconfig(v[0].(string), c.Region, v[1].(string), v[2].(string))
	}).(pulumi.StringOutput)
	c.Kubeconfig = pulumi.ToSecret(kubeconfig).(pulumi.StringOutput)
	provider, err := kubernetes.NewProvider(ctx, name+"-k8s", &kubernetes.ProviderArgs{
		Kubeconfig:            c.Kubeconfig,
		EnableServerSideApply: pulumi.Bool(true),
	}, pulumi.Parent(c), pulumi.DependsOn(append(slices.Clone(groups), cp.admins...)))
	if err != nil {
		return err
	}
	c.Provider = provider
	sc, err := newStorageClass(ctx, name, StorageClassName, "Delete", true, pulumi.Parent(c), pulumi.Provider(provider))
	if err != nil {
		return err
	}
	data, err := newStorageClass(ctx, name, DataStorageClassName, "Retain", false, pulumi.Parent(c), pulumi.Provider(provider))
	if err != nil {
		return err
	}
	c.DataStorageClassName = data.Metadata.Name().Elem()
	c.StorageClassName = sc.Metadata.Name().Elem()
	return nil
}

// newStorageClass is an encrypted gp3 class of the EBS CSI driver, bound
// where the pod lands (so the volume is in the pod's AZ) and expandable.
func newStorageClass(ctx *pulumi.Context, name, class, reclaim string, isDefault bool, opts ...pulumi.ResourceOption) (*storagev1.StorageClass, error) {
	return storagev1.NewStorageClass(ctx, name+"-"+class, &storagev1.StorageClassArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name: pulumi.String(class),
			Annotations: pulumi.StringMap{
				"storageclass.kubernetes.io/is-default-class": pulumi.String(fmt.Sprint(isDefault)),
			},
		},
		Provisioner: pulumi.String("ebs.csi.aws.com"),
		Parameters: pulumi.StringMap{
			"type":      pulumi.String("gp3"),
			"encrypted": pulumi.String("true"),
			"fsType":    pulumi.String("ext4"),
		},
		VolumeBindingMode:    pulumi.String("WaitForFirstConsumer"),
		AllowVolumeExpansion: pulumi.Bool(true),
		ReclaimPolicy:        pulumi.String(reclaim),
	}, opts...)
}
