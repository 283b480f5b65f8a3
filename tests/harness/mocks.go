package harness

import (
	"fmt"
	"github.com/tars-platform/infra/tests/fakecloud"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// The fake account the mocks answer for (tests/fakecloud).
const (
	MockAccountID    = fakecloud.AccountID
	MockDeployerRole = fakecloud.DeployerRole
	MockZoneID       = fakecloud.ZoneID
)

var mockZones = fakecloud.Zones

// mocks implements pulumi.MockResourceMonitor: it records every registered
// resource and answers with the outputs the AWS and Kubernetes providers
// would compute.
type mocks struct {
	project, stack, awsRegion string
	peerOutputs               map[string]any
	peerSecrets               []string
	// requestedPeering is the connection getVpcPeeringConnections finds.
	requestedPeering fakecloud.Peering

	mu         sync.Mutex
	resources  []Resource
	seen       map[string]bool // URNs registered so far
	invokes    []string
	invokeArgs []map[string]any
}

func (m *mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	parent := ""
	var opts Options
	var version, pluginURL string
	var deps []string
	propDeps := map[string][]string{}
	switch {
	case args.RegisterRPC != nil:
		parent = args.RegisterRPC.GetParent()
		opts = registeredOptions(args.RegisterRPC)
		version, pluginURL = args.RegisterRPC.GetVersion(), args.RegisterRPC.GetPluginDownloadURL()
		deps = args.RegisterRPC.GetDependencies()
		for k, d := range args.RegisterRPC.GetPropertyDependencies() {
			if len(d.GetUrns()) > 0 {
				propDeps[k] = d.GetUrns()
			}
		}
	case args.ReadRPC != nil:
		parent = args.ReadRPC.GetParent()
	}
	custom := args.Custom || args.ReadRPC != nil
	urn := m.urn(parent, args.TypeToken, args.Name)
	m.mu.Lock()
	if m.seen[urn] {
		m.mu.Unlock()
		// The engine refuses this too; the mock monitor alone would not.
		return "", nil, fmt.Errorf("duplicate resource URN %s", urn)
	}
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	m.seen[urn] = true
	m.resources = append(m.resources, Resource{
		Type:     args.TypeToken,
		Name:     args.Name,
		URN:      urn,
		Parent:   parent,
		Provider: args.Provider,
		Custom:   custom,
		Inputs:   args.Inputs.Copy(),

		Dependencies:         deps,
		PropertyDependencies: propDeps,
		Options:              opts,
		Version:              version,
		PluginDownloadURL:    pluginURL,
	})
	m.mu.Unlock()
	if !custom {
		return "", args.Inputs, nil
	}
	id := mockID(args.TypeToken, args.Name)
	if args.ID != "" {
		id = args.ID
	}
	state := args.Inputs.Copy()
	for k, v := range m.computed(args.TypeToken, args.Name, id, args.Inputs) {
		state[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	if args.TypeToken == "pulumi:pulumi:StackReference" {
		state["outputs"] = resource.NewPropertyValue(m.peerOutputs)
		secrets := make([]any, len(m.peerSecrets))
		for i, s := range m.peerSecrets {
			secrets[i] = s
		}
		state["secretOutputNames"] = resource.NewPropertyValue(secrets)
	}
	return id, state, nil
}

// MockIntegrationKey is the routing key a PagerDuty integration gets.
func MockIntegrationKey(name string) string { return fakecloud.IntegrationKey(name) }

// MockPagerDutyID is the ID getUser (PU, by email) and getService (PS, by
// name) return.
func MockPagerDutyID(prefix, key string) string { return fakecloud.PagerDutyID(prefix, key) }

func mockID(typ, name string) string { return fakecloud.ID(typ, name) }

// MockID is the ID the mocks give a resource of a type and logical name.
func MockID(typ, name string) string { return fakecloud.ID(typ, name) }

// MockRoleArn is the ARN the mocks give the IAM role of a logical name.
func MockRoleArn(name string) string { return fakecloud.RoleArn(name) }

func (m *mocks) cloud() fakecloud.Cloud {
	return fakecloud.Cloud{AwsRegion: m.awsRegion, RequestedPeering: m.requestedPeering}
}

func (m *mocks) computed(typ, name, id string, in resource.PropertyMap) map[string]any {
	return m.cloud().Computed(typ, name, id, in)
}

// Call answers the invokes the program makes (tests/fakecloud).
func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.invokes = append(m.invokes, args.Token)
	m.invokeArgs = append(m.invokeArgs, args.Args.Mappable())
	m.mu.Unlock()
	return m.cloud().Invoke(args.Token, args.Args)
}

// registeredOptions reads the resource options of a registration
// request; empty lists are nil.
func registeredOptions(req *pulumirpc.RegisterResourceRequest) Options {
	r := Options{
		Protect:             req.GetProtect(),
		RetainOnDelete:      req.GetRetainOnDelete(),
		DeleteBeforeReplace: req.GetDeleteBeforeReplace(),
		IgnoreChanges:       nonEmpty(req.GetIgnoreChanges()),
		ReplaceOnChanges:    nonEmpty(req.GetReplaceOnChanges()),
	}
	r.Aliases = append(r.Aliases, req.GetAliasURNs()...)
	for _, a := range req.GetAliases() {
		if urn := a.GetUrn(); urn != "" {
			r.Aliases = append(r.Aliases, urn)
			continue
		}
		spec := a.GetSpec()
		if spec == nil {
			continue
		}
		var parts []string
		if spec.GetName() != "" {
			parts = append(parts, "name="+spec.GetName())
		}
		if spec.GetType() != "" {
			parts = append(parts, "type="+spec.GetType())
		}
		s := strings.Join(parts, ",")
		switch {
		case spec.GetNoParent():
			s += ",noParent"
		case spec.GetParentUrn() != "":
			s += ",parent=" + spec.GetParentUrn()
		}
		r.Aliases = append(r.Aliases, s)
	}
	return r
}
