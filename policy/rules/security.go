package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Type tokens the security rules read.
const (
	typeEKSCluster  = "aws:eks/cluster:Cluster"
	typeKMSKey      = "aws:kms/key:Key"
	typeIAMRole     = "aws:iam/role:Role"
	typeRolePolicy  = "aws:iam/rolePolicy:RolePolicy"
	typeIAMPolicy   = "aws:iam/policy:Policy"
	typeK8sSecret   = "kubernetes:core/v1:Secret"
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
// (secretName, existingSecret, configSecret, …Ref, …Arn) are references,
// and plural knobs such as httpTokens ("required") are settings, not
// values, and an OAuth token_url is an endpoint; clientSecret and the like
// stay credentials.
var (
	secretKey    = regexp.MustCompile(`(?i)(password|passwd|token|secret|webhook|api[_-]?key|routing[_-]?key|private[_-]?key|credentials)`)
	secretRefKey = regexp.MustCompile(`(?i)((name|ref|arn|id|file|path|selector|keys?|enabled|mode|type|tokens|token[_-]?url)$|^(config|existing)Secret$)`)
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
