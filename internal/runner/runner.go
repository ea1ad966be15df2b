// Package runner is one check, from sources to an exit code and a report:
// it collects a facts document from each source (at most N at a time),
// evaluates each with a checker.Engine, decides each source's verdict and
// the run's, and writes the reports in a format, to a writer or atomically
// to a file.
//
// Front ends are flags and wiring around it: `hubsecrets check` (and
// `init`, `dhparam --check` through it) and the Packer provisioner's
// verification build their sources, call Run, and print what it returns.
// The verdict, the exit codes and the report writing exist only here.
package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
)

// Source is one root to check.
type Source struct {
	// Label names the source in messages: empty for a lone local source
	// (its errors name the flag at fault), "host user@name" for a host.
	Label string
	// Host, Root and Kind name the source in its report when it gives no
	// document (a host that could not be scanned): the report then has
	// Errors and no findings. A document names its own.
	Host, Root, Kind string
	// Collect observes the root. An error means there is no document;
	// what could not be observed of a root goes into the document's Errors.
	Collect func(ctx context.Context) (*facts.Document, error)
}

// Result is one source's outcome: a document and its report, or Err, why
// there is none. Report is set either way, its Errors holding Problems.
type Result struct {
	Source Source
	Doc    *facts.Document
	Report report.Report
	Err    error
}

// Run collects and evaluates every source, at most parallel at a time (one
// when parallel is less); the results keep the sources' order. One source
// failing does not stop the others. Once ctx is done, a source not yet
// finished fails with "interrupted".
func Run(ctx context.Context, eng *checker.Engine, srcs []Source, parallel int) []Result {
	results := make([]Result, len(srcs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(parallel, 1), len(srcs)) {
		wg.Go(func() {
			for i := range next {
				results[i] = runOne(ctx, eng, srcs[i])
			}
		})
	}
	for i := range srcs {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

var errInterrupted = errors.New("interrupted")

func runOne(ctx context.Context, eng *checker.Engine, src Source) Result {
	res := collectOne(ctx, eng, src)
	if res.Err != nil {
		res.Report = report.Report{Profile: eng.Profile(), Root: src.Root, Host: src.Host, Kind: src.Kind, Findings: []report.Finding{}}
	}
	res.Report.Errors = res.Problems()
	return res
}

func collectOne(ctx context.Context, eng *checker.Engine, src Source) Result {
	res := Result{Source: src}
	if ctx.Err() != nil {
		res.Err = errInterrupted
		return res
	}
	doc, err := src.Collect(ctx)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			err = errInterrupted
		}
		res.Err = err
		return res
	}
	rep, err := eng.Evaluate(ctx, doc)
	if err != nil {
		res.Err = fmt.Errorf("evaluate policy: %w", err)
		return res
	}
	res.Doc, res.Report = doc, rep
	return res
}
