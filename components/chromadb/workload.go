package chromadb

import (
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/versions"
	"slices"
)

// Paths: the volume is mounted whole at /volume by the init container and
// the sync jobs; ChromaDB sees only its chroma/ directory, at /data (its
// default persist path), so the staged copy beside it is invisible to it.
const (
	volumeMount = "/volume"
	dataDir     = "chroma"
	scriptsDir  = "/scripts"
	scriptsName = "chromadb-sync-scripts"
)

// Resources: the seed's VPA row minimum as requests (the VPA, Initial,
// sets them from its recommendation when the pod is created); the memory
// limit leaves the index room to grow below the row's 16 Gi maximum.
const (
	cpuRequest    = "500m"
	memoryRequest = "1Gi"
	cpuLimit      = "4"
	memoryLimit   = "4Gi"
)

func labels(component string) pulumi.StringMap {
	return pulumi.StringMap{
		"app.kubernetes.io/name":      pulumi.String("chromadb"),
		"app.kubernetes.io/component": pulumi.String(component),
		"app.kubernetes.io/part-of":   pulumi.String("tars"),
	}
}

func restricted() *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(uid), RunAsGroup: pulumi.Int(uid),
		AllowPrivilegeEscalation: pulumi.Bool(false),
		Capabilities:             &corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})},
		SeccompProfile:           &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

func heartbeat(initialDelay, failures int) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		HttpGet:             &corev1.HTTPGetActionArgs{Path: pulumi.String(HeartbeatPath), Port: pulumi.Int(Port)},
		InitialDelaySeconds: pulumi.Int(initialDelay),
		PeriodSeconds:       pulumi.Int(10),
		TimeoutSeconds:      pulumi.Int(5),
		FailureThreshold:    pulumi.Int(failures),
	}
}

// newWorkload creates the scripts ConfigMap, the StatefulSet, its
// Services and the NetworkPolicy.
func (c *ChromaDB) newWorkload(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	meta := func(n string, l pulumi.StringMap) *metav1.ObjectMetaArgs {
		return &metav1.ObjectMetaArgs{Name: pulumi.String(n), Namespace: pulumi.String(a.Namespace), Labels: l}
	}
	server := labels("server")
	if _, err := corev1.NewConfigMap(ctx, name+"-scripts", &corev1.ConfigMapArgs{
		Metadata: meta(scriptsName, labels("sync")),
		Data: pulumi.StringMap{
			"snapshot.sh": pulumi.String(SnapshotScript), "restore.sh": pulumi.String(RestoreScript), "promote.sh": pulumi.String(PromoteScript),
		},
	}, opts...); err != nil {
		return err
	}
	if _, err := corev1.NewService(ctx, name+"-headless", &corev1.ServiceArgs{
		Metadata: meta(HeadlessService, server),
		Spec: &corev1.ServiceSpecArgs{ClusterIP: pulumi.String("None"), Selector: server,
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("http"), Port: pulumi.Int(Port)}}},
	}, opts...); err != nil {
		return err
	}
	if _, err := corev1.NewService(ctx, name, &corev1.ServiceArgs{
		Metadata: meta(ServiceName, server),
		Spec: &corev1.ServiceSpecArgs{Selector: server,
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{Name: pulumi.String("http"), Port: pulumi.Int(Port), TargetPort: pulumi.String("http")}}},
	}, opts...); err != nil {
		return err
	}
	if _, err := appsv1.NewStatefulSet(ctx, name, &appsv1.StatefulSetArgs{
		Metadata: meta(StatefulSetName, server),
		Spec: &appsv1.StatefulSetSpecArgs{
			// One member: ChromaDB's single-node server does not replicate.
			// The other region's copy is the standby.
			Replicas:    pulumi.Int(1),
			ServiceName: pulumi.String(HeadlessService),
			Selector:    &metav1.LabelSelectorArgs{MatchLabels: server},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: server},
				Spec:     podSpec(a),
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{corev1.PersistentVolumeClaimTypeArgs{
				Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(volumeClaim)},
				Spec: &corev1.PersistentVolumeClaimSpecArgs{
					AccessModes:      pulumi.ToStringArray([]string{"ReadWriteOnce"}),
					StorageClassName: pulumi.String(a.StorageClass),
					Resources:        &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.Sprintf("%dGi", a.StorageGi)}},
				},
			}},
			// A deleted StatefulSet keeps its volume: the data outlives it.
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
				WhenDeleted: pulumi.String("Retain"), WhenScaled: pulumi.String("Retain"),
			},
		},
	}, append(slices.Clone(opts), a.Keep.Stateful()...)...); err != nil {
		return err
	}
	// One member: a drain may evict it (the PDB says so explicitly); the
	// clients retry while it restarts on another node.
	if _, err := policyv1.NewPodDisruptionBudget(ctx, name, &policyv1.PodDisruptionBudgetArgs{
		Metadata: meta(StatefulSetName, server),
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(1),
			Selector:       &metav1.LabelSelectorArgs{MatchLabels: server},
		},
	}, opts...); err != nil {
		return err
	}
	// Clients: the application's namespace only, on the HTTP port.
	_, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: meta(StatefulSetName, server),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: server},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress"}),
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
					MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(a.Namespace)}}}},
				Ports: networkingv1.NetworkPolicyPortArray{networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(Port)}},
			}},
		},
	}, opts...)
	return err
}

