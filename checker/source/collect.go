package source

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/hubconfig"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/contract"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// Read limits: enough for any sane secret or DH parameters file, small
// enough that a hostile or huge file costs nothing.
const (
	secretReadLimit  = layout.MaxSecretSize
	dhparamReadLimit = 64 << 10
	accountReadLimit = 4 << 20
	maxUnexpected    = 100
)

// Options say what to look at inside the root.
type Options struct {
	// Dir is the secrets directory inside the root (default layout.DefaultDir).
	Dir string
	// HubUnit is the hub's systemd unit (default layout.DefaultHubUnit).
	HubUnit string
	// HubConfig is the hub's jupyterhub_config.py inside the root (default
	// DefaultHubConfig); read when it exists.
	HubConfig string
	// NginxConfig is nginx's main configuration file inside the root
	// (default DefaultNginxConfig); read, with its includes, when it exists.
	NginxConfig string
	// Live says the root is a running system whatever the source: its
	// instance identity is observed (as it always is for "/", SSH and
	// Packer sources).
	Live bool
}

func (o Options) withDefaults() Options {
	if o.Dir == "" {
		o.Dir = layout.DefaultDir
	}
	if o.HubUnit == "" {
		o.HubUnit = layout.DefaultHubUnit
	}
	if o.HubConfig == "" {
		o.HubConfig = DefaultHubConfig
	}
	if o.NginxConfig == "" {
		o.NginxConfig = DefaultNginxConfig
	}
	return o
}

// validate checks the paths: absolute, clean, below /. The messages name
// the option and the fix.
func (o Options) validate() error {
	for _, p := range []struct{ what, value, example string }{
		{"secrets directory", o.Dir, layout.DefaultDir},
		{"hub config", o.HubConfig, DefaultHubConfig},
		{"nginx config", o.NginxConfig, DefaultNginxConfig},
	} {
		if !path.IsAbs(p.value) || path.Clean(p.value) != p.value || p.value == "/" {
			return fmt.Errorf("%s %q: want an absolute, clean path below / such as %s", p.what, p.value, p.example)
		}
	}
	return nil
}

// expected maps the Files keys to their names in the secrets directory.
var expected = []struct{ key, name string }{
	{facts.CookieSecret, layout.CookieSecretFile},
	{facts.ProxyToken, layout.ProxyTokenFile},
	{facts.DHParam, layout.DHParamFile},
}

// Collect observes fsys and returns its facts document. src says where the
// facts came from. Errors that stop only one observation are recorded in the
// document (doc.Errors and File.Error); the returned error is for bad options.
func Collect(ctx context.Context, fsys FS, src facts.Source, opt Options) (*facts.Document, error) {
	opt = opt.withDefaults()
	if err := opt.validate(); err != nil {
		return nil, err
	}
	res := newResolver(fsys)
	res.noFollow = opt.Dir
	c := &collector{fs: fsys, res: res, doc: &facts.Document{
		Schema:     facts.Schema,
		Source:     src,
		Files:      map[string]facts.File{},
		FirstBoot:  map[string]facts.File{},
		Unexpected: []facts.Entry{},
		Errors:     []string{},
		HubUnit:    opt.HubUnit,
	}}
	c.accounts()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	doc := c.doc
	doc.Dir = c.stat(opt.Dir)
	doc.Dir.Parents = c.parents(opt.Dir)
	for _, e := range expected {
		doc.Files[e.key] = c.stat(path.Join(opt.Dir, e.name))
	}
	c.summariseSecrets()
	c.summariseDH(facts.DHParam)
	if doc.Dir.Type == facts.TypeDir {
		c.unexpected(opt.Dir, realPath(doc.Dir))
		c.findCopies(realPath(doc.Dir))
	}
	c.parentCopies(opt.Dir)

	for key, p := range map[string]string{
		facts.FirstBootScript:  layout.ScriptPath,
		facts.FirstBootUnit:    layout.UnitPath,
		facts.FirstBootEnabled: layout.WantsLink,
		facts.FirstBootDropIn:  layout.DropInPath(opt.HubUnit),
		facts.FirstBootStamp:   path.Join(opt.Dir, layout.StampFile),
	} {
		doc.FirstBoot[key] = c.stat(p)
	}
	c.firstbootDigests()
	doc.FirstBootDirs = c.firstbootDirs()
	doc.Identity = c.imageIdentity()
	doc.MachineID = c.machineID()
	doc.Contract = c.contract()
	doc.Systemd = c.systemd(opt.HubUnit)
	live := opt.Live || src.Kind == "ssh" || src.Kind == "packer" || src.Kind == "dir" && src.Root == "/"
	doc.Instance = c.instance(path.Join(opt.Dir, layout.StampFile), live)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.hubConfig(opt.HubConfig)
	c.nginx(opt.NginxConfig, path.Join(opt.Dir, layout.DHParamFile))
	sort.Strings(doc.Errors)
	return doc, ctx.Err()
}

