// Package version holds the version of the plugin and the CLI.
package version

import "github.com/hashicorp/packer-plugin-sdk/version"

var (
	// Version is the release version, set at build time by goreleaser.
	Version = "0.1.0"
	// VersionPrerelease is "dev" for local builds, empty for releases.
	VersionPrerelease = "dev"
	// VersionMetadata is optional build metadata.
	VersionMetadata = ""

	// PluginVersion is the version the Packer plugin reports.
	PluginVersion = version.NewPluginVersion(Version, VersionPrerelease, VersionMetadata)
)
