package sudo

import "testing"

// What sudo 1.8/1.9, dash, bash and busybox print, as seen on targets.
func TestParse(t *testing.T) {
	for _, tt := range []struct {
		out  string
		want Refusal
	}{
		{"sudo: a password is required\n", Password},
		{"sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n", Password},
		{"sudo: no tty present and no askpass program specified\n", Password},
		{"sudo: sorry, you must have a tty to run sudo\n", TTY},
		{"sh: 1: sudo: not found\n", Missing},
		{"sh: 1: exec: sudo: not found\n", Missing},
		{"sh: sudo: not found\n", Missing},
		{"bash: sudo: command not found\n", Missing},
		{"builder is not in the sudoers file.  This incident will be reported.\n", Denied},
		{"Sorry, user ops is not allowed to execute '/bin/sh -c ...' as root on hub.\n", Denied},
		{"Sorry, user ops may not run sudo on hub.\n", Denied},
		{"", None},
		{"mkdir: cannot create directory '/srv': Permission denied\n", None},
	} {
		if got := Parse(tt.out); got != tt.want {
			t.Errorf("Parse(%q) = %d, want %d", tt.out, got, tt.want)
		}
	}
}

func TestRules(t *testing.T) {
	if got := NoPasswdRule("ops"); got != "ops ALL=(ALL) NOPASSWD: ALL" {
		t.Errorf("NoPasswdRule = %q", got)
	}
	if got := NoRequireTTYRule("ops"); got != "Defaults:ops !requiretty" {
		t.Errorf("NoRequireTTYRule = %q", got)
	}
}
