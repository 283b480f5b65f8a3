package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/tars-platform/infra/slo"
)

// Type tokens the security rules read.
const (
	typeEKSCluster  = "aws:eks/cluster:Cluster"
	typeKMSKey      = "aws:kms/key:Key"
	typeIAMRole     = "aws:iam/role:Role"
	typeRolePolicy  = "aws:iam/rolePolicy:RolePolicy"
	typeIAMPolicy   = "aws:iam/policy:Policy"
	typeK8sSecret   = "kubernetes:core/v1:Secret"
	typeNamespace   = "kubernetes:core/v1:Namespace"
	typeLogGroup    = "aws:cloudwatch/logGroup:LogGroup"
	requiredLogSet  = "api, audit, authenticator"
	secretsResource = "secrets"
)

// requiredLogTypes are the EKS control-plane logs the baseline needs:
// API calls, the audit trail and authentication decisions.
var requiredLogTypes = []string{"api", "audit", "authenticator"}

func securityPolicies() []policyx.Policy {
	mandatory := policyx.EnforcementLevelMandatory
	return []policyx.Policy{
		resourcePolicy("eks-secrets-encrypted",
			"EKS clusters envelope-encrypt Kubernetes Secrets with a customer KMS key.",
			mandatory, nil, []string{typeEKSCluster}, eksSecretsEncrypted),
		resourcePolicy("eks-control-plane-logging",
			"EKS clusters ship the "+requiredLogSet+" control-plane logs.",
			mandatory, nil, []string{typeEKSCluster}, eksLogging),
		resourcePolicy("kms-key-rotation",
			"KMS keys rotate automatically.",
			mandatory, nil, []string{typeKMSKey}, kmsRotation),
		resourcePolicy("iam-no-wildcard-admin",
			"No IAM statement allows every action (*) on every resource (*).",
			mandatory, nil, []string{typeIAMRole, typeRolePolicy, typeIAMPolicy}, iamNoWildcardAdmin),
		resourcePolicy("irsa-trust-one-service-account",
			"A role trusted through an EKS OIDC provider names exactly one namespace/service account with StringEquals on sub and aud.",
			mandatory, nil, []string{typeIAMRole}, irsaTrust),
		resourcePolicy("eks-endpoint-restricted",
			"A public EKS API endpoint admits only listed ranges, never the whole internet (0.0.0.0/0, ::/0, or no list, which AWS reads as 0.0.0.0/0).",
			mandatory, nil, []string{typeEKSCluster}, eksEndpointRestricted),
		resourcePolicy("control-plane-log-retention",
			fmt.Sprintf("The EKS control-plane log group keeps its logs at least %d days (or forever).", slo.ControlPlaneLogRetentionDays),
			mandatory, schema(map[string]map[string]any{"minDays": {"type": "number", "default": slo.ControlPlaneLogRetentionDays}}),
			[]string{typeLogGroup}, controlPlaneLogRetention),
		resourcePolicy("namespace-pod-security",
			"Every namespace the program creates enforces a Pod Security level, audits and warns at restricted, and says why when it enforces less than restricted.",
			mandatory, nil, []string{typeNamespace}, namespacePodSecurity),
		resourcePolicy("no-plaintext-secrets",
			"Passwords, tokens, webhooks, routing keys and Kubernetes Secret data are Pulumi secrets in every input.",
			mandatory, nil, nil, noPlaintextSecrets),
	}
}

func eksSecretsEncrypted(r policyx.AnalyzerResource, _ map[string]any) []string {
	for _, enc := range mapList(r.Properties, "encryptionConfig") {
		if slices.Contains(stringList(enc, "resources"), secretsResource) {
			if at(enc, "provider.keyArn").IsNull() {
				return []string{"encryptionConfig for secrets has no provider.keyArn"}
			}
			return nil
		}
	}
	enc := at(r.Properties, "encryptionConfig")
	if enc.IsMap() && slices.Contains(stringList(enc.AsMap(), "resources"), secretsResource) && !at(enc.AsMap(), "provider.keyArn").IsNull() {
		return nil
	}
	return []string{"Kubernetes Secrets are not envelope-encrypted: set encryptionConfig {resources: [secrets], provider.keyArn: <KMS key>}"}
}