type collector struct {
	fs     FS
	res    *resolver
	doc    *facts.Document
	users  map[int]string
	groups map[int]string
}

func (c *collector) fail(p string, err error) string {
	msg := fmt.Sprintf("%s: %v", p, err)
	c.doc.Errors = append(c.doc.Errors, msg)
	return err.Error()
}

// stat observes one path without following a symlink as its last element;
// symlinks in its parents are followed (resolve.go).
func (c *collector) stat(p string) facts.File {
	f := facts.File{Path: p}
	n, real, err := c.lstat(p)
	if isNotExist(err) {
		return f
	}
	if err != nil {
		f.Error = c.fail(p, err)
		return f
	}
	if real != p {
		f.ResolvedPath = real
	}
	f.Exists = true
	f.Type = n.Type
	f.LinkTarget = n.LinkTarget
	f.Mode = n.Mode
	f.ModeOctal = fmt.Sprintf("%04o", n.Mode)
	f.UID, f.GID = n.UID, n.GID
	f.Owner, f.Group = c.users[n.UID], c.groups[n.GID]
	f.Size = n.Size
	return f
}

// lstat describes p as stat does, and returns where p resolved to.
func (c *collector) lstat(p string) (Node, string, error) {
	if c.res == nil {
		c.res = newResolver(c.fs)
	}
	return c.res.lstat(p)
}

// readPrefix reads p with the symlinks in its parents followed (a final
// symlink is refused by the FS).
func (c *collector) readPrefix(p string, n int64) ([]byte, error) {
	_, real, err := c.lstat(p)
	if err != nil {
		return nil, err
	}
	return c.fs.ReadPrefix(real, n)
}

// realPath is where an observed file is on the system.
func realPath(f facts.File) string {
	if f.ResolvedPath != "" {
		return f.ResolvedPath
	}
	return f.Path
}

// parents describes the components the resolution of p's parent went
// through, "/" first. One that could not be described is an error, but
// for the root itself, which an archive need not describe.
func (c *collector) parents(p string) []facts.Parent {
	if p == "/" {
		return nil
	}
	rd := c.res.dir(path.Dir(p))
	out := []facts.Parent{}
	for _, h := range rd.w.hops {
		e := facts.Parent{
			Path: h.path, Type: h.node.Type, LinkTarget: h.node.LinkTarget,
			Mode: h.node.Mode, ModeOctal: fmt.Sprintf("%04o", h.node.Mode),
			UID: h.node.UID, GID: h.node.GID,
			Owner: c.users[h.node.UID], Group: c.groups[h.node.GID],
		}
		if h.err != nil {
			e = facts.Parent{Path: h.path, Type: facts.TypeDir, Error: h.err.Error()}
			if !errors.Is(h.err, errRootUnknown) {
				c.fail(h.path, h.err)
			}
		}
		out = append(out, e)
	}
	return out
}

