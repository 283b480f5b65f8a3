// Package keep is how the platform keeps what holds data through a
// mistake: a `pulumi destroy` of the wrong stack, a config change that
// would replace a database, a component that leaves the program. The
// stack says whether stateful resources are protected (tars:protect);
// the components say which of their resources are stateful by the option
// they ask for here, and the policy pack checks the result against its
// own reviewed list (policy/rules, stateful.go).
package keep

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Keep is the stack's protection of its stateful resources.
type Keep struct {
	// Protect marks every stateful resource protected: the engine refuses
	// to delete it (a destroy, or the resource leaving the program) and to
	// replace it, naming it. tars:protect, default true; only a test stack
	// that is meant to be torn down turns it off.
	Protect bool
}

// Data are the options of a resource whose deletion deletes data (a
// bucket and its key, the Postgres Cluster, a namespace holding volume
// claims): protected as the stack says, and retained on delete, so even an
// unprotected destroy leaves it in the cloud.
func (k Keep) Data() []pulumi.ResourceOption {
	return []pulumi.ResourceOption{pulumi.Protect(k.Protect), pulumi.RetainOnDelete(true)}
}

// Stateful are the options of a resource whose replacement or deletion is
// an outage or loses identity but not the data itself (the EKS cluster,
// the StatefulSets whose claims outlive them, the region's DNS records):
// protected as the stack says. Deleting them on purpose still deletes them.
func (k Keep) Stateful() []pulumi.ResourceOption {
	return []pulumi.ResourceOption{pulumi.Protect(k.Protect)}
}

// Part are the options of a part of a retained resource (a bucket's
// versioning, encryption, public-access block, policy, lifecycle): it is
// retained with the resource, so what a destroy leaves behind keeps its
// safety settings; it is not protected itself (pulumi.Protect(false) stops
// it inheriting its parent's protection), so the settings stay editable.
func Part() []pulumi.ResourceOption {
	return []pulumi.ResourceOption{pulumi.Protect(false), pulumi.RetainOnDelete(true)}
}
