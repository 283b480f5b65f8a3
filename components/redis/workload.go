package redis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/components/versions"
	"github.com/tars-platform/infra/slo"
)

// redisUID is the redis user of the official image.
const redisUID = 999

// startCommand starts a member: the password from the Secret, the pod's
// stable hostname announced so the cluster survives IP changes.
const startCommand = `exec redis-server /etc/redis/redis.conf ` +
	`--requirepass "$REDIS_PASSWORD" --masterauth "$REDIS_PASSWORD" ` +
	`--cluster-announce-hostname "$POD_NAME.$HEADLESS_SERVICE.$POD_NAMESPACE.svc.cluster.local"`

// CLITLS are redis-cli's flags to reach a member: TLS, verifying the
// member's certificate against the CA.
var CLITLS = "--tls --cacert " + TLSCAFile

// probe pings the member every ProbePeriodSeconds, over TLS.
func probe(initialDelay int) *corev1.ProbeArgs {
	return &corev1.ProbeArgs{
		Exec: &corev1.ExecActionArgs{Command: pulumi.ToStringArray([]string{"sh", "-c",
			fmt.Sprintf(`REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli %s -p %d ping | grep -q PONG`, CLITLS, Port)})},
		InitialDelaySeconds: pulumi.Int(initialDelay),
		PeriodSeconds:       pulumi.Int(ProbePeriodSeconds),
		TimeoutSeconds:      pulumi.Int(5),
		FailureThreshold:    pulumi.Int(3),
	}
}

func passwordEnv() corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String("REDIS_PASSWORD"), ValueFrom: &corev1.EnvVarSourceArgs{
		SecretKeyRef: &corev1.SecretKeySelectorArgs{Name: pulumi.String(secretName), Key: pulumi.String(passwordKey)},
	}}
}

func fieldEnv(name, path string) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), ValueFrom: &corev1.EnvVarSourceArgs{FieldRef: &corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String(path)}}}
}

// runtimeDefault is the container runtime's seccomp profile, which Pod
// Security's restricted level requires.
func runtimeDefault() *corev1.SeccompProfileArgs {
	return &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")}
}

func nonRoot() *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(redisUID), AllowPrivilegeEscalation: pulumi.Bool(false),
		Capabilities: &corev1.CapabilitiesArgs{Drop: pulumi.ToStringArray([]string{"ALL"})},
	}
}

func resources(cpuReq, cpuLim, mem string) *corev1.ResourceRequirementsArgs {
	return &corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String(cpuReq), "memory": pulumi.String(mem)},
		Limits:   pulumi.StringMap{"cpu": pulumi.String(cpuLim), "memory": pulumi.String(mem)},
	}
}

func pvc(name string, gib int, class string) corev1.PersistentVolumeClaimTypeArgs {
	return corev1.PersistentVolumeClaimTypeArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(name)},
		Spec: &corev1.PersistentVolumeClaimSpecArgs{
			AccessModes:      pulumi.ToStringArray([]string{"ReadWriteOnce"}),
			StorageClassName: pulumi.String(class),
			Resources:        &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.Sprintf("%dGi", gib)}},
		},
	}
}

