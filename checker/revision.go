package checker

import "github.com/hubsecrets/packer-plugin-jupyterhub/version"

// PolicyRevision names the revision of the embedded policy the engine
// evaluates, for reports: the tool's version, which the policy ships with.
func (e *Engine) PolicyRevision() string { return version.Version }
