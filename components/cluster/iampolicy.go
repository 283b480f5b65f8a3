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
	Sid       string                       `json:"Sid,omitempty"`
	Effect    string                       `json:"Effect"`
	Principal map[string]any               `json:"Principal,omitempty"`
	Action    []string                     `json:"Action"`
	Resource  []string                     `json:"Resource,omitempty"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
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