func eksLogging(r policyx.AnalyzerResource, _ map[string]any) []string {
	have := stringList(r.Properties, "enabledClusterLogTypes")
	var missing []string
	for _, t := range requiredLogTypes {
		if !slices.Contains(have, t) {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return []string{fmt.Sprintf("control-plane logs %v are off (enabledClusterLogTypes is %v)", missing, have)}
	}
	return nil
}

func kmsRotation(r policyx.AnalyzerResource, _ map[string]any) []string {
	if on, ok := boolean(r.Properties, "enableKeyRotation"); !ok || !on {
		return []string{"enableKeyRotation is not true"}
	}
	return nil
}

// policyDocuments returns the inline policy documents of an IAM resource by
// where they sit.
func policyDocuments(r policyx.AnalyzerResource) map[string]property.Value {
	out := map[string]property.Value{}
	switch r.Type {
	case typeRolePolicy, typeIAMPolicy:
		out["policy"] = at(r.Properties, "policy")
	case typeIAMRole:
		for i, p := range mapList(r.Properties, "inlinePolicies") {
			out[fmt.Sprintf("inlinePolicies[%d]", i)] = at(p, "policy")
		}
	}
	return out
}

func iamNoWildcardAdmin(r policyx.AnalyzerResource, _ map[string]any) []string {
	var out []string
	for where, v := range policyDocuments(r) {
		doc, ok := parsePolicy(v)
		if !ok {
			continue // unknown until apply; checked again on `pulumi up`
		}
		for i, s := range doc.Statement {
			if s.Effect != "Allow" {
				continue
			}
			if (slices.Contains(s.Action, "*") || slices.Contains(s.Action, "*:*")) && slices.Contains(s.Resource, "*") {
				out = append(out, fmt.Sprintf("%s statement %s allows action * on resource *", where, sid(s, i)))
			}
		}
	}
	slices.Sort(out)
	return out
}

func sid(s policyStatement, i int) string {
	if s.Sid != "" {
		return s.Sid
	}
	return fmt.Sprintf("#%d", i)
}

var serviceAccountSub = regexp.MustCompile(`^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$`)

func irsaTrust(r policyx.AnalyzerResource, _ map[string]any) []string {
	doc, ok := parsePolicy(at(r.Properties, "assumeRolePolicy"))
	if !ok {
		return nil
	}
	var out []string
	for i, s := range doc.Statement {
		fed, _ := s.Principal.(map[string]any)["Federated"].(string)
		if !strings.Contains(fed, ":oidc-provider/") {
			continue
		}
		issuer := fed[strings.Index(fed, ":oidc-provider/")+len(":oidc-provider/"):]
		id := sid(s, i)
		for op := range s.Condition {
			if op != "StringEquals" {
				out = append(out, fmt.Sprintf("trust statement %s uses %s; only StringEquals scopes it to one service account", id, op))
			}
		}
		eq := s.Condition["StringEquals"]
		sub, _ := eq[issuer+":sub"].(string)
		if !serviceAccountSub.MatchString(sub) {
			out = append(out, fmt.Sprintf("trust statement %s has %s:sub %q, want exactly system:serviceaccount:<namespace>:<name>", id, issuer, eq[issuer+":sub"]))
		}
		if aud, _ := eq[issuer+":aud"].(string); aud != "sts.amazonaws.com" {
			out = append(out, fmt.Sprintf("trust statement %s has %s:aud %q, want sts.amazonaws.com", id, issuer, eq[issuer+":aud"]))
		}
	}
	return out
}

// secretKey matches input names that carry credentials. Names of secrets
// (secretName, existingSecret, configSecret, CloudNativePG's serverCASecret
// and serverTLSSecret, …Ref, …Arn) are references,
// and plural knobs such as httpTokens ("required") are settings, not
// values, and an OAuth token_url is an endpoint; clientSecret and the like
// stay credentials.
var (
	secretKey    = regexp.MustCompile(`(?i)(password|passwd|token|secret|webhook|api[_-]?key|routing[_-]?key|private[_-]?key|credentials)`)
	secretRefKey = regexp.MustCompile(`(?i)((name|ref|arn|id|file|path|selector|keys?|enabled|mode|type|tokens|token[_-]?url)$|^(config|existing)Secret$|(ca|tls)Secret$)`)
	secretValue  = regexp.MustCompile(`(hooks\.slack\.com/services/|-----BEGIN [A-Z ]*PRIVATE KEY-----)`)
)

func noPlaintextSecrets(r policyx.AnalyzerResource, _ map[string]any) []string {
	var out []string
	if r.Type == typeK8sSecret {
		for _, k := range []string{"data", "stringData"} {
			if v, ok := r.Properties.GetOk(k); ok && !v.IsNull() && !v.Secret() && !v.HasComputed() {
				out = append(out, fmt.Sprintf("Secret %s is not a Pulumi secret", k))
			}
		}
	}
	walkPlaintext(property.New(r.Properties), "", &out)
	slices.Sort(out)
	return out
}

func walkPlaintext(v property.Value, path string, out *[]string) {
	if v.Secret() {
		return
	}
	switch {
	case v.IsMap():
		for k, e := range v.AsMap().All {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if e.IsString() && e.AsString() != "" && !e.Secret() && secretKey.MatchString(k) && !secretRefKey.MatchString(k) {
				*out = append(*out, fmt.Sprintf("%s holds a credential in plain text; pass it as a Pulumi secret", p))
				continue
			}
			walkPlaintext(e, p, out)
		}
	case v.IsArray():
		for i, e := range v.AsArray().AsSlice() {
			walkPlaintext(e, fmt.Sprintf("%s[%d]", path, i), out)
		}
	case v.IsString():
		if secretValue.MatchString(v.AsString()) {
			*out = append(*out, fmt.Sprintf("%s contains a credential (webhook URL or private key) in plain text", path))
		}
	}
}

func eksEndpointRestricted(r policyx.AnalyzerResource, _ map[string]any) []string {
	vpc := at(r.Properties, "vpcConfig")
	if !vpc.IsMap() {
		return nil
	}
	if public, ok := boolean(vpc.AsMap(), "endpointPublicAccess"); !ok || !public {
		return nil
	}
	cidrs := stringList(vpc.AsMap(), "publicAccessCidrs")
	if len(cidrs) == 0 {
		return []string{"the public API endpoint lists no publicAccessCidrs: AWS opens it to 0.0.0.0/0"}
	}
	var out []string
	for _, c := range cidrs {
		if c == "0.0.0.0/0" || c == "::/0" {
			out = append(out, fmt.Sprintf("the public API endpoint admits %s: the whole internet", c))
		}
	}
	return out
}

func controlPlaneLogRetention(r policyx.AnalyzerResource, cfg map[string]any) []string {
	name, _ := str(r.Properties, "name")
	if !strings.HasPrefix(name, "/aws/eks/") || !strings.HasSuffix(name, "/cluster") {
		return nil
	}
	days, ok := num(r.Properties, "retentionInDays")
	minDays, _ := cfg["minDays"].(float64)
	if v, isInt := cfg["minDays"].(int); isInt {
		minDays = float64(v)
	}
	if ok && days > 0 && days < minDays {
		return []string{fmt.Sprintf("%s keeps the control-plane logs %v days, under the %v the audit trail needs", name, days, minDays)}
	}
	return nil
}

// The Pod Security admission labels and the reason annotation
// (internal/podsecurity).
const (
	labelEnforce     = "pod-security.kubernetes.io/enforce"
	labelAudit       = "pod-security.kubernetes.io/audit"
	labelWarn        = "pod-security.kubernetes.io/warn"
	annotationReason = "tars.io/pod-security-reason"
)

func namespacePodSecurity(r policyx.AnalyzerResource, _ map[string]any) []string {
	name, _ := str(r.Properties, "metadata.name")
	// Label keys contain dots: look them up whole.
	get := func(k string) string {
		if v := keys(r.Properties, "metadata", "labels", k); v.IsString() {
			return v.AsString()
		}
		return ""
	}
	var out []string
	level := get(labelEnforce)
	switch level {
	case "restricted":
	case "baseline", "privileged":
		if v := keys(r.Properties, "metadata", "annotations", annotationReason); !v.IsString() || v.AsString() == "" {
			out = append(out, fmt.Sprintf("namespace %s enforces Pod Security %s without saying why (annotation %s)", name, level, annotationReason))
		}
	case "":
		out = append(out, fmt.Sprintf("namespace %s enforces no Pod Security level (label %s)", name, labelEnforce))
	default:
		out = append(out, fmt.Sprintf("namespace %s enforces an unknown Pod Security level %q", name, level))
	}
	for _, k := range []string{labelAudit, labelWarn} {
		if get(k) != "restricted" {
			out = append(out, fmt.Sprintf("namespace %s: %s is %q, want restricted (every shortfall reported)", name, k, get(k)))
		}
	}
	return out
}
