//go:build unix

package firstboot

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// RunScript runs the installed script at scriptPath with /bin/sh, as the
// unit would, and returns what it printed (never a secret). err is non-nil
// when it could not run or exited non-zero; it then ends with the script's
// last line on stderr. Cancelling ctx sends SIGTERM to the script and what it
// started, then SIGKILL after a few seconds: either leaves each secret old or
// new, never partial.
func RunScript(ctx context.Context, scriptPath string, args ...string) (stdout, stderr []byte, err error) {
	return runShell(ctx, []string{"/bin/sh"}, nil, scriptPath, args...)
}

// runShell runs scriptPath with shell (the command and its leading
// arguments) in its own process group; env nil means the current one.
func runShell(ctx context.Context, shell, env []string, scriptPath string, args ...string) (stdout, stderr []byte, err error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, shell[0], append(append(shell[1:len(shell):len(shell)], scriptPath), args...)...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg != "" {
			err = fmt.Errorf("%s: %w: %s", scriptPath, err, msg)
		} else {
			err = fmt.Errorf("%s: %w", scriptPath, err)
		}
	}
	return out.Bytes(), errb.Bytes(), err
}
