package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
)

// checkDHParamFile evaluates the policy on one DH parameters file and
// reports only what concerns that file: the same rules and words as
// 'hubsecrets check', for a file that may live anywhere.
func checkDHParamFile(ctx context.Context, e *env, file string) int {
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "hubsecrets dhparam: --check: %v\n", err)
		return exitFailure
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return fail(err)
	}
	eng, err := checker.NewEngine(ctx, checker.Options{Profile: checker.ProfileInstance})
	if err != nil {
		return fail(err)
	}
	host, err := source.OpenDir("/")
	if err != nil {
		return fail(err)
	}
	defer host.Close()
	doc, err := source.CollectDHParam(ctx, host, facts.Source{Kind: "dir", Root: "/"}, abs)
	if err != nil {
		return fail(err)
	}
	if f := doc.Files[facts.DHParam]; !f.Exists {
		return fail(fmt.Errorf("%s: no such file", file))
	}
	rep, err := eng.Evaluate(ctx, doc)
	if err != nil {
		return fail(err)
	}
	kept := rep.Findings[:0]
	for _, f := range rep.Findings {
		if f.Path == abs {
			kept = append(kept, f)
		}
	}
	rep.Findings = kept
	rep.Rules = nil // the count would include rules about other files
	rep.Sort()
	if len(rep.Findings) > 0 {
		if err := writeReport(e, "", "text", rep, false); err != nil {
			return fail(err)
		}
	}
	if len(doc.Errors) > 0 {
		return exitCode(e, doc, rep, false)
	}
	if rep.Summary.Deny > 0 {
		return exitDenied
	}
	if c := doc.Files[facts.DHParam].DH; c != nil && c.Parsed {
		desc := fmt.Sprintf("%d-bit safe prime, generator %d", c.PrimeBits, c.Generator)
		if c.Group != "" {
			desc = "the RFC 7919 " + c.Group + " group"
		}
		fmt.Fprintf(e.stdout, "%s: %s: passes\n", file, desc)
	}
	return exitOK
}
