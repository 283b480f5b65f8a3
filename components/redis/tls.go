package redis

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/pki"
)

// TLS: the client port, the cluster bus and replication speak only TLS,
// with certificates from a CA held in the stack (internal/pki): a
// cert-manager CA Issuer in the cluster's namespace signs the members'
// certificate with it, which every member serves (client port) and
// presents (bus and replication, where the peer verifies it). Holding the
// CA in the stack lets the application namespace trust it (a ConfigMap of
// the certificate alone: cert-manager cannot copy Secrets across
// namespaces) and brings a rebuilt region back with the same CA. It lives
// pki.ValidityHours and the next `pulumi up` in its last
// pki.EarlyRenewalHours re-issues it with the same key, so certificates it
// signed before stay valid and members never disagree on the CA while the
// new one reaches them.
const (
	// TLSSecretName holds the members' certificate (tls.crt, tls.key) and
	// the CA that signed it (ca.crt); cert-manager writes and renews it.
	TLSSecretName = "redis-tls"
	// TLSMountPath is where the members mount it (redis.conf's tls-*-file)
	// and where the exporter and the formation Job mount its ca.crt alone.
	TLSMountPath = "/tls"
	// CASecretName holds the CA's certificate and key (tls.crt, tls.key,
	// ca.crt), written from the stack; only the CA Issuer reads it.
	CASecretName = "redis-ca"
	// CAConfigMapName holds the CA certificate alone (ca.crt) in the
	// application namespace: what clients trust for rediss://.
	CAConfigMapName = "redis-ca"
	// CACertKey is the CA certificate's key in the Secret and the ConfigMap.
	CACertKey = "ca.crt"
	// CertDuration and CertRenewBefore: the members' certificate lives 90
	// days and is renewed 30 days before it expires; the rejoin CronJob has
	// every member re-read its files (RejoinSchedule), so a renewed
	// certificate is served within minutes of the kubelet updating the volume.
	CertDuration    = "2160h"
	CertRenewBefore = "720h"

	caIssuer       = "redis-ca"
	tlsVolume      = "tls"
	tlsCAVolume    = "tls-ca"
	certManagerAPI = "cert-manager.io/v1"
)

// TLSCertFile, TLSKeyFile and TLSCAFile are the mounted Secret's files.
var (
	TLSCertFile = TLSMountPath + "/tls.crt"
	TLSKeyFile  = TLSMountPath + "/tls.key"
	TLSCAFile   = TLSMountPath + "/ca.crt"
)

// CertificateDNSNames are the names the members' certificate is valid
// for: every member's stable name (what members announce and clients are
// redirected to), the headless and client Services, and localhost (the
// probes and the exporter in the member's own pod).
func (a Args) CertificateDNSNames() []string {
	var names []string
	for i := range a.Nodes {
		names = append(names, a.Hostname(i))
	}
	headless := fmt.Sprintf("%s.%s.svc", a.headlessService(), a.Namespace)
	client := fmt.Sprintf("%s.%s.svc", clientService, a.Namespace)
	return append(names, headless, headless+".cluster.local",
		clientService, clientService+"."+a.Namespace, client, client+".cluster.local", "localhost")
}

// certManagerResource creates one cert-manager object in the namespace.
func certManagerResource(ctx *pulumi.Context, name, kind, objName string, a Args, annotations pulumi.StringMap, spec map[string]any, opts ...pulumi.ResourceOption) (*apiextensions.CustomResource, error) {
	return apiextensions.NewCustomResource(ctx, name, &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(certManagerAPI),
		Kind:       pulumi.String(kind),
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(objName), Namespace: pulumi.String(a.Namespace),
			Labels: appLabels("tls"), Annotations: annotations},
		OtherFields: kubernetes.UntypedArgs{"spec": spec},
	}, opts...)
}

// CACommonName is the Redis CA's common name in a namespace.
func CACommonName(namespace string) string { return "tars-redis-ca." + namespace }