// newStatefulSet runs the members: memory request = limit sized to
// maxmemory plus headroom, one member per node (required anti-affinity),
// members spread evenly over zones, data and nodes.conf on their own
// encrypted volumes.
func (c *Cluster) newStatefulSet(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (*appsv1.StatefulSet, error) {
	labels := appLabels("server")
	selector := &metav1.LabelSelectorArgs{MatchLabels: labels}
	return appsv1.NewStatefulSet(ctx, name, &appsv1.StatefulSetArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(appName), Namespace: pulumi.String(a.Namespace), Labels: labels},
		Spec: &appsv1.StatefulSetSpecArgs{
			Replicas:    pulumi.Int(a.Nodes),
			ServiceName: pulumi.String(a.headlessService()),
			// All members start together; formation waits for all of them.
			PodManagementPolicy: pulumi.String("Parallel"),
			Selector:            selector,
			UpdateStrategy:      &appsv1.StatefulSetUpdateStrategyArgs{Type: pulumi.String("RollingUpdate")},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &corev1.PodSpecArgs{
					SecurityContext: &corev1.PodSecurityContextArgs{RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(redisUID), FsGroup: pulumi.Int(redisUID), SeccompProfile: runtimeDefault()},
					// Members spread evenly over the zones and over the
					// nodes: on the three nodes a region starts with, two
					// per node and two per zone (a required one-per-node
					// anti-affinity would leave three Pending until the
					// autoscaler adds nodes). The formation script pairs
					// each replica with a master in another zone, so losing
					// a node or a zone loses no slot. Nodes whose taints
					// the members do not tolerate (a GPU pool) do not count.
					TopologySpreadConstraints: corev1.TopologySpreadConstraintArray{
						corev1.TopologySpreadConstraintArgs{
							MaxSkew: pulumi.Int(1), TopologyKey: pulumi.String("topology.kubernetes.io/zone"),
							WhenUnsatisfiable: pulumi.String("DoNotSchedule"), LabelSelector: selector,
							NodeTaintsPolicy: pulumi.String("Honor"),
						},
						corev1.TopologySpreadConstraintArgs{
							MaxSkew: pulumi.Int(1), TopologyKey: pulumi.String("kubernetes.io/hostname"),
							WhenUnsatisfiable: pulumi.String("DoNotSchedule"), LabelSelector: selector,
							NodeTaintsPolicy: pulumi.String("Honor"),
						},
					},
					TerminationGracePeriodSeconds: pulumi.Int(30),
					Containers: corev1.ContainerArray{
						corev1.ContainerArgs{
							Name:    pulumi.String("redis"),
							Image:   pulumi.String(versions.Redis),
							Command: pulumi.ToStringArray([]string{"sh", "-c", startCommand}),
							Env: corev1.EnvVarArray{passwordEnv(), fieldEnv("POD_NAME", "metadata.name"), fieldEnv("POD_NAMESPACE", "metadata.namespace"),
								corev1.EnvVarArgs{Name: pulumi.String("HEADLESS_SERVICE"), Value: pulumi.String(a.headlessService())}},
							Ports: corev1.ContainerPortArray{
								corev1.ContainerPortArgs{Name: pulumi.String("redis"), ContainerPort: pulumi.Int(Port)},
								corev1.ContainerPortArgs{Name: pulumi.String("bus"), ContainerPort: pulumi.Int(BusPort)},
							},
							Resources:       resources(a.CPURequest, a.CPULimit, fmt.Sprintf("%dMi", a.MemoryLimitMB)),
							LivenessProbe:   probe(30),
							ReadinessProbe:  probe(5),
							SecurityContext: nonRoot(),
							VolumeMounts: corev1.VolumeMountArray{
								corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String("/data")},
								corev1.VolumeMountArgs{Name: pulumi.String("cluster-state"), MountPath: pulumi.String("/cluster")},
								corev1.VolumeMountArgs{Name: pulumi.String("config"), MountPath: pulumi.String("/etc/redis"), ReadOnly: pulumi.Bool(true)},
								tlsMount(tlsVolume),
							},
						},
						corev1.ContainerArgs{
							Name:  pulumi.String("exporter"),
							Image: pulumi.String(versions.RedisExporter),
							Env: corev1.EnvVarArray{passwordEnv(),
								// TLS, the member's certificate verified for
								// "localhost" (one of its names).
								corev1.EnvVarArgs{Name: pulumi.String("REDIS_ADDR"), Value: pulumi.Sprintf("rediss://localhost:%d", Port)},
								corev1.EnvVarArgs{Name: pulumi.String("REDIS_EXPORTER_TLS_CA_CERT_FILE"), Value: pulumi.String(TLSCAFile)},
								corev1.EnvVarArgs{Name: pulumi.String("REDIS_EXPORTER_IS_CLUSTER"), Value: pulumi.String("true")}},
							Ports:           corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("metrics"), ContainerPort: pulumi.Int(ExporterPort)}},
							Resources:       resources("50m", "200m", "64Mi"),
							SecurityContext: nonRoot(),
							VolumeMounts:    corev1.VolumeMountArray{tlsMount(tlsCAVolume)},
						},
					},
					Volumes: append(corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("config"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(configName)}}},
						tlsVolumes()...),
				},
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{
				pvc("data", a.StorageGiB, a.StorageClass),
				pvc("cluster-state", 1, a.StorageClass),
			},
			// The claims outlive the StatefulSet and a scale-down (the
			// Kubernetes default, stated): a member's data and nodes.conf
			// come back with it.
			PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs{
				WhenDeleted: pulumi.String("Retain"), WhenScaled: pulumi.String("Retain"),
			},
		},
	}, opts...)
}

