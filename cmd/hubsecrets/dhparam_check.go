package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/report"
)

// dhCheck is what --check needs besides the file.
type dhCheck struct {
	dir  string   // the secrets directory on this host
	data []string // --data files
}

// checkDHParamFile asks the policy about one DH parameters file (or
// standard input, "-"). The parameters themselves are judged: prime, safe
// prime, size against the min_dh_bits in force, generator, known weak and
// standard groups. The file's owner and mode are judged only when it is
// this host's configured dhparam.pem (DIR/dhparam.pem); otherwise they are
// shown for information. No fix proposed here removes or overwrites what
// is not DH parameters, nor a symbolic link's target.
func checkDHParamFile(ctx context.Context, e *env, file string, opt dhCheck) int {
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "hubsecrets dhparam: --check: %v\n", err)
		return exitFailure
	}
	eng, err := checker.NewEngine(ctx, checker.Options{Profile: checker.ProfileInstance, DataFiles: opt.data})
	if err != nil {
		return fail(err)
	}
	host, err := source.OpenDir("/")
	if err != nil {
		return fail(err)
	}
	defer host.Close()
	// This host's own document: its contract sets the parameters in force,
	// and its dhparam.pem is the configured one.
	hostDoc, err := source.Collect(ctx, host, facts.Source{Kind: "dir", Root: "/"}, source.Options{Dir: opt.dir})
	if err != nil {
		return fail(fmt.Errorf("--dir: %w", err))
	}
	prm, err := eng.Params(ctx, hostDoc)
	if err != nil {
		return fail(err)
	}
	configured := filepath.Join(opt.dir, layout.DHParamFile)

	var (
		data  []byte
		label = file
		path  = "/dev/stdin"
		info  string
		link  bool
	)
	if file == "-" {
		label = "(standard input)"
		data, err = io.ReadAll(io.LimitReader(e.stdin, dhparam.MaxInput+1))
		if err != nil {
			return fail(fmt.Errorf("read standard input: %w", err))
		}
	} else {
		if path, err = filepath.Abs(file); err != nil {
			return fail(err)
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return fail(err)
		}
		link = fi.Mode()&fs.ModeSymlink != 0
		if path == configured && !link {
			return checkConfigured(ctx, e, eng, hostDoc, file)
		}
		target, err := os.Stat(path)
		switch {
		case err != nil:
			return fail(err)
		case !target.Mode().IsRegular():
			return fail(fmt.Errorf("%s is not a regular file (%s): no DH parameters to check", file, target.Mode().Type()))
		}
		if data, err = readRegular(path, dhparam.MaxInput+1); err != nil {
			return fail(err)
		}
		info = fileInfo(file, fi, target, link)
	}
	doc := source.DHParamDocument(data, path, prm)
	doc.Standalone = &facts.Standalone{Link: link}
	rep, err := eng.Evaluate(ctx, doc)
	if err != nil {
		return fail(err)
	}
	rep.Findings = only(rep.Findings, path)
	rep.Rules = nil // the count would include rules about other files
	rep.Sort()
	if info != "" {
		fmt.Fprintln(e.stdout, info)
	}
	if len(rep.Findings) > 0 {
		for i := range rep.Findings {
			rep.Findings[i].Path = label
		}
		if err := writeReport(e, "", "text", rep, false); err != nil {
			return fail(err)
		}
	}
	if rep.Summary.Deny > 0 {
		return exitDenied
	}
	printPasses(e, label, doc)
	return exitOK
}

// checkConfigured judges this host's own dhparam.pem as `hubsecrets check`
// does: its parameters, owner and mode.
func checkConfigured(ctx context.Context, e *env, eng *checker.Engine, doc *facts.Document, file string) int {
	rep, err := eng.Evaluate(ctx, doc)
	if err != nil {
		fmt.Fprintf(e.stderr, "hubsecrets dhparam: --check: %v\n", err)
		return exitFailure
	}
	p := doc.Files[facts.DHParam].Path
	rep.Findings = only(rep.Findings, p)
	rep.Rules = nil
	rep.Sort()
	if len(rep.Findings) > 0 {
		if err := writeReport(e, "", "text", rep, false); err != nil {
			fmt.Fprintf(e.stderr, "hubsecrets dhparam: --check: %v\n", err)
			return exitFailure
		}
	}
	if f := doc.Files[facts.DHParam]; f.Error != "" {
		fmt.Fprintf(e.stderr, "hubsecrets dhparam: --check: could not check %s: %s\n", p, f.Error)
		return exitFailure
	}
	if rep.Summary.Deny > 0 {
		return exitDenied
	}
	printPasses(e, file, doc)
	return exitOK
}

func only(fs []report.Finding, path string) []report.Finding {
	var kept []report.Finding
	for _, f := range fs {
		if f.Path == path {
			kept = append(kept, f)
		}
	}
	return kept
}

func printPasses(e *env, label string, doc *facts.Document) {
	c := doc.Files[facts.DHParam].DH
	if c == nil || !c.Parsed {
		return
	}
	desc := fmt.Sprintf("%d-bit safe prime, generator %d", c.PrimeBits, c.Generator)
	if c.Group != "" {
		desc = "the RFC 7919 " + c.Group + " group"
	}
	fmt.Fprintf(e.stdout, "%s: %s: passes\n", label, desc)
}

// fileInfo says what the file is, for information: its owner and mode are
// not judged when it is not the configured dhparam.pem.
func fileInfo(name string, fi, target fs.FileInfo, link bool) string {
	st, _ := target.Sys().(*syscall.Stat_t)
	owner := ""
	if st != nil {
		owner = fmt.Sprintf(", owner uid %d gid %d", st.Uid, st.Gid)
	}
	s := fmt.Sprintf("%s: mode %04o%s (not judged: not this host's configured dhparam.pem)", name, target.Mode().Perm(), owner)
	if link {
		s = fmt.Sprintf("%s: a symbolic link; its target has mode %04o%s (not judged: not this host's configured dhparam.pem)", name, target.Mode().Perm(), owner)
	}
	return s
}

// readRegular reads at most n bytes of a regular file (following links),
// refusing anything else without blocking on it.
func readRegular(p string, n int64) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New(p + ": not a regular file")
	}
	return io.ReadAll(io.LimitReader(f, n))
}
