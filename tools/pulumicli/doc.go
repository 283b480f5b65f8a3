// Package pulumicli pins the Pulumi CLI the engine tier runs: this module
// requires github.com/pulumi/pulumi/pkg/v3 at the version in
// components/versions (PulumiCLI), and tests/kubeapi builds its
// cmd/pulumi into the user cache once per version. Provider plugins and the
// Go language host are not served here: the tier runs the program inline
// (Automation API) against the stand-in providers of tools/standin.
package pulumicli
