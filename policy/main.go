// Command policy serves the T.A.R.S. policy pack to the Pulumi engine over
// the analyzer protocol (`pulumi preview --policy-pack policy`). The rules
// live in policy/rules so tests and `tarsctl plan` run them in-process.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/tars-platform/infra/policy/rules"
)

func main() {
	if err := policyx.Main(func(*pulumi.Context) (policyx.PolicyPack, error) { return rules.Pack() }); err != nil {
		fmt.Fprintln(os.Stderr, "tars policy pack:", err)
		os.Exit(1)
	}
}
