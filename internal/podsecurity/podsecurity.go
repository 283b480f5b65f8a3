// Package podsecurity is the Pod Security admission setting of every
// namespace the program creates: a level, enforced, audited and warned,
// and, for a level below restricted, the reason written on the namespace.
// The labels carry no version: the API server's "latest" is its own minor,
// the cluster's, at which the tests evaluate every workload.
package podsecurity

import "fmt"

// Level is a Pod Security Standards level.
type Level string

const (
	Restricted Level = "restricted"
	Baseline   Level = "baseline"
	Privileged Level = "privileged"
)

// ReasonAnnotation carries why a namespace is below restricted.
const ReasonAnnotation = "tars.io/pod-security-reason"

// Policy is a namespace's level and, below restricted, why.
type Policy struct {
	Level Level
	// Reason names the workloads that need the lower level and what they
	// need. Required below restricted.
	Reason string
}

// Validate refuses an unknown level or a lower level without a reason.
func (p Policy) Validate() error {
	switch p.Level {
	case Restricted:
		return nil
	case Baseline, Privileged:
		if p.Reason == "" {
			return fmt.Errorf("pod security level %s needs a reason (which workloads need it, and why)", p.Level)
		}
		return nil
	case "":
		return fmt.Errorf("pod security level is not set (restricted, baseline or privileged)")
	}
	return fmt.Errorf("pod security level %q: want restricted, baseline or privileged", p.Level)
}

// Labels enforce, audit and warn at the level; below restricted, audit
// and warn stay at restricted so every shortfall is still reported.
func (p Policy) Labels() map[string]string {
	return map[string]string{
		"pod-security.kubernetes.io/enforce": string(p.Level),
		"pod-security.kubernetes.io/audit":   string(Restricted),
		"pod-security.kubernetes.io/warn":    string(Restricted),
	}
}

// Annotations carry the reason (none at restricted).
func (p Policy) Annotations() map[string]string {
	if p.Level == Restricted {
		return nil
	}
	return map[string]string{ReasonAnnotation: p.Reason}
}

// With returns labels merged with more (more wins).
func With(labels, more map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}
