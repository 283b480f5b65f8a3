package cluster

import (
	"fmt"
	"net/netip"
)

// maxAZs is how many AZs the subnet plan can serve: the VPC is cut into eight
// equal blocks, one private block per AZ, the seventh block shared by the
// infrastructure subnets and the last by the public subnets.
const maxAZs = 6

// SubnetPlan is the address plan of one AZ.
type SubnetPlan struct {
	Private netip.Prefix // 1/8 of the VPC (a /19 of a /16): pods take VPC IPs with the VPC CNI
	Public  netip.Prefix // 1/64 of the VPC (a /22 of a /16): internet-facing load balancers and NAT gateways only
	// Infra is 1/64 of the VPC (a /22 of a /16): the EKS control plane's
	// network interfaces and the internal load balancers. No node runs
	// there, so no pod ever has one of its addresses: a NetworkPolicy that
	// admits these blocks admits the control plane and the load balancers,
	// not every pod (with the VPC CNI pods have VPC addresses).
	Infra netip.Prefix
}

// PlanSubnets cuts vpc into per-AZ private and public subnets. The plan
// depends only on the VPC block and the AZ count, so adding an AZ never
// renumbers the existing ones.
func PlanSubnets(vpc netip.Prefix, azs int) ([]SubnetPlan, error) {
	if !vpc.Addr().Is4() || vpc.Bits() < 16 || vpc.Bits() > 20 {
		return nil, fmt.Errorf("subnet plan: VPC block %s must be an IPv4 /16 to /20", vpc)
	}
	if azs < 1 || azs > maxAZs {
		return nil, fmt.Errorf("subnet plan: %d AZs, want 1 to %d", azs, maxAZs)
	}
	privateBits := vpc.Bits() + 3
	publicBits := vpc.Bits() + 6
	infraBase := nth(vpc.Addr(), privateBits, 6)
	publicBase := nth(vpc.Addr(), privateBits, 7)
	plans := make([]SubnetPlan, azs)
	for i := range plans {
		plans[i] = SubnetPlan{
			Private: netip.PrefixFrom(nth(vpc.Addr(), privateBits, i), privateBits),
			Public:  netip.PrefixFrom(nth(publicBase, publicBits, i), publicBits),
			Infra:   netip.PrefixFrom(nth(infraBase, publicBits, i), publicBits),
		}
	}
	return plans, nil
}

// nth returns the start of the i-th block of size /bits after base.
func nth(base netip.Addr, bits, i int) netip.Addr {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(i) << (32 - bits)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// validatedPrefix parses a CIDR that Validate has already accepted.
func validatedPrefix(s string) netip.Prefix {
	p, _ := netip.ParsePrefix(s)
	return p
}
