package cluster

import (
	"encoding/json"
	"fmt"
	"strings"
)

// PolicyDocument is an IAM policy document. Typed, so a statement cannot be
// misspelt and Validate can refuse wildcards before anything reaches AWS.
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// PolicyStatement is one IAM statement.
type PolicyStatement struct {
	Sid       string                               `json:"Sid,omitempty"`
	Effect    string                               `json:"Effect"`
	Principal map[string]any                       `json:"Principal,omitempty"`
	Action    []string                             `json:"Action"`
	Resource  []string                             `json:"Resource,omitempty"`
	Condition map[string]map[string]ConditionValue `json:"Condition,omitempty"`
}

// ConditionValue is the value of one condition key: one string or several
// (any of which matches). One value is written as a plain string, as IAM
// and the trust-policy checks expect.
type ConditionValue []string

// MarshalJSON writes one value as a string and several as a list.
func (v ConditionValue) MarshalJSON() ([]byte, error) {
	if len(v) == 1 {
		return json.Marshal(v[0])
	}
	return json.Marshal([]string(v))
}

// UnmarshalJSON reads a string or a list of strings.
func (v *ConditionValue) UnmarshalJSON(b []byte) error {
	l, err := stringOrList(b)
	*v = l
	return err
}

// UnmarshalJSON reads a statement as AWS documents write it: Action and
// Resource may each be a single string or a list.
func (s *PolicyStatement) UnmarshalJSON(b []byte) error {
	var raw struct {
		Sid       string                               `json:"Sid"`
		Effect    string                               `json:"Effect"`
		Principal map[string]any                       `json:"Principal"`
		Action    json.RawMessage                      `json:"Action"`
		Resource  json.RawMessage                      `json:"Resource"`
		Condition map[string]map[string]ConditionValue `json:"Condition"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*s = PolicyStatement{Sid: raw.Sid, Effect: raw.Effect, Principal: raw.Principal, Condition: raw.Condition}
	var err error
	if s.Action, err = stringOrList(raw.Action); err != nil {
		return fmt.Errorf("statement %q: Action: %w", raw.Sid, err)
	}
	if s.Resource, err = stringOrList(raw.Resource); err != nil {
		return fmt.Errorf("statement %q: Resource: %w", raw.Sid, err)
	}
	return nil
}

// stringOrList decodes "x" or ["x", "y"]; an absent value is nil.
func stringOrList(b []byte) ([]string, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return nil, fmt.Errorf("want a string or a list of strings: %s", b)
	}
	return many, nil
}

// policyVersion is the only IAM policy language version with variables.
const policyVersion = "2012-10-17"

// NewPolicy builds a document from statements, defaulting Effect to Allow.
func NewPolicy(statements ...PolicyStatement) PolicyDocument {
	doc := PolicyDocument{Version: policyVersion}
	for _, s := range statements {
		if s.Effect == "" {
			s.Effect = "Allow"
		}
		doc.Statement = append(doc.Statement, s)
	}
	return doc
}

// ValidateLeastPrivilege refuses documents that could grant more than they
// name: a statement without actions, an Allow with any wildcard in an
// action ("*", "s3:*", "s3:Get*"), or an Allow without resources.
func (d PolicyDocument) ValidateLeastPrivilege() error {
	var errs []string
	if len(d.Statement) == 0 {
		errs = append(errs, "has no statements")
	}
	for i, s := range d.Statement {
		id := s.Sid
		if id == "" {
			id = fmt.Sprintf("#%d", i)
		}
		if len(s.Action) == 0 {
			errs = append(errs, fmt.Sprintf("statement %s has no actions", id))
		}
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			if strings.Contains(a, "*") {
				errs = append(errs, fmt.Sprintf("statement %s allows wildcard action %q; name each action", id, a))
			}
		}
		if len(s.Resource) == 0 && s.Principal == nil {
			errs = append(errs, fmt.Sprintf("statement %s names no resources", id))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("policy %s", strings.Join(errs, "; "))
	}
	return nil
}

// JSON renders the document.
func (d PolicyDocument) JSON() (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("render policy: %w", err)
	}
	return string(b), nil
}

// assumeRolePolicy trusts an AWS service (ec2.amazonaws.com, eks.amazonaws.com).
func assumeRolePolicy(service string) (string, error) {
	return NewPolicy(PolicyStatement{
		Principal: map[string]any{"Service": service},
		Action:    []string{"sts:AssumeRole"},
	}).JSON()
}

// managedPolicyArn is the ARN of an AWS managed policy in a partition.
func managedPolicyArn(partition, policy string) string {
	return "arn:" + partition + ":iam::aws:policy/" + policy
}