// read returns a bounded prefix of an existing regular file and whether the
// file held more; on error it records it on the file.
func (c *collector) read(key string, limit int64) ([]byte, bool, bool) {
	f := c.doc.Files[key]
	if !f.Exists || f.Type != facts.TypeFile || f.Error != "" {
		return nil, false, false
	}
	b, err := c.fs.ReadPrefix(realPath(f), limit+1)
	if err != nil {
		f.Error = c.fail(f.Path, err)
		c.doc.Files[key] = f
		return nil, false, false
	}
	truncated := int64(len(b)) > limit
	if truncated {
		b = b[:limit]
	}
	return b, truncated, true
}

// summariseSecrets fills Secret for both secrets and compares them. The
// content is held only here, in memory, and cleared before returning.
func (c *collector) summariseSecrets() {
	keys := []string{facts.CookieSecret, facts.ProxyToken}
	content := map[string][]byte{}
	defer func() {
		for _, b := range content {
			clear(b)
		}
	}()
	for _, key := range keys {
		b, truncated, ok := c.read(key, secretReadLimit)
		if !ok {
			continue
		}
		content[key] = b
		s := SummariseSecret(b)
		s.Truncated = truncated
		f := c.doc.Files[key]
		f.Secret = &s
		c.doc.Files[key] = f
	}
	for _, a := range keys {
		for _, b := range keys {
			if a == b || content[a] == nil || content[b] == nil {
				continue
			}
			sa, sb := sameForm(content[a]), sameForm(content[b])
			same := len(sa) > 0 && subtle.ConstantTimeCompare(sa, sb) == 1
			clear(sa)
			clear(sb)
			if same {
				f := c.doc.Files[a]
				f.Secret.SameAs = append(f.Secret.SameAs, b)
				c.doc.Files[a] = f
			}
		}
	}
}

// sameForm is a secret as JupyterHub reads it, for comparing two: stripped,
// and hex in one case (hex decodes the same in either). A copy: the caller
// clears it.
func sameForm(b []byte) []byte {
	t := bytes.Clone(pyStrip(b))
	if isHexPairs(t) {
		for i, c := range t {
			if c >= 'A' && c <= 'F' {
				t[i] = c + 'a' - 'A'
			}
		}
	}
	return t
}

func (c *collector) summariseDH(key string) {
	b, truncated, ok := c.read(key, dhparamReadLimit)
	if !ok {
		return
	}
	var dh facts.DH
	if truncated {
		dh = facts.DH{ParseError: fmt.Sprintf("larger than %d bytes: not a DH parameters file", dhparamReadLimit)}
	} else {
		dh = SummariseDH(b)
	}
	f := c.doc.Files[key]
	f.DH = &dh
	c.doc.Files[key] = f
}

// unexpected lists directory entries that are neither expected files nor
// hubsecrets' own bookkeeping; real is where dir resolved to.
func (c *collector) unexpected(dir, real string) {
	names, err := c.fs.ReadDir(real)
	if err != nil {
		c.doc.Dir.Error = c.fail(dir, err)
		return
	}
	sort.Strings(names)
	for _, name := range names {
		if isKnownEntry(name) {
			continue
		}
		if len(c.doc.Unexpected) == maxUnexpected {
			c.doc.Errors = append(c.doc.Errors, fmt.Sprintf("%s: more than %d unexpected entries; the rest were not listed", dir, maxUnexpected))
			break
		}
		st := c.stat(path.Join(dir, name))
		e := facts.Entry{Name: name, Path: st.Path, Type: st.Type, Size: st.Size,
			Mode: st.Mode, UID: st.UID, GID: st.GID, Owner: st.Owner, Group: st.Group}
		e.ResemblesKey, e.Resembles = resembles(name)
		c.doc.Unexpected = append(c.doc.Unexpected, e)
	}
}

func isKnownEntry(name string) bool {
	switch name {
	case layout.CookieSecretFile, layout.ProxyTokenFile, layout.DHParamFile, layout.StampFile, layout.LockFile:
		return true
	}
	return false
}