// newGuards adds the PodDisruptionBudget (one member down at a time) and
// the NetworkPolicy (the application namespace, the members themselves on
// the client and bus ports, the formation Job, and the metrics scraper).
func (c *Cluster) newGuards(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	labels := appLabels("server")
	if _, err := policyv1.NewPodDisruptionBudget(ctx, name, &policyv1.PodDisruptionBudgetArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(appName), Namespace: pulumi.String(a.Namespace), Labels: labels},
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(1),
			Selector:       &metav1.LabelSelectorArgs{MatchLabels: labels},
		},
	}, opts...); err != nil {
		return err
	}
	tcp := func(p int) networkingv1.NetworkPolicyPortArgs {
		return networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(p)}
	}
	nsSel := func(ns string) networkingv1.NetworkPolicyPeerArgs {
		return networkingv1.NetworkPolicyPeerArgs{NamespaceSelector: &metav1.LabelSelectorArgs{
			MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String(ns)}}}
	}
	podSel := func(component string) networkingv1.NetworkPolicyPeerArgs {
		return networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{
			"app.kubernetes.io/name": pulumi.String(appName), "app.kubernetes.io/component": pulumi.String(component)}}}
	}
	_, err := networkingv1.NewNetworkPolicy(ctx, name, &networkingv1.NetworkPolicyArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(appName), Namespace: pulumi.String(a.Namespace), Labels: labels},
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: metav1.LabelSelectorArgs{MatchLabels: labels},
			PolicyTypes: pulumi.ToStringArray([]string{"Ingress"}),
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{
				networkingv1.NetworkPolicyIngressRuleArgs{From: networkingv1.NetworkPolicyPeerArray{nsSel(a.AppNamespace)}, Ports: networkingv1.NetworkPolicyPortArray{tcp(Port)}},
				networkingv1.NetworkPolicyIngressRuleArgs{From: networkingv1.NetworkPolicyPeerArray{podSel("server")}, Ports: networkingv1.NetworkPolicyPortArray{tcp(Port), tcp(BusPort)}},
				networkingv1.NetworkPolicyIngressRuleArgs{From: networkingv1.NetworkPolicyPeerArray{podSel("cluster-create")}, Ports: networkingv1.NetworkPolicyPortArray{tcp(Port)}},
				networkingv1.NetworkPolicyIngressRuleArgs{From: networkingv1.NetworkPolicyPeerArray{nsSel(a.MonitoringNamespace)}, Ports: networkingv1.NetworkPolicyPortArray{tcp(ExporterPort)}},
			},
		},
	}, opts...)
	return err
}

// RejoinSchedule is when the formation script runs again: it does nothing
// on a healthy cluster, re-introduces members that all restarted with new
// addresses and adds a member that came back with an empty volume as a
// replica, so the cluster heals without an operator. It never moves slots.
// Each run also has every member re-read its TLS files, so a certificate
// cert-manager renewed is served within minutes (Redis does not watch them).
const RejoinSchedule = "*/5 * * * *"

