package postgres

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/internal/pki"
)

// Cross-region streaming verifies the other region's server certificate
// (sslmode verify-full): each region's server CA is held in its stack
// (internal/pki), CloudNativePG signs and renews the server certificate
// with it (its names include the replication endpoint's host name), the
// CA certificate is the stack output postgresServerCA, and the other
// region trusts exactly that certificate for its connection. In-cluster
// connections keep CloudNativePG's own client CA and certificates.
const (
	// ServerCASecret holds this region's server CA (ca.crt, ca.key), the
	// Cluster's serverCASecret.
	ServerCASecret = "tars-pg-server-ca"
	// PeerCASecret holds the other region's server CA certificate (ca.crt),
	// the peer connection's sslrootcert.
	PeerCASecret = "tars-pg-peer-ca"
	// PeerSSLMode: encrypted, the certificate chains to the peer's CA, and
	// its names include the host connected to.
	PeerSSLMode = "verify-full"
	// reloadLabel has CloudNativePG reload a user-provided Secret when it changes.
	reloadLabel = "cnpg.io/reload"
)

// ServerCACommonName is the common name of a region's server CA.
func ServerCACommonName(region string) string { return "tars-postgres-server-ca." + region }

// certificates is the Cluster's spec.certificates.
type certificates struct {
	ServerCASecret string `json:"serverCASecret"`
	// ServerAltDNSNames: the replication endpoint's host name, the one the
	// other region connects to (verify-full checks it).
	ServerAltDNSNames pulumi.StringArrayInput `json:"serverAltDNSNames,omitempty"`
}

// newServerCA creates the region's server CA and the Secret CloudNativePG
// signs the server certificate from.
func (d *Database) newServerCA(ctx *pulumi.Context, name string, a Args, parent pulumi.ResourceOption, inNS ...pulumi.ResourceOption) (*corev1.Secret, error) {
	ca, err := pki.New(ctx, name+"-server-ca", ServerCACommonName(a.Region), parent)
	if err != nil {
		return nil, err
	}
	d.ServerCA = ca.CertPEM
	return corev1.NewSecret(ctx, name+"-server-ca", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(ServerCASecret), Namespace: pulumi.String(a.Namespace),
			Labels: withReload(labels("tls"))},
		StringData: pulumi.StringMap{"ca.crt": ca.CertPEM, "ca.key": ca.KeyPEM},
	}, inNS...)
}

// newPeerCA writes the other region's server CA certificate, which this
// region's designated primary verifies the peer's endpoint against.
func (d *Database) newPeerCA(ctx *pulumi.Context, name string, a Args, opts ...pulumi.ResourceOption) (*corev1.Secret, error) {
	return corev1.NewSecret(ctx, name+"-peer-ca", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(PeerCASecret), Namespace: pulumi.String(a.Namespace),
			Labels: withReload(labels("tls"))},
		StringData: pulumi.StringMap{"ca.crt": pulumi.String(a.Peer.ServerCA)},
	}, opts...)
}

func withReload(m pulumi.StringMap) pulumi.StringMap {
	m[reloadLabel] = pulumi.String("true")
	return m
}

// altDNSNames is the endpoint's host name once the load balancer has one.
func altDNSNames(endpoint pulumi.StringOutput) pulumi.StringArrayOutput {
	return endpoint.ApplyT(func(h string) []string {
		if h == "" {
			return nil
		}
		return []string{h}
	}).(pulumi.StringArrayOutput)
}
