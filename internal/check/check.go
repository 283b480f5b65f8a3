// Package check collects validation problems so that a config or args check
// reports every problem at once, each naming the key path it is about.
//
// Paths use the config spelling (camelCase, [i] for list items), so the same
// rule gives "tars:cluster.nodeGroups[1].maxSize (2) is below minSize (3)" when
// stacks validates config and "cluster \"us-east\": nodeGroups[1].maxSize ..."
// when a component validates its args.
package check

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Problem is one validation failure at a key path.
type Problem struct {
	Path string // e.g. "nodeGroups[1].maxSize"
	Msg  string // e.g. "(2) is below minSize (3)"
}

func (p Problem) Error() string { return p.Path + " " + p.Msg }

// Problems accumulates Problem values under a path prefix. The zero value is
// ready to use.
type Problems struct {
	prefix string
	list   []Problem
}

// At returns a view that records problems under prefix+path, sharing storage
// with p. Use it to hand a sub-tree (a list item, a nested struct) to a helper.
func (p *Problems) At(path string) *Scope { return &Scope{parent: p, prefix: path} }

// Addf records a problem at path.
func (p *Problems) Addf(path, format string, args ...any) {
	p.list = append(p.list, Problem{Path: p.prefix + path, Msg: fmt.Sprintf(format, args...)})
}

// Merge records every Problem found in err (as returned by Err) under
// prefix; other errors are recorded at the prefix itself.
func (p *Problems) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var pr Problem
		if errors.As(e, &pr) {
			p.list = append(p.list, Problem{Path: prefix + pr.Path, Msg: pr.Msg})
			continue
		}
		p.list = append(p.list, Problem{Path: strings.TrimSuffix(prefix, "."), Msg: e.Error()})
	}
}

// Len is the number of problems recorded so far.
func (p *Problems) Len() int { return len(p.list) }

// Err joins every recorded problem (nil when there are none). Each joined
// error is a Problem, so callers can re-prefix them with Merge.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	errs := make([]error, len(p.list))
	for i, pr := range p.list {
		errs[i] = pr
	}
	return errors.Join(errs...)
}

// Scope records problems below a path of its parent.
type Scope struct {
	parent *Problems
	prefix string
}

// Addf records a problem at scope+"."+field (or the scope itself when field is "").
func (s *Scope) Addf(field, format string, args ...any) {
	path := s.prefix
	if field != "" {
		path += "." + field
	}
	s.parent.Addf(path, format, args...)
}

// dnsLabel is RFC 1123 label syntax, which EKS, IAM and Kubernetes names share.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// DNSLabel reports whether s is a lower-case RFC 1123 label of at most max characters.
func DNSLabel(s string, max int) bool { return len(s) <= max && dnsLabel.MatchString(s) }

// IPv4Prefix parses a canonical IPv4 CIDR ("10.10.0.0/16", host bits zero).
func IPv4Prefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("is not a CIDR block")
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("is not an IPv4 CIDR block")
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("has host bits set (did you mean %s?)", p.Masked())
	}
	return p, nil
}

// Default sets *v to d when *v is the zero value: how every component's
// WithDefaults fills a field the config left out.
func Default[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// DNSName reports whether s is a fully qualified domain name of at least
// two DNS labels ("tars.ai"), lower case, without a trailing dot.
func DNSName(s string) bool {
	labels := strings.Split(s, ".")
	if len(s) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !DNSLabel(l, 63) {
			return false
		}
	}
	return true
}
