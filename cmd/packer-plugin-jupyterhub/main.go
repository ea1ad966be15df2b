// Command packer-plugin-jupyterhub is the Packer plugin that provides the
// `jupyterhub-secrets` provisioner. Packer starts it; it is not run by hand.
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/plugin"

	"github.com/hubsecrets/packer-plugin-jupyterhub/provisioner"
	"github.com/hubsecrets/packer-plugin-jupyterhub/version"
)

func main() {
	pps := plugin.NewSet()
	// Packer names components PLUGIN-NAME: "jupyterhub" + "secrets".
	pps.RegisterProvisioner("secrets", new(provisioner.Provisioner))
	pps.SetVersion(version.PluginVersion)
	if err := pps.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err.Error())
		os.Exit(1)
	}
}
