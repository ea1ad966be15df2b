package source

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// firstbootReadLimit bounds the read of a first-boot file for its digest.
// The installed script is about 17 KiB; a larger file is not the one
// hubsecrets installs, and gets no digest.
const firstbootReadLimit = 256 << 10

// firstbootDigested are the FirstBoot keys whose content is digested: the
// code and configuration root runs at boot. None is a secret.
var firstbootDigested = []string{facts.FirstBootScript, facts.FirstBootUnit, facts.FirstBootDropIn}

// firstbootPaths are what the first-boot observations stat and read beyond
// the payload's files, for the sources that plan their reads (tar, remote).
func firstbootPaths(hubUnit string) (stat []string, read map[string]int64) {
	read = map[string]int64{}
	for _, p := range []string{layout.ScriptPath, layout.UnitPath, layout.DropInPath(hubUnit)} {
		read[p] = firstbootReadLimit + 1
	}
	stat = append(stat, layout.ScriptDirs()...)
	return stat, read
}

// firstbootDigests sets SHA256 on the first-boot files that are regular
// files of at most firstbootReadLimit bytes.
func (c *collector) firstbootDigests() {
	for _, key := range firstbootDigested {
		f := c.doc.FirstBoot[key]
		if !f.Exists || f.Type != facts.TypeFile || f.Error != "" || f.Size > firstbootReadLimit {
			continue
		}
		b, err := c.fs.ReadPrefix(f.Path, firstbootReadLimit+1)
		switch {
		case err != nil:
			f.Error = c.fail(f.Path, err)
		case len(b) <= firstbootReadLimit:
			sum := sha256.Sum256(b)
			f.SHA256 = hex.EncodeToString(sum[:])
		}
		c.doc.FirstBoot[key] = f
	}
}

// firstbootDirs observes the script's directory and its parents below /.
// A directory's size means nothing (an archive says 0, a filesystem its
// blocks): it is reported as 0, so every source says the same.
func (c *collector) firstbootDirs() []facts.File {
	dirs := []facts.File{}
	for _, d := range layout.ScriptDirs() {
		f := c.stat(d)
		if f.Type == facts.TypeDir {
			f.Size = 0
		}
		dirs = append(dirs, f)
	}
	return dirs
}
