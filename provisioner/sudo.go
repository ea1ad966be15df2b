package provisioner

import (
	"errors"
	"fmt"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/sudo"
)

// sudoError turns sudo's complaints (internal/sudo reads them) into what to
// change in the image or the template. The commands run as root: a user
// other than root goes through sudo -n, with use_sudo or without.
func sudoError(res *result, user string) error {
	switch sudo.Parse(res.stderr.String() + res.stdout.String()) {
	case sudo.Password:
		return fmt.Errorf("the commands run as root through sudo -n, which needs passwordless sudo for %q: sudo asked for a password. Add %q to a file in /etc/sudoers.d/ of the image, or connect as root", user, sudo.NoPasswdRule(user))
	case sudo.TTY:
		return fmt.Errorf("sudo -n: sudo requires a terminal for %q (Defaults requiretty): add %q to a file in /etc/sudoers.d/ of the image, or connect as root", user, sudo.NoRequireTTYRule(user))
	case sudo.Missing:
		return errors.New("the commands run as root, and the SSH user is not root: sudo is not installed on the target; install it first or connect as root")
	case sudo.Denied:
		return fmt.Errorf("sudo -n: %q may not run sh as root through sudo; allow it in /etc/sudoers.d/ or connect as root", user)
	}
	return nil
}
