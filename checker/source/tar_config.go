package source

// The tar source's configuration regions: what the scan keeps so that
// configuration files can be read following symlinks (see config.go), /etc
// and nginx's directory whole, DH parameters files anywhere, within a
// budget; and how those regions are listed.

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/hubconfig"
)

// configBudget bounds the content kept for configuration and DH
// files; configEntries the members kept in the configuration regions.
const (
	configBudget  = 16 << 20
	configEntries = 16384
)

// The PEM starts of DH parameters files (PKCS#3 and X9.42).
const (
	dhPEMStart  = "-----BEGIN DH PARAMETERS-----"
	dhX942Start = "-----BEGIN X9.42 DH PARAMETERS-----"
)

func looksLikeDH(b []byte) bool {
	return bytes.HasPrefix(b, []byte(dhPEMStart)) || bytes.HasPrefix(b, []byte(dhX942Start))
}

// inRegion says whether p lies in a configuration region.
func (t *tarFS) inRegion(p string) bool {
	for _, r := range t.regions {
		if under(p, r) {
			return true
		}
	}
	return false
}

// under says whether p is dir or lies below it.
func under(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// trackConfig returns the entry keeping member name when the configuration
// regions want it: its header, and the content of nginx's files and of
// /etc's *.conf files.
func (t *tarFS) trackConfig(name string, hdr *tar.Header) *tarEntry {
	if !t.inRegion(name) {
		return nil
	}
	var limit, size int64
	if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeCont || hdr.Typeflag == tar.TypeLink {
		if under(name, t.nginxDir) || strings.HasSuffix(name, ".conf") {
			limit, size = hubconfig.MaxFileSize+1, hdr.Size
		}
	}
	return t.keepConfig(name, limit, size)
}

// keepConfig returns the configuration entry for p, making one with the
// given content limit when the budget allows (size is what its content
// may cost).
func (t *tarFS) keepConfig(p string, limit, size int64) *tarEntry {
	e := t.cfg[p]
	if e != nil {
		limit = max(e.limit, limit)
	}
	// A later member of the same name may hold more than the first: the
	// budget is charged what p may hold at most, however many times it
	// comes.
	cost := min(max(size, 0), limit)
	extra := max(cost-t.cfgCost[p], 0)
	if e == nil && len(t.cfg) >= configEntries || t.cfgBytes+extra > configBudget {
		t.cfgDropped = true
		if e != nil {
			// What it held is not the archive's last word on p.
			e.set(tarState{err: fmt.Errorf("%s: the archive holds more configuration than the tar source keeps (%d MiB); extract it and use --root", p, configBudget>>20)})
		}
		return nil
	}
	t.cfgBytes += extra
	if t.cfgCost == nil {
		t.cfgCost = map[string]int64{}
	}
	t.cfgCost[p] += extra
	if e == nil {
		e = &tarEntry{}
		t.cfg[p] = e
	}
	e.limit = limit
	return e
}

// keepDH keeps a DH parameters file found anywhere, and its ancestors as
// directories, so that an ssl_dhparam path can be followed to it.
func (t *tarFS) keepDH(p string, size int64) *tarEntry {
	e := t.keepConfig(p, dhparamReadLimit+1, size)
	if e == nil {
		return nil
	}
	for a := path.Dir(p); a != "/"; a = path.Dir(a) {
		if t.kept(a) != nil {
			continue
		}
		if ae := t.keepConfig(a, 0, 0); ae != nil {
			ae.implied = true
		}
	}
	return e
}

// impliedDir implements impliedDirs: p is a directory because members lie
// below it, though none describes it.
func (t *tarFS) impliedDir(p string) bool {
	if p == "/" {
		return true
	}
	e := t.kept(p)
	return e != nil && !e.seen && e.implied
}

// readConfigDir lists a directory of a configuration region.
func (t *tarFS) readConfigDir(p string) ([]string, error) {
	if !t.inRegion(p) {
		return nil, fmt.Errorf("%s: not listed from the archive", p)
	}
	if t.cfgDropped {
		return nil, fmt.Errorf("%s: not listed from the archive: it holds more configuration than the tar source keeps (%d members, %d MiB); extract it and use --root", p, configEntries, configBudget>>20)
	}
	if !t.impliedDir(p) {
		n, err := t.Lstat(p)
		if err != nil {
			return nil, err
		}
		if n.Type != facts.TypeDir {
			return nil, fmt.Errorf("%s: not a directory", p)
		}
	}
	seen := map[string]bool{}
	var names []string
	for _, m := range []map[string]*tarEntry{t.cfg, t.paths} {
		for q, e := range m {
			if path.Dir(q) == p && q != p && (e.seen || e.implied) && !seen[q] {
				seen[q] = true
				names = append(names, path.Base(q))
			}
		}
	}
	sort.Strings(names)
	return names, nil
}
