// Command standin is the engine tier's stand-in for every provider plugin
// the program uses (aws, kubernetes, random, pagerduty, cloudflare, tls): the
// same binary installed as pulumi-resource-<name> on PATH. It keeps no
// cloud: Check returns the inputs with the names the real provider would
// generate (autoname.go), Diff compares the inputs with the last
// ones (replacing on the properties of Replacements), Create/Update answer
// with the inputs plus the outputs the fake account computes
// (tests/fakecloud, shared with the mock harness), Invoke answers the data
// sources from the same package. What one stack creates that another must
// find (VPCs, peering requests) is recorded under $TARS_FAKECLOUD_DIR.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/tars-platform/infra/tests/fakecloud"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Versions are the plugin versions the program's SDKs ask for (go.mod, and
// components/versions for PagerDuty).
var Versions = map[string]string{
	"aws": "6.83.2", "kubernetes": "4.33.0", "random": "4.18.0", "pagerduty": "4.34.0", "cloudflare": "6.4.1", "tls": "5.2.0",
}

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-resource-")
	if _, ok := Versions[name]; !ok {
		fmt.Fprintf(os.Stderr, "standin: run me as pulumi-resource-<%s>, not %s\n", strings.Join(keys(Versions), "|"), os.Args[0])
		os.Exit(2)
	}
	// The engine starts a plugin with its own address as the argument and
	// reads the port the plugin listens on from its first line of output.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(1 << 30))
	pulumirpc.RegisterResourceProviderServer(srv, &standin{name: name, dir: os.Getenv("TARS_FAKECLOUD_DIR")})
	fmt.Printf("%d\n", lis.Addr().(*net.TCPAddr).Port)
	if err := srv.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type standin struct {
	pulumirpc.UnimplementedResourceProviderServer
	name      string
	awsRegion string
	dir       string
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, opts)
}
func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, opts)
}

func (s *standin) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Versions[s.name]}, nil
}

func (s *standin) Attach(context.Context, *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (s *standin) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: `{"name":"` + s.name + `","version":"` + Versions[s.name] + `"}`}, nil
}

func (s *standin) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *standin) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return s.diff(req.GetType(), req.GetOldInputs(), req.GetNews())
}

func (s *standin) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	if args, err := unmarshal(req.GetArgs()); err == nil {
		if r, ok := args["region"]; ok && r.IsString() {
			s.awsRegion = r.StringValue()
		}
	}
	if s.awsRegion == "" {
		s.awsRegion = req.GetVariables()["aws:config:region"]
	}
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true, AcceptOutputs: false}, nil
}

func (s *standin) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	urn := resource.URN(req.GetUrn())
	in, err := marshal(autoname(string(urn.Type()), urn.Name(), req.GetRandomSeed(), olds, news))
	return &pulumirpc.CheckResponse{Inputs: in}, err
}

func (s *standin) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return s.diff(req.GetType(), req.GetOldInputs(), req.GetNews())
}

// diff compares the last inputs with the new ones, top-level key by key.
func (s *standin) diff(typ string, oldS, newS *structpb.Struct) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(oldS)
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(newS)
	if err != nil {
		return nil, err
	}
	changed := map[resource.PropertyKey]bool{}
	for k, v := range news {
		if o, ok := olds[k]; !ok || !o.DeepEquals(v) {
			changed[k] = true
		}
	}
	for k := range olds {
		if _, ok := news[k]; !ok {
			changed[k] = true
		}
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}
	if len(changed) == 0 {
		return resp, nil
	}
	resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	for k := range changed {
		resp.Diffs = append(resp.Diffs, string(k))
		if Replaces(typ, string(k), olds[k], news[k]) {
			resp.Replaces = append(resp.Replaces, string(k))
		}
	}
	sort.Strings(resp.Diffs)
	sort.Strings(resp.Replaces)
	if len(resp.Replaces) > 0 && s.dir != "" {
		b, _ := json.MarshalIndent(map[string]any{"replaces": resp.Replaces, "olds": olds.Mappable(), "news": news.Mappable()}, "", " ")
		_ = os.MkdirAll(filepath.Join(s.dir, "debug"), 0o755)
		_ = os.WriteFile(filepath.Join(s.dir, "debug", strings.NewReplacer(":", "_", "/", "_").Replace(typ)+".json"), b, 0o644)
	}
	return resp, nil
}