func (c *collector) machineID() facts.MachineID {
	m := facts.MachineID{Path: layout.MachineIDPath}
	st := c.stat(layout.MachineIDPath)
	switch {
	case !st.Exists:
		m.State = facts.MachineIDMissing
		return m
	case st.Type != facts.TypeFile || st.Error != "":
		m.State = facts.MachineIDInvalid
		return m
	}
	b, err := c.readPrefix(layout.MachineIDPath, 64)
	if err != nil {
		c.fail(layout.MachineIDPath, err)
		m.State = facts.MachineIDInvalid
		return m
	}
	m.State = classifyMachineID(b)
	return m
}

// contract reads the host's parameters file, when it is there: its shape
// is checked here, its parameters by the policy.
func (c *collector) contract() facts.Contract {
	k := facts.Contract{File: c.stat(layout.ContractPath)}
	if !k.Exists || k.Error != "" || k.Type != facts.TypeFile {
		return k
	}
	b, err := c.fs.ReadPrefix(realPath(k.File), contract.MaxSize+1)
	switch {
	case err != nil:
		k.Error = c.fail(layout.ContractPath, err)
		return k
	case len(b) > contract.MaxSize:
		k.Error = c.fail(layout.ContractPath, fmt.Errorf("larger than %d KiB: not a hubsecrets parameters file", contract.MaxSize>>10))
		return k
	}
	raw, err := contract.Parse(b)
	if err != nil {
		k.Error = c.fail(layout.ContractPath, fmt.Errorf("not a hubsecrets parameters file: %w; rewrite it with sudo hubsecrets init", err))
		return k
	}
	k.Params = raw.Params
	h := facts.ContractHost(raw.Host)
	k.Host = &h
	return k
}

func classifyMachineID(b []byte) string {
	s := strings.TrimSpace(string(b))
	switch {
	case s == "":
		return facts.MachineIDEmpty
	case s == "uninitialized":
		return facts.MachineIDUninitialized
	case len(s) == 32 && isLowerHex(s):
		return facts.MachineIDInitialized
	}
	return facts.MachineIDInvalid
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// accounts loads uid and gid names from the scanned root's /etc/passwd and
// /etc/group, never the host's: an image's ids mean what its files say.
func (c *collector) accounts() {
	c.users = c.idNames("/etc/passwd")
	c.groups = c.idNames("/etc/group")
}

func (c *collector) idNames(p string) map[int]string {
	names := map[int]string{}
	n, real, err := c.lstat(p)
	if err != nil || n.Type != facts.TypeFile {
		if err != nil && !isNotExist(err) {
			c.fail(p, err)
		}
		return names
	}
	b, err := c.fs.ReadPrefix(real, accountReadLimit)
	if err != nil {
		c.fail(p, err)
		return names
	}
	return parseIDNames(b)
}

// parseIDNames reads name:x:id:... lines (passwd and group share the first
// three fields); the first name for an id wins, as getpwuid does.
func parseIDNames(b []byte) map[int]string {
	names := map[int]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.SplitN(line, ":", 4)
		if len(f) < 3 || f[0] == "" {
			continue
		}
		id, err := strconv.Atoi(f[2])
		if err != nil || id < 0 {
			continue
		}
		if _, seen := names[id]; !seen {
			names[id] = f[0]
		}
	}
	return names
}

