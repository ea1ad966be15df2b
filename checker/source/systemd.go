package source

import (
	"path"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// What the first-boot hook needs of the root's init system: systemd itself,
// and a unit named like the hub's for the drop-in to order. Probes only: a
// path that cannot be looked at counts as absent, the other paths decide.
var (
	systemdBinaries = []string{"/usr/lib/systemd/systemd", "/lib/systemd/systemd"}
	unitDirs        = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}
)

// systemdPaths are the paths the probes look at, for the sources that plan.
func systemdPaths(hubUnit string) []string {
	out := append([]string(nil), systemdBinaries...)
	for _, d := range unitDirs {
		for _, name := range unitNames(hubUnit) {
			out = append(out, path.Join(d, name))
		}
	}
	return out
}

// unitNames are the files that can define a unit: its own, and for a
// template's instance (jupyterhub@main.service) the template's.
func unitNames(unit string) []string {
	names := []string{unit}
	if at := strings.IndexByte(unit, '@'); at > 0 {
		if dot := strings.LastIndexByte(unit, '.'); dot > at+1 {
			names = append(names, unit[:at+1]+unit[dot:])
		}
	}
	return names
}

func (c *collector) systemd(hubUnit string) facts.Systemd {
	var s facts.Systemd
	for _, p := range systemdBinaries {
		if n, err := c.fs.Lstat(p); err == nil && (n.Type == facts.TypeFile || n.Type == facts.TypeSymlink) {
			s.Present = true
			break
		}
	}
	for _, d := range unitDirs {
		for _, name := range unitNames(hubUnit) {
			if p := path.Join(d, name); s.HubUnitFile == "" {
				if n, err := c.fs.Lstat(p); err == nil && (n.Type == facts.TypeFile || n.Type == facts.TypeSymlink) {
					s.HubUnitFile = p
				}
			}
		}
	}
	return s
}