// cloud is the fake account as this stack's region sees it: the AWS
// provider knows its region; the others (the Kubernetes provider reports
// load balancers) take the stack's from TARS_FAKECLOUD_REGION.
func (s *standin) cloud() fakecloud.Cloud {
	region := s.awsRegion
	if region == "" {
		region = os.Getenv("TARS_FAKECLOUD_REGION")
	}
	return fakecloud.Cloud{AwsRegion: region}
}

// outputs are the inputs plus what the fake account computes.
func (s *standin) outputs(typ, name, id string, in resource.PropertyMap) resource.PropertyMap {
	out := in.Copy()
	for k, v := range s.cloud().Computed(typ, name, id, in) {
		out[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}
	return out
}

func (s *standin) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	in, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	urn := resource.URN(req.GetUrn())
	id := fakecloud.ID(string(urn.Type()), urn.Name())
	if !req.GetPreview() {
		if err := s.fault("create", urn); err != nil {
			return nil, err
		}
		if err := s.record(string(urn.Type()), id, in); err != nil {
			return nil, err
		}
	}
	props, err := marshal(s.outputs(string(urn.Type()), urn.Name(), id, in))
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		id = ""
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (s *standin) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	in, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	urn := resource.URN(req.GetUrn())
	if !req.GetPreview() {
		if err := s.fault("update", urn); err != nil {
			return nil, err
		}
	}
	props, err := marshal(s.outputs(string(urn.Type()), urn.Name(), req.GetId(), in))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (s *standin) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (s *standin) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (s *standin) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	args, err := unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	var out resource.PropertyMap
	if req.GetTok() == "aws:ec2/getVpcPeeringConnections:getVpcPeeringConnections" {
		out, err = s.peerings(args)
	} else {
		out, err = s.cloud().Invoke(req.GetTok(), args)
	}
	if err != nil {
		return nil, err
	}
	ret, err := marshal(out)
	return &pulumirpc.InvokeResponse{Return: ret}, err
}

// fault fails the operation once when a test armed a fault for this
// resource (fakecloud.ArmFault): the file is removed as it fires.
func (s *standin) fault(op string, urn resource.URN) error {
	if s.dir == "" {
		return nil
	}
	path := fakecloud.FaultPath(s.dir, op, string(urn.Type()), urn.Name())
	if err := os.Remove(path); err != nil {
		return nil
	}
	return fmt.Errorf("fakecloud: injected failure of %s %s", op, urn.Name())
}

// record keeps what another stack may look up: VPC blocks and peering
// requests.
func (s *standin) record(typ, id string, in resource.PropertyMap) error {
	if s.dir == "" {
		return nil
	}
	str := func(k string) string {
		if v, ok := in[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	var rec map[string]string
	switch typ {
	case "aws:ec2/vpc:Vpc":
		rec = map[string]string{"cidr": str("cidrBlock")}
	case "aws:ec2/vpcPeeringConnection:VpcPeeringConnection":
		rec = map[string]string{"vpc": str("vpcId"), "peerVpc": str("peerVpcId")}
	default:
		return nil
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	d := filepath.Join(s.dir, strings.NewReplacer(":", "_", "/", "_").Replace(typ))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, id+".json"), b, 0o644)
}

func (s *standin) load(typ string) map[string]map[string]string {
	out := map[string]map[string]string{}
	d := filepath.Join(s.dir, strings.NewReplacer(":", "_", "/", "_").Replace(typ))
	entries, _ := os.ReadDir(d)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(d, e.Name()))
		if err != nil {
			continue
		}
		var rec map[string]string
		if json.Unmarshal(b, &rec) == nil {
			out[strings.TrimSuffix(e.Name(), ".json")] = rec
		}
	}
	return out
}

// peerings answers getVpcPeeringConnections from the recorded requests.
func (s *standin) peerings(args resource.PropertyMap) (resource.PropertyMap, error) {
	vpcs := s.load("aws:ec2/vpc:Vpc")
	ids := []any{}
	for id, p := range s.load("aws:ec2/vpcPeeringConnection:VpcPeeringConnection") {
		c := s.cloud()
		c.RequestedPeering = fakecloud.Peering{ID: id, RequesterCidr: vpcs[p["vpc"]]["cidr"], AccepterCidr: vpcs[p["peerVpc"]]["cidr"]}
		out, err := c.Invoke("aws:ec2/getVpcPeeringConnections:getVpcPeeringConnections", args)
		if err != nil {
			return nil, err
		}
		for _, v := range out["ids"].ArrayValue() {
			ids = append(ids, v.StringValue())
		}
	}
	return resource.NewPropertyMapFromMap(map[string]any{"ids": ids, "id": s.awsRegion}), nil
}
