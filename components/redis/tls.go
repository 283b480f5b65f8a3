package redis

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TLS: the client port, the cluster bus and replication speak only TLS,
// with certificates from a cert-manager CA of the cluster's own namespace:
// a self-signed Issuer signs the CA Certificate, a CA Issuer on that CA
// signs the members' certificate, which every member serves (client port)
// and presents (bus and replication, where the peer verifies it).
const (
	// TLSSecretName holds the members' certificate (tls.crt, tls.key) and
	// the CA that signed it (ca.crt); cert-manager writes and renews it.
	TLSSecretName = "redis-tls"
	// TLSMountPath is where the members mount it (redis.conf's tls-*-file)
	// and where the exporter and the formation Job mount its ca.crt alone.
	TLSMountPath = "/tls"
	// CASecretName holds the CA's certificate and key (only cert-manager reads it).
	CASecretName = "redis-ca"
	// CertDuration and CertRenewBefore: the members' certificate lives 90
	// days and is renewed 30 days before it expires; the rejoin CronJob has
	// every member re-read its files (RejoinSchedule), so a renewed
	// certificate is served within minutes of the kubelet updating the volume.
	CertDuration    = "2160h"
	CertRenewBefore = "720h"
	// CADuration and CARenewBefore: the CA lives 10 years and is re-issued a
	// year before it expires, with the same key (rotationPolicy Never), so
	// certificates it signed before stay valid and members never disagree
	// on the CA while the new one reaches them.
	CADuration    = "87600h"
	CARenewBefore = "8760h"

	selfSignedIssuer = "redis-selfsigned"
	caIssuer         = "redis-ca"
	tlsVolume        = "tls"
	tlsCAVolume      = "tls-ca"
	certManagerAPI   = "cert-manager.io/v1"
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

// newTLS creates the CA chain and the members' certificate; it returns the
// certificate, which Pulumi waits for until cert-manager reports it Ready
// (its Secret exists), so the members start with their certificate.
// inNS must order everything after the namespace and cert-manager's release.
func (c *Cluster) newTLS(ctx *pulumi.Context, name string, a Args, parent, inNS pulumi.ResourceOption) (pulumi.Resource, error) {
	issuerRef := func(n string) map[string]any {
		return map[string]any{"name": n, "kind": "Issuer", "group": "cert-manager.io"}
	}
	selfSigned, err := certManagerResource(ctx, name+"-selfsigned-issuer", "Issuer", selfSignedIssuer, a, nil,
		map[string]any{"selfSigned": map[string]any{}}, parent, inNS)
	if err != nil {
		return nil, fmt.Errorf("self-signed issuer: %w", err)
	}
	ca, err := certManagerResource(ctx, name+"-ca", "Certificate", CASecretName, a, nil, map[string]any{
		"isCA": true, "commonName": "tars-redis-ca." + a.Namespace, "secretName": CASecretName,
		"duration": CADuration, "renewBefore": CARenewBefore,
		"privateKey": map[string]any{"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Never"},
		"issuerRef":  issuerRef(selfSignedIssuer),
	}, parent, inNS, pulumi.DependsOn([]pulumi.Resource{selfSigned}))
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	issuer, err := certManagerResource(ctx, name+"-ca-issuer", "Issuer", caIssuer, a, nil,
		map[string]any{"ca": map[string]any{"secretName": CASecretName}}, parent, inNS, pulumi.DependsOn([]pulumi.Resource{ca}))
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
		}, parent, inNS, pulumi.DependsOn([]pulumi.Resource{issuer}))
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
