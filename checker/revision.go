package checker

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/policy"
	"github.com/hubsecrets/packer-plugin-jupyterhub/version"
)

// PolicyRevision names the policy the engine evaluates, for reports: the
// embedded policy as the tool's version plus a short digest of its modules
// (e.g. "v0.3.0+sha256:1a2b3c4d"), then, joined by " + ", each site policy
// in the order given: a bundle's manifest revision, or a digest of the Rego
// files' contents ("sha256:..."). Site data files are not part of it.
func (e *Engine) PolicyRevision() string { return e.revision }

// policyRevision is PolicyRevision of the embedded policy and the site's.
func policyRevision(site []siteSource) string {
	mods := policy.Modules()
	src := make(map[string][]byte, len(mods))
	for name, s := range mods {
		src[name] = []byte(s)
	}
	parts := []string{"v" + version.PluginVersion.SemVer().String() + "+" + digest(src)}
	for _, sp := range site {
		parts = append(parts, sp.revision)
	}
	return strings.Join(parts, " + ")
}

// digest is "sha256:" and the first 12 hex digits of the SHA-256 of the
// files' names and contents, in name order, each length-prefixed so no two
// file sets hash the same stream.
func digest(files map[string][]byte) string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%d:%s%d:", len(name), name, len(files[name]))
		h.Write(files[name])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:12]
}
