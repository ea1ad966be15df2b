// Package sudo reads sudo's refusals in a command's output. Every front end
// that runs a command through `sudo -n` (the SSH source, the provisioner's
// use_sudo) asks it why sudo would not run the command, and words the fix
// for its own users; the parsing exists only here.
package sudo

import "strings"

// Refusal is why sudo did not run the command.
type Refusal int

const (
	// None: the output holds no refusal sudo is known to print.
	None Refusal = iota
	// Password: sudo wanted a password (`-n`, or no terminal to ask on).
	Password
	// TTY: sudoers has `Defaults requiretty` and the command had no terminal.
	TTY
	// Missing: there is no sudo on the target.
	Missing
	// Denied: the user may not run the command as root through sudo.
	Denied
)

// complaints are what sudo (and a shell that cannot find it) print, by
// refusal, checked in this order: sudo's "a terminal is required to read
// the password" is a password refusal, not requiretty's "you must have a
// tty".
var complaints = []struct {
	refusal Refusal
	says    []string
}{
	{Password, []string{"a password is required", "a terminal is required", "no tty present"}},
	{TTY, []string{"you must have a tty"}},
	{Missing, []string{"sudo: not found", "sudo: command not found"}},
	{Denied, []string{"is not in the sudoers file", "is not allowed to execute", "may not run sudo"}},
}

// Parse returns the refusal that output (a command's standard error, or
// its whole output) reports, or None.
func Parse(output string) Refusal {
	for _, c := range complaints {
		for _, s := range c.says {
			if strings.Contains(output, s) {
				return c.refusal
			}
		}
	}
	return None
}

// NoPasswdRule is the sudoers line that lets user run anything as root
// without a password, for a fix to quote.
func NoPasswdRule(user string) string { return user + " ALL=(ALL) NOPASSWD: ALL" }

// NoRequireTTYRule is the sudoers line that lifts requiretty for user.
func NoRequireTTYRule(user string) string { return "Defaults:" + user + " !requiretty" }
