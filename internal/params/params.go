// Package params holds the policy's parameters as Go sees them: the values
// the Rego policy (policy/params.rego) puts in force, read back from the
// engine (checker.Engine.Params), never decided here. Every part that makes
// or installs something (the first-boot script, init, the provisioner) takes
// its owner, modes and sizes from a Params, so what it makes is what the
// policy accepts.
package params

import (
	"errors"
	"fmt"
	"strconv"
)

// Params are the parameters in force. The JSON names are the policy's.
type Params struct {
	// Owner and Group own the secrets and dhparam.pem.
	Owner string `json:"owner"`
	Group string `json:"group"`
	// DirOwner owns the secrets directory.
	DirOwner string `json:"dir_owner"`
	// SecretModes and DHParamModes are octal strings ("0600").
	SecretModes    []string `json:"secret_modes"`
	AllowGroupRead bool     `json:"allow_group_read"`
	DHParamModes   []string `json:"dhparam_modes"`
	MinDHBits      int      `json:"min_dh_bits"`
	SecretBytes    int      `json:"secret_bytes"`
	// RequireFirstboot is null (nil), true or false.
	RequireFirstboot *bool `json:"require_firstboot"`

	// Derived by the policy, not written to a contract.

	// AllowedSecretModes are every mode the policy accepts for a secret,
	// the one fixes use (and parts make) first.
	AllowedSecretModes []int `json:"-"`
	// AllowedDHParamModes likewise for dhparam.pem.
	AllowedDHParamModes []int `json:"-"`
	// The policy's thresholds for an easy-to-guess hex secret (HUB036): a
	// pattern of at most QualityMaxPeriod digits repeated, a run of
	// QualityMinRun digits counting up or down, fewer than
	// QualityMinDistinct distinct digits among 32 or more.
	QualityMaxPeriod, QualityMinRun, QualityMinDistinct int `json:"-"`
}

// SecretMode is the mode parts give the secrets they make: the first the
// policy accepts.
func (p Params) SecretMode() int { return first(p.AllowedSecretModes) }

// DHParamMode is the mode parts give dhparam.pem.
func (p Params) DHParamMode() int { return first(p.AllowedDHParamModes) }

func first(m []int) int {
	if len(m) == 0 {
		return 0
	}
	return m[0]
}

// Validate checks that p came from the engine whole: something to make and
// the derived lists filled. It judges nothing the policy judges.
func (p Params) Validate() error {
	switch {
	case p.Owner == "" || p.Group == "" || p.DirOwner == "":
		return errors.New("params: owner, group and dir_owner must be set (ask checker.Engine.Params)")
	case len(p.AllowedSecretModes) == 0 || len(p.AllowedDHParamModes) == 0:
		return errors.New("params: the allowed modes are not set (ask checker.Engine.Params)")
	case p.SecretBytes <= 0:
		return errors.New("params: secret_bytes must be set (ask checker.Engine.Params)")
	case p.QualityMaxPeriod <= 0 || p.QualityMinRun <= 0 || p.QualityMinDistinct <= 0:
		return errors.New("params: the quality thresholds are not set (ask checker.Engine.Params)")
	}
	return nil
}

// ParseMode reads an octal mode string such as "0600".
func ParseMode(s string) (int, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("mode %q: want octal digits such as 0600", s)
	}
	return int(m), nil
}

// ModeText shows a mode as chmod takes it, e.g. "0600".
func ModeText(m int) string { return fmt.Sprintf("%04o", m) }
