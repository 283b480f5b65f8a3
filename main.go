// Command tars is the Pulumi program of the T.A.R.S. platform; `pulumi up`
// runs it once per region stack.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/tars-platform/infra/stacks"
)

func main() {
	pulumi.Run(stacks.Deploy)
}
