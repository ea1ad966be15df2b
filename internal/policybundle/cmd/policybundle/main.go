// Command policybundle writes the OPA bundle of hubsecrets' policy, as the
// release pipeline ships it:
//
//	go run ./internal/policybundle/cmd/policybundle -version v0.3.0 -output dist/hubsecrets-policy.tar.gz
//
// The output is replaced atomically: a reader sees the old file or the whole
// new bundle.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/atomicfile"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/policybundle"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "policybundle:", err)
		os.Exit(2)
	}
}

func run(args []string, stderr io.Writer) error {
	fl := flag.NewFlagSet("policybundle", flag.ContinueOnError)
	fl.SetOutput(stderr)
	version := fl.String("version", "", "the bundle's revision: the release version, e.g. v0.3.0 (required)")
	output := fl.String("output", "", "the bundle file to write, e.g. dist/hubsecrets-policy.tar.gz (required)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	switch {
	case fl.NArg() > 0:
		return fmt.Errorf("unexpected argument %q: usage: policybundle -version V -output FILE", fl.Arg(0))
	case *version == "":
		return errors.New("-version is required: the release version, e.g. -version v0.3.0")
	case *output == "":
		return errors.New("-output is required: the bundle file to write, e.g. -output dist/hubsecrets-policy.tar.gz")
	}
	var buf bytes.Buffer
	if err := policybundle.Build(&buf, *version); err != nil {
		return err
	}
	// A public artifact: world-readable, owned by whoever builds it.
	return atomicfile.Write(*output, buf.Bytes(), atomicfile.Options{Perm: 0o644, UID: -1, GID: -1})
}
