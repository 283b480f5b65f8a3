package apps

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// JWTSecretName is the Secret the services read their JWT signing
	// key from, key JWTSecretKey.
	JWTSecretName = "tars-jwt"
	JWTSecretKey  = "jwt-secret"
	// JWTLength: 64 random characters of [A-Za-z0-9] (~381 bits), over the
	// checklist's 32 and the 48 the platform asks for.
	JWTLength = 64
)

// JWTArgs place the services' JWT signing key.
type JWTArgs struct {
	// Namespace of the services. Required.
	Namespace pulumi.StringInput
	// Key is the signing key; nil generates one here (a tokens signed in
	// one region must verify in the other: one region generates it, the
	// other passes the same value, read from its peer as a secret).
	Key pulumi.StringInput
}

// NewJWTSecret writes the services' JWT signing key into a Secret in their
// namespace, generating it when args.Key is nil. It returns the key (a
// Pulumi secret).
func NewJWTSecret(ctx *pulumi.Context, name string, args JWTArgs, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	if args.Namespace == nil {
		return pulumi.StringOutput{}, fmt.Errorf("apps %s: jwt: namespace is required", name)
	}
	key := args.Key
	if key == nil {
		gen, err := random.NewRandomPassword(ctx, name, &random.RandomPasswordArgs{
			Length: pulumi.Int(JWTLength), Special: pulumi.Bool(false), MinLower: pulumi.Int(1), MinUpper: pulumi.Int(1), MinNumeric: pulumi.Int(1),
		}, opts...)
		if err != nil {
			return pulumi.StringOutput{}, fmt.Errorf("apps %s: jwt: %w", name, err)
		}
		key = gen.Result
	}
	secret := pulumi.ToSecret(key.ToStringOutput()).(pulumi.StringOutput)
	if _, err := corev1.NewSecret(ctx, name, &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String(JWTSecretName), Namespace: args.Namespace,
			Labels: pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String("tars")}},
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{JWTSecretKey: secret},
	}, opts...); err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("apps %s: jwt secret: %w", name, err)
	}
	return secret, nil
}
