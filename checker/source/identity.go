package source

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
)

// The instance identity, observed as the first-boot script observes it:
// the same sources in the same order, skipped for the same reasons, hashed
// the same way. Only a running system shows it (its /run and /sys): in an
// archive or a mounted disk the sources a boot sees are gone.

const (
	stampReadLimit     = 128
	idReadLimit        = 4 << 10
	mountInfoReadLimit = 1 << 20
)

// identityPaths are what the identity observation stats and reads, for the
// sources that plan their reads (tar, remote).
func identityPaths() (stat []string, read map[string]int64) {
	read = map[string]int64{}
	for _, s := range firstboot.DefaultIdentitySources {
		stat = append(stat, s.Path)
		read[s.Path] = idReadLimit
	}
	stat = append(stat, firstboot.DefaultCloudInitRunDir, firstboot.DefaultMountInfo)
	stat = append(stat, firstboot.DefaultContainerMarkers...)
	read[firstboot.DefaultMountInfo] = mountInfoReadLimit
	return stat, read
}

// instance observes the identity and the stamp beside the secrets. live
// says whether the root is a running system, where the identity means
// something.
func (c *collector) instance(stampPath string, live bool) facts.Instance {
	in := facts.Instance{Live: live, Skipped: []string{}, Stamp: facts.StampAbsent}
	recorded, state := c.readStamp(stampPath)
	in.Stamp = state
	if !live {
		return in
	}
	for _, s := range firstboot.DefaultIdentitySources {
		id, why, ok := c.identityFrom(s)
		if why != "" {
			in.Skipped = append(in.Skipped, fmt.Sprintf("%s: %s", s.Path, why))
		}
		if !ok {
			continue
		}
		in.Source = s.Path
		if state == facts.StampPresent {
			// What the script writes: sha256sum of the id and a newline.
			sum := sha256.Sum256([]byte(id + "\n"))
			if hex.EncodeToString(sum[:]) == recorded {
				in.Stamp = facts.StampMatches
			} else {
				in.Stamp = facts.StampDiffers
			}
		}
		break
	}
	return in
}

// readStamp reads the stamp's first line (a hash, not a secret).
func (c *collector) readStamp(p string) (string, string) {
	n, err := c.lstatNode(p)
	switch {
	case isNotExist(err):
		return "", facts.StampAbsent
	case err != nil || n.Type != facts.TypeFile:
		return "", facts.StampUnreadable
	}
	b, err := c.readPrefix(p, stampReadLimit)
	if err != nil {
		return "", facts.StampUnreadable
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	s := strings.TrimSpace(string(line))
	if s == "" {
		// An empty record counts as none, as the script reads it.
		return "", facts.StampAbsent
	}
	return s, facts.StampPresent
}

// identityFrom reads one identity source as the script does; why says why
// a source holding an id was skipped.
func (c *collector) identityFrom(s firstboot.IdentitySource) (id, why string, ok bool) {
	n, err := c.lstatNode(s.Path)
	if err != nil {
		if !isNotExist(err) {
			c.fail(s.Path, err)
		}
		return "", "", false
	}
	// Sources are regular files. (The script's [ -f ] would follow a final
	// symlink; no source is one on the systems hubsecrets knows.)
	if n.Type != facts.TypeFile {
		return "", "", false
	}
	switch s.Kind {
	case firstboot.IDCloudInitData:
		if d, err := c.lstatNode(firstboot.DefaultCloudInitRunDir); err != nil || d.Type != facts.TypeDir {
			return "", "cloud-init did not run on this boot", false
		}
	case firstboot.IDDMI:
		for _, m := range firstboot.DefaultContainerMarkers {
			if _, err := c.lstatNode(m); err == nil {
				return "", "a container sees its host's", false
			}
		}
	case firstboot.IDMachineID:
		if c.mounted(s.Path) {
			return "", "made for this boot only (a read-only root)", false
		}
	}
	b, err := c.readPrefix(s.Path, idReadLimit)
	if err != nil {
		c.fail(s.Path, err)
		return "", "", false
	}
	id = firstLine(b)
	switch id {
	case "", "uninitialized", "iid-datasource-none":
		return "", "", false
	}
	if s.Kind == firstboot.IDDMI && unsetDMI(id) {
		return "", "", false
	}
	return id, "", true
}

// firstLine is what sh's read -r leaves of the first line with the default
// IFS: surrounding spaces, tabs (and the newline) trimmed.
func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return strings.Trim(string(line), " \t")
}

// unsetDMI: the product UUIDs firmware leaves unset, the same everywhere.
func unsetDMI(id string) bool {
	switch strings.ToLower(id) {
	case "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "03000200-0400-0500-0006-000700080009":
		return true
	}
	return false
}

// mounted says whether p is a mount point in the root's mount table.
func (c *collector) mounted(p string) bool {
	b, err := c.readPrefix(firstboot.DefaultMountInfo, mountInfoReadLimit)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 5 && f[4] == p {
			return true
		}
	}
	return false
}

// lstatNode is lstat without the resolved path.
func (c *collector) lstatNode(p string) (Node, error) {
	n, _, err := c.lstat(p)
	return n, err
}
