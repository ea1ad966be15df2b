package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

var (
	engineOnce sync.Once
	engine     *checker.Engine
	engineErr  error
)

// instanceEngine is the embedded policy, instance profile, compiled once.
func instanceEngine(t *testing.T) *checker.Engine {
	t.Helper()
	engineOnce.Do(func() {
		engine, engineErr = checker.NewEngine(context.Background(), checker.Options{Profile: checker.ProfileInstance})
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

// collectTree is the facts document of tr, as `check --root` collects it.
func collectTree(t *testing.T, tr *testtree.Tree) *facts.Document {
	t.Helper()
	fsys, err := source.OpenDir(tr.Root)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	doc, err := source.Collect(context.Background(), fsys, facts.Source{Kind: "dir", Root: tr.Root}, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func fixed(label string, doc *facts.Document, err error) Source {
	return Source{Label: label, Collect: func(context.Context) (*facts.Document, error) { return doc, err }}
}

// Results keep the sources' order, at most parallel collect at once, and
// one failing source neither stops the others nor hides its reason.
func TestRunOrderParallelismAndFailures(t *testing.T) {
	eng := instanceEngine(t)
	good, bad := collectTree(t, testtree.Correct(t)), collectTree(t, testtree.Tutorial(t))
	var running, most atomic.Int32
	slow := func(label string, doc *facts.Document, err error) Source {
		return Source{Label: label, Host: "h" + strings.Fields(label)[1], Collect: func(context.Context) (*facts.Document, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			return doc, err
		}}
	}
	var srcs []Source
	for i := range 7 {
		switch i % 3 {
		case 0:
			srcs = append(srcs, slow(fmt.Sprint("good ", i), good, nil))
		case 1:
			srcs = append(srcs, slow(fmt.Sprint("bad ", i), bad, nil))
		default:
			srcs = append(srcs, slow(fmt.Sprint("down ", i), nil, fmt.Errorf("cannot connect %d", i)))
		}
	}
	results := Run(context.Background(), eng, srcs, 2)
	if got := most.Load(); got != 2 {
		t.Errorf("%d sources collected at once, want at most (and here exactly) 2", got)
	}
	if len(results) != len(srcs) {
		t.Fatalf("%d results for %d sources", len(results), len(srcs))
	}
	for i, r := range results {
		if r.Source.Label != srcs[i].Label {
			t.Errorf("result %d is %q, want %q: results keep the sources' order", i, r.Source.Label, srcs[i].Label)
		}
		want := map[int]int{0: ExitOK, 1: ExitDenied, 2: ExitFailure}[i%3]
		if got := r.Code(false); got != want {
			t.Errorf("%s: code %d, want %d", r.Source.Label, got, want)
		}
	}
	if p := results[2].Problems(); len(p) != 1 || p[0] != "cannot connect 2" {
		t.Errorf("problems of a failed source: %q", p)
	}
	if Code(results, false) != ExitFailure || Failed(results) != 2 || len(Reports(results)) != 7 {
		t.Errorf("run: code %d, %d failed, %d reports; want 2, 2, 7", Code(results, false), Failed(results), len(Reports(results)))
	}
	// Every source has a report; one that could not be scanned says why,
	// with its name and no findings, never as a pass.
	for i, rep := range Reports(results) {
		down := i%3 == 2
		if got := len(rep.Errors) > 0; got != down {
			t.Errorf("report %d: errors %q, want errors %v", i, rep.Errors, down)
		}
		if down && (rep.Profile != "instance" || rep.Host != fmt.Sprint("h", i) || len(rep.Findings) != 0 ||
			rep.Errors[0] != fmt.Sprintf("cannot connect %d", i)) {
			t.Errorf("report of an unscanned source: %+v", rep)
		}
	}
	if r := Run(context.Background(), eng, srcs[:1], 0); len(r) != 1 || r[0].Code(false) != ExitOK {
		t.Errorf("parallel 0 runs one at a time: %+v", r)
	}
}

// Once interrupted, no source passes: those not started fail, and one
// that fails because of the interruption says so.
func TestRunInterrupted(t *testing.T) {
	eng := instanceEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	srcs := []Source{
		{Label: "stopped", Collect: func(ctx context.Context) (*facts.Document, error) {
			close(started)
			<-ctx.Done()
			return nil, fmt.Errorf("read: %w", ctx.Err())
		}},
		fixed("never started", collectTree(t, testtree.Correct(t)), nil),
	}
	go func() { <-started; cancel() }()
	for _, r := range Run(ctx, eng, srcs, 1) {
		if r.Code(false) != ExitFailure || !errors.Is(r.Err, errInterrupted) {
			t.Errorf("%s: code %d, err %v; want 2, interrupted", r.Source.Label, r.Code(false), r.Err)
		}
	}
}

// A document the policy cannot judge is an error, not a pass.
func TestRunEvaluateError(t *testing.T) {
	r := Run(context.Background(), instanceEngine(t), []Source{fixed("", &facts.Document{}, nil)}, 1)[0]
	if r.Code(false) != ExitFailure || r.Err == nil || !strings.HasPrefix(r.Err.Error(), "evaluate policy: ") {
		t.Errorf("code %d, err %v", r.Code(false), r.Err)
	}
}
