package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns a flag set that writes its usage to e.stderr (or
// e.stdout for --help) and never exits the process.
//
// usageLine is the first line ("hubsecrets check [options]"), about the text
// after it, before the options.
func newFlagSet(e *env, usageLine, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(usageLine, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n\nOptions:\n", usageLine, strings.TrimSpace(about))
		fs.VisitAll(func(f *flag.Flag) {
			name, use := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  --%s", f.Name)
			if name != "" {
				fmt.Fprintf(w, " %s", name)
			}
			fmt.Fprintf(w, "\n        %s", use)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(w)
		})
	}
	return fs
}

// parseFlags parses args. It returns (exit code, true) when the command must
// stop: 0 after --help (usage on stdout), 2 after a usage error (on stderr).
func parseFlags(e *env, fs *flag.FlagSet, args []string) (int, bool) {
	err := fs.Parse(args)
	if err == nil {
		return 0, false
	}
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(e.stdout)
		fs.Usage()
		return exitOK, true
	}
	fmt.Fprintf(e.stderr, "%s: %v\nRun with --help for the options.\n", commandName(fs), err)
	return exitFailure, true
}

// commandName is "hubsecrets check" from a usage line.
func commandName(fs *flag.FlagSet) string {
	f := strings.Fields(fs.Name())
	if len(f) >= 2 {
		return f[0] + " " + f[1]
	}
	return fs.Name()
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// usageError prints a usage error naming the command and returns exit 2.
func usageError(e *env, fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(e.stderr, "%s: %s\nRun with --help for the options.\n", commandName(fs), fmt.Sprintf(format, a...))
	return exitFailure
}
