// Command hubsecrets makes and checks a JupyterHub secrets directory:
// the cookie secret, the proxy auth token and nginx's DH parameters.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/runner"
)

// Exit codes, the CI contract (internal/runner): 0 nothing denied, 1
// denied, 2 could not check.
const (
	exitOK      = runner.ExitOK
	exitDenied  = runner.ExitDenied
	exitFailure = runner.ExitFailure
)

// env is what a command may touch of the outside world; tests replace it.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// isTerminal reports whether w is an interactive terminal.
	isTerminal func(w io.Writer) bool
	// geteuid is the effective user id (commands that need root ask it).
	geteuid func() int
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(e *env, args []string) int
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

func main() {
	os.Exit(run(osEnv(), os.Args[1:]))
}

func osEnv() *env {
	return &env{
		stdin:      os.Stdin,
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		getenv:     os.Getenv,
		isTerminal: isTerminal,
		geteuid:    os.Geteuid,
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func run(e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitFailure
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(e.stdout)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "hubsecrets: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return exitFailure
	}
	return c.run(e, args[1:])
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage: hubsecrets COMMAND [OPTIONS]\n\n")
	b.WriteString("Make and check a JupyterHub secrets directory (/srv/jupyterhub): the cookie\n")
	b.WriteString("secret, the proxy auth token and nginx's DH parameters.\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nRun 'hubsecrets COMMAND --help' for a command's options.\n")
	io.WriteString(w, b.String())
}
