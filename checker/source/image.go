package source

import (
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// identityFiles are what imageIdentity stats (nothing is read), for the
// sources that plan their reads.
var identityFiles = []string{layout.DBusMachineIDPath, layout.CloudInstanceIDPath, layout.CloudInstanceLinkPath}

// imageIdentity observes what clones of an image would share besides
// /etc/machine-id.
func (c *collector) imageIdentity() facts.ImageIdentity {
	return facts.ImageIdentity{
		DBusMachineID:     c.stat(layout.DBusMachineIDPath),
		CloudInstanceID:   c.stat(layout.CloudInstanceIDPath),
		CloudInstanceLink: c.stat(layout.CloudInstanceLinkPath),
	}
}