// formationPod is the pod that runs the embedded cluster-create script.
func formationPod(a Args) *corev1.PodTemplateSpecArgs {
	labels := appLabels("cluster-create")
	return &corev1.PodTemplateSpecArgs{
		Metadata: &metav1.ObjectMetaArgs{Labels: labels},
		Spec: &corev1.PodSpecArgs{
			RestartPolicy:   pulumi.String("OnFailure"),
			SecurityContext: &corev1.PodSecurityContextArgs{RunAsNonRoot: pulumi.Bool(true), RunAsUser: pulumi.Int(redisUID), SeccompProfile: runtimeDefault()},
			Containers: corev1.ContainerArray{corev1.ContainerArgs{
				Name:    pulumi.String("cluster-create"),
				Image:   pulumi.String(versions.Redis),
				Command: pulumi.ToStringArray([]string{"sh", "/scripts/cluster-create.sh"}),
				Env: corev1.EnvVarArray{passwordEnv(),
					corev1.EnvVarArgs{Name: pulumi.String("REDIS_NODES"), Value: pulumi.String(a.memberHosts())},
					corev1.EnvVarArgs{Name: pulumi.String("REDIS_MASTERS"), Value: pulumi.String(fmt.Sprint(a.Masters))},
					corev1.EnvVarArgs{Name: pulumi.String("REDIS_REPLICAS"), Value: pulumi.String(fmt.Sprint(a.ReplicasPerMaster))},
					corev1.EnvVarArgs{Name: pulumi.String("REDIS_ZONES"), Value: pulumi.String(a.zones())},
					// The script talks TLS to the members, verifying them
					// against the CA (it needs no key of its own).
					corev1.EnvVarArgs{Name: pulumi.String("REDIS_TLS_CA"), Value: pulumi.String(TLSCAFile)}},
				Resources:       resources("50m", "200m", "64Mi"),
				SecurityContext: nonRoot(),
				VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String("scripts"), MountPath: pulumi.String("/scripts"), ReadOnly: pulumi.Bool(true)},
					tlsMount(tlsCAVolume)},
			}},
			Volumes: corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String("scripts"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: pulumi.String(scriptsName)}},
				tlsCAVolumeArgs()},
		},
	}
}

// newFormationJob runs the embedded cluster-create script once the
// StatefulSet exists, and again on RejoinSchedule; the script is idempotent,
// so a re-run on a healthy cluster changes nothing.
func (c *Cluster) newFormationJob(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	labels := appLabels("cluster-create")
	if _, err := batchv1.NewJob(ctx, name+"-cluster-create", &batchv1.JobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("redis-cluster-create"), Namespace: pulumi.String(a.Namespace), Labels: labels},
		Spec: &batchv1.JobSpecArgs{
			BackoffLimit:            pulumi.Int(6),
			TtlSecondsAfterFinished: pulumi.Int(86400),
			Template:                formationPod(a),
		},
	}, opts...); err != nil {
		return err
	}
	_, err := batchv1.NewCronJob(ctx, name+"-cluster-rejoin", &batchv1.CronJobArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("redis-cluster-rejoin"), Namespace: pulumi.String(a.Namespace), Labels: labels},
		Spec: &batchv1.CronJobSpecArgs{
			Schedule:                   pulumi.String(RejoinSchedule),
			ConcurrencyPolicy:          pulumi.String("Forbid"),
			SuccessfulJobsHistoryLimit: pulumi.Int(1),
			FailedJobsHistoryLimit:     pulumi.Int(3),
			JobTemplate: batchv1.JobTemplateSpecArgs{Spec: &batchv1.JobSpecArgs{
				BackoffLimit: pulumi.Int(2),
				Template:     formationPod(a),
			}},
		},
	}, opts...)
	return err
}

// newServiceMonitor has Prometheus scrape the exporters at the platform's
// scrape interval.
func (c *Cluster) newServiceMonitor(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) error {
	labels := appLabels("server")
	labels["release"] = pulumi.String("kube-prometheus-stack")
	_, err := apiextensions.NewCustomResource(ctx, name+"-metrics", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("monitoring.coreos.com/v1"),
		Kind:       pulumi.String("ServiceMonitor"),
		Metadata:   &metav1.ObjectMetaArgs{Name: pulumi.String(appName), Namespace: pulumi.String(a.Namespace), Labels: labels},
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{
			"selector":          map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": appName, "app.kubernetes.io/component": "server"}},
			"namespaceSelector": map[string]any{"matchNames": []any{a.Namespace}},
			"endpoints":         []any{map[string]any{"port": "metrics", "interval": slo.ScrapeInterval.String()}},
		}},
	}, opts...)
	return err
}

// zones renders ZoneSubnets as the script's REDIS_ZONES ("zone=cidr …", sorted).
func (a Args) zones() string {
	out := make([]string, 0, len(a.ZoneSubnets))
	for z, cidr := range a.ZoneSubnets {
		out = append(out, z+"="+cidr)
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}
