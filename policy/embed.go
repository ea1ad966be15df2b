// Package policy holds hubsecrets' Rego policy: package hubsecrets, whose
// deny and warn rules judge a facts document (see checker/facts), and the
// Rego tests next to it. The files are embedded so the CLI and the Packer
// plugin need nothing on disk; `opa test policy/` runs the same tests.
package policy

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

//go:embed *.rego
var files embed.FS

// Origin prefixes the names of the embedded files in parse and compile errors
// and in module maps, so they never collide with a user's policy paths.
const Origin = "hubsecrets-policy/"

// Modules returns the policy's modules, without the tests, as source keyed
// by Origin plus the file name.
func Modules() map[string]string { return read(false) }

// Tests returns the Rego test modules (*_test.rego), keyed like Modules.
func Tests() map[string]string { return read(true) }

func read(tests bool) map[string]string {
	names, err := fs.Glob(files, "*.rego")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	out := make(map[string]string, len(names))
	for _, name := range names {
		if IsTest(name) != tests {
			continue
		}
		b, err := files.ReadFile(name)
		if err != nil {
			panic(err) // embedded files are always readable
		}
		out[Origin+name] = string(b)
	}
	return out
}

// IsTest reports whether a Rego file name is a test module, as opa test
// decides it: the name ends in _test.rego.
func IsTest(name string) bool {
	return strings.HasSuffix(path.Base(name), "_test.rego")
}