// newTLS creates the CA (in the stack), its Secret and CA Issuer in the
// cluster's namespace, its certificate's ConfigMap in the application
// namespace, and the members' certificate; it returns the certificate,
// which Pulumi waits for until cert-manager reports it Ready (its Secret
// exists), so the members start with their certificate. inNS must order
// after the cluster's namespace, withCM also after cert-manager's release,
// inAppNS after the application namespace.
func (c *Cluster) newTLS(ctx *pulumi.Context, name string, a Args, parent, inNS, withCM, inAppNS pulumi.ResourceOption) (pulumi.Resource, error) {
	issuerRef := func(n string) map[string]any {
		return map[string]any{"name": n, "kind": "Issuer", "group": "cert-manager.io"}
	}
	ca, err := pki.New(ctx, name+"-ca", CACommonName(a.Namespace), parent)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	c.CACert = ca.CertPEM
	// The form a cert-manager CA Issuer reads: tls.crt and tls.key, with
	// ca.crt the same certificate (a self-signed root).
	caSecret, err := corev1.NewSecret(ctx, name+"-ca", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(CASecretName), Namespace: pulumi.String(a.Namespace), Labels: appLabels("tls")},
		Type:     pulumi.String("kubernetes.io/tls"),
		StringData: pulumi.StringMap{
			"tls.crt": ca.CertPEM, "tls.key": ca.KeyPEM, CACertKey: ca.CertPEM,
		},
	}, parent, inNS)
	if err != nil {
		return nil, fmt.Errorf("ca secret: %w", err)
	}
	if _, err := corev1.NewConfigMap(ctx, name+"-ca-trust", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(CAConfigMapName), Namespace: pulumi.String(a.AppNamespace), Labels: appLabels("tls")},
		Data:     pulumi.StringMap{CACertKey: ca.CertPEM},
	}, parent, inAppNS); err != nil {
		return nil, fmt.Errorf("ca configmap: %w", err)
	}
	issuer, err := certManagerResource(ctx, name+"-ca-issuer", "Issuer", caIssuer, a, nil,
		map[string]any{"ca": map[string]any{"secretName": CASecretName}}, parent, withCM, pulumi.DependsOn([]pulumi.Resource{caSecret}))
	if err != nil {
		return nil, fmt.Errorf("ca issuer: %w", err)
	}
	cert, err := certManagerResource(ctx, name+"-tls", "Certificate", TLSSecretName, a,
		pulumi.StringMap{"pulumi.com/waitFor": pulumi.String("condition=Ready")}, map[string]any{
			"secretName":  TLSSecretName,
			"dnsNames":    a.CertificateDNSNames(),
			"ipAddresses": []string{"127.0.0.1"},
			// Members serve it on the client port and the bus and present
			// it as clients on the bus and for replication.
			"usages":      []string{"digital signature", "server auth", "client auth"},
			"duration":    CertDuration,
			"renewBefore": CertRenewBefore,
			"privateKey":  map[string]any{"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
			"issuerRef":   issuerRef(caIssuer),
		}, parent, withCM, pulumi.DependsOn([]pulumi.Resource{issuer}))
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return cert, nil
}

// tlsVolumes are the members' certificate Secret (key readable by the
// redis group only) and its ca.crt alone, for the containers that only
// verify the members (the exporter, the formation Job).
func tlsVolumes() corev1.VolumeArray {
	return corev1.VolumeArray{
		corev1.VolumeArgs{Name: pulumi.String(tlsVolume), Secret: &corev1.SecretVolumeSourceArgs{
			SecretName: pulumi.String(TLSSecretName), DefaultMode: pulumi.Int(0o440)}},
		tlsCAVolumeArgs(),
	}
}

func tlsCAVolumeArgs() corev1.VolumeArgs {
	return corev1.VolumeArgs{Name: pulumi.String(tlsCAVolume), Secret: &corev1.SecretVolumeSourceArgs{
		SecretName: pulumi.String(TLSSecretName), DefaultMode: pulumi.Int(0o444),
		Items: corev1.KeyToPathArray{corev1.KeyToPathArgs{Key: pulumi.String("ca.crt"), Path: pulumi.String("ca.crt")}}}}
}

func tlsMount(volume string) corev1.VolumeMountArgs {
	return corev1.VolumeMountArgs{Name: pulumi.String(volume), MountPath: pulumi.String(TLSMountPath), ReadOnly: pulumi.Bool(true)}
}