// podSpec is ChromaDB's pod: the init container swaps in a staged
// snapshot (the restoring region's sync), then ChromaDB serves /data.
func podSpec(a Args) *corev1.PodSpecArgs {
	return &corev1.PodSpecArgs{
		SecurityContext: &corev1.PodSecurityContextArgs{
			RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(uid), FsGroup: pulumi.Int(uid),
			SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		TerminationGracePeriodSeconds: pulumi.Int(30),
		InitContainers: corev1.ContainerArray{corev1.ContainerArgs{
			Name:            pulumi.String("promote"),
			Image:           pulumi.String(versions.AWSCLI),
			Command:         pulumi.ToStringArray([]string{"sh", scriptsDir + "/promote.sh"}),
			Env:             corev1.EnvVarArray{corev1.EnvVarArgs{Name: pulumi.String("VOLUME"), Value: pulumi.String(volumeMount)}},
			Resources:       smallResources(),
			SecurityContext: restricted(),
			VolumeMounts: corev1.VolumeMountArray{
				corev1.VolumeMountArgs{Name: pulumi.String(volumeClaim), MountPath: pulumi.String(volumeMount)},
				corev1.VolumeMountArgs{Name: pulumi.String("scripts"), MountPath: pulumi.String(scriptsDir), ReadOnly: pulumi.Bool(true)},
			},
		}},
		Containers: corev1.ContainerArray{corev1.ContainerArgs{
			Name:  pulumi.String("chromadb"),
			Image: pulumi.String(versions.ChromaDB),
			Env: corev1.EnvVarArray{
				corev1.EnvVarArgs{Name: pulumi.String("IS_PERSISTENT"), Value: pulumi.String("TRUE")},
				corev1.EnvVarArgs{Name: pulumi.String("ANONYMIZED_TELEMETRY"), Value: pulumi.String("FALSE")},
			},
			Ports: corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("http"), ContainerPort: pulumi.Int(Port)}},
			Resources: &corev1.ResourceRequirementsArgs{
				Requests: pulumi.StringMap{"cpu": pulumi.String(cpuRequest), "memory": pulumi.String(memoryRequest)},
				Limits:   pulumi.StringMap{"cpu": pulumi.String(cpuLimit), "memory": pulumi.String(memoryLimit)},
			},
			// Loading a large collection takes a while: the startup probe
			// allows 10 minutes before liveness applies.
			StartupProbe:    heartbeat(5, 60),
			LivenessProbe:   heartbeat(0, 3),
			ReadinessProbe:  heartbeat(0, 1),
			SecurityContext: restricted(),
			VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
				Name: pulumi.String(volumeClaim), MountPath: pulumi.String("/data"), SubPath: pulumi.String(dataDir),
			}},
		}},
		Volumes: corev1.VolumeArray{scriptsVolume()},
	}
}

func scriptsVolume() corev1.VolumeArgs {
	return corev1.VolumeArgs{Name: pulumi.String("scripts"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(scriptsName)}}
}

func smallResources() *corev1.ResourceRequirementsArgs {
	return &corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String("100m"), "memory": pulumi.String("256Mi")},
		Limits:   pulumi.StringMap{"cpu": pulumi.String("1"), "memory": pulumi.String("1Gi")},
	}
}
