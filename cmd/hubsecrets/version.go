package main

import (
	"fmt"

	"github.com/hubsecrets/packer-plugin-jupyterhub/version"
)

func init() {
	register(command{name: "version", summary: "print the version", run: func(e *env, args []string) int {
		fmt.Fprintf(e.stdout, "hubsecrets %s\n", version.PluginVersion.FormattedVersion())
		return exitOK
	}})
}