// CollectDHParam observes one DH parameters file at p, wherever it lives, as
// Collect observes dhparam.pem: the document holds p as Files[facts.DHParam]
// and its parent as Dir; nothing else is looked at but the account files.
func CollectDHParam(ctx context.Context, fsys FS, src facts.Source, p string) (*facts.Document, error) {
	if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
		return nil, fmt.Errorf("DH parameters file %q: want an absolute, clean path", p)
	}
	c := &collector{fs: fsys, res: newResolver(fsys), doc: &facts.Document{
		Schema: facts.Schema, Source: src,
		Files: map[string]facts.File{}, FirstBoot: map[string]facts.File{},
		Unexpected: []facts.Entry{}, Errors: []string{}, HubUnit: layout.DefaultHubUnit,
	}}
	c.accounts()
	c.doc.Dir = c.stat(path.Dir(p))
	for _, e := range expected {
		c.doc.Files[e.key] = facts.File{Path: path.Join(path.Dir(p), e.name)}
	}
	c.doc.Files[facts.DHParam] = c.stat(p)
	c.summariseDH(facts.DHParam)
	for _, key := range []string{facts.FirstBootScript, facts.FirstBootUnit, facts.FirstBootEnabled, facts.FirstBootDropIn, facts.FirstBootStamp} {
		c.doc.FirstBoot[key] = facts.File{}
	}
	c.doc.FirstBootDirs = []facts.File{}
	c.doc.MachineID = facts.MachineID{Path: layout.MachineIDPath, State: facts.MachineIDMissing}
	// The host's parameters (min_dh_bits) judge the file too.
	c.doc.Contract = c.contract()
	return c.doc, ctx.Err()
}

// hubConfig reads jupyterhub_config.py, when it exists. The file may hold
// a secret (an inline cookie_secret): only the reader's summary is kept,
// and the bytes are cleared.
func (c *collector) hubConfig(p string) {
	b, err := configFiles(c.fs).Read(p, hubconfig.MaxFileSize+1)
	defer clear(b)
	switch {
	case isNotExist(err):
		return
	case errors.Is(err, hubconfig.ErrNotRegular):
		hc := hubconfig.ReadHub(p, nil)
		hc.Errors = append(hc.Errors, facts.ConfigError{File: p, Msg: fmt.Sprintf("%v: JupyterHub cannot read it", err)})
		c.doc.HubConfig = &hc
		return
	case err != nil:
		c.fail(p, err)
		return
	case len(b) > hubconfig.MaxFileSize:
		c.fail(p, fmt.Errorf("larger than %d KiB: not read", hubconfig.MaxFileSize>>10))
		return
	}
	hc := hubconfig.ReadHub(p, b)
	c.doc.HubConfig = &hc
}

// nginx reads nginx's configuration, when its main file exists, and
// describes the DH parameters files it names other than the checked one.
func (c *collector) nginx(main, checkedDH string) {
	files := configFiles(c.fs)
	probe, err := files.Read(main, 1)
	clear(probe)
	switch {
	case isNotExist(err):
		return
	case err != nil && !errors.Is(err, hubconfig.ErrNotRegular):
		c.fail(main, err)
		return
	}
	n, incomplete := hubconfig.ReadNginx(main, files)
	c.doc.Errors = append(c.doc.Errors, incomplete...)
	for _, d := range n.DHParams {
		if _, seen := n.DHFiles[d.Value]; seen || d.Value == checkedDH {
			continue
		}
		if len(n.DHFiles) == maxDHFiles {
			c.doc.Errors = append(c.doc.Errors, fmt.Sprintf("%s: more than %d DH parameters files named by ssl_dhparam; the rest were not checked", main, maxDHFiles))
			break
		}
		n.DHFiles[d.Value] = c.dhFile(files, d.Value)
	}
	c.doc.Nginx = n
}

// dhFile describes a DH parameters file nginx names: the path itself
// (never followed, as every path here) and the content nginx would load,
// following symlinks.
func (c *collector) dhFile(files configFS, p string) facts.File {
	f := c.stat(p)
	if !f.Exists || f.Error != "" {
		return f
	}
	b, err := files.Read(p, dhparamReadLimit+1)
	var dh facts.DH
	switch {
	case isNotExist(err):
		dh = facts.DH{ParseError: "the symlink's target does not exist"}
	case errors.Is(err, hubconfig.ErrNotRegular):
		dh = facts.DH{ParseError: err.Error()}
	case err != nil:
		f.Error = c.fail(p, err)
		return f
	case len(b) > dhparamReadLimit:
		dh = facts.DH{ParseError: fmt.Sprintf("larger than %d bytes: not a DH parameters file", dhparamReadLimit)}
	default:
		dh = SummariseDH(b)
	}
	f.DH = &dh
	return f
}
