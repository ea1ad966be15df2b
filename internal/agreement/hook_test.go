package agreement

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/source"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/firstboot"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/params"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

// TestHookKeepsWhatCheckPasses is the property that makes the checker and
// the first-boot hook one contract. Over a generated matrix of trees (the
// parameters in force from the tree's own contract x the secrets' modes,
// owners, encodings, surrounding whitespace and lengths x the instance
// stamp matching, absent or of another instance), each checked by
// `hubsecrets check`'s collector and policy and then run through the
// rendered hook under dash and under busybox sh:
//
//	(a) every tree the check passes, the hook leaves byte for byte;
//	(b, c) every tree the hook leaves behind (changed or not) passes.
func TestHookKeepsWhatCheckPasses(t *testing.T) {
	testenv.NeedRoot(t, "the matrix gives files to other owners")
	shells := testShells(t)
	eng, err := checker.NewEngine(context.Background(), checker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	nobody, nogroup := lookupIDs(t, "nobody", "nogroup")
	sets := []struct {
		name string
		site map[string]any
	}{
		{"defaults", nil},
		{"group read", map[string]any{"allow_group_read": true}},
		{"hub's own user", map[string]any{"owner": "nobody", "group": "nogroup"}},
	}
	const perSet = 110
	rng := rand.New(rand.NewPCG(11, 2026))
	var cases []treeCase
	for _, set := range sets {
		prm := paramsWith(t, set.site)
		seen := map[string]bool{}
		for len(seen) < perSet {
			c := randomCase(rng, prm, set.name, nobody, nogroup)
			if seen[c.key()] {
				continue
			}
			seen[c.key()] = true
			cases = append(cases, c)
		}
	}
	if len(cases) < 300 {
		t.Fatalf("only %d trees", len(cases))
	}
	// What every tree of a set shares, installed once (with its fsyncs).
	templates := map[string]string{}
	for _, set := range sets {
		root := scratch(t)
		base(t, root, paramsWith(t, set.site))
		templates[set.name] = root
	}

	var passedBefore, changed, mu = 0, 0, sync.Mutex{}
	work := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range work {
				tc := cases[i]
				for _, sh := range shells {
					root := scratch(t)
					copyTree(t, templates[tc.set], root)
					tc.build(t, root)
					before := snapshot(t, root)
					pass, why := check(t, eng, root)
					if err := runHook(tc, root, sh); err != nil {
						t.Errorf("tree %d (%s) under %s: the hook failed: %v", i, tc, sh.name, err)
						continue
					}
					after := snapshot(t, root)
					if pass && !maps(before, after) {
						t.Errorf("tree %d (%s) under %s: check passed it, but the hook changed it", i, tc, sh.name)
					}
					if ok, why2 := check(t, eng, root); !ok {
						t.Errorf("tree %d (%s) under %s: the hook left a tree check denies: %s (before: %s)", i, tc, sh.name, why2, why)
					}
					mu.Lock()
					if pass {
						passedBefore++
					}
					if !maps(before, after) {
						changed++
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range cases {
		work <- i
	}
	close(work)
	wg.Wait()
	t.Logf("%d trees x %d shells: %d passed the check before the hook (and were kept), %d changed by it", len(cases), len(shells), passedBefore, changed)
	if passedBefore == 0 || changed == 0 {
		t.Errorf("the matrix must hold trees of both kinds: %d passed, %d changed", passedBefore, changed)
	}
}

// secretSpec is one secret file of a tree.
type secretSpec struct {
	mode     os.FileMode
	uid, gid int
	enc      string // lower, upper, mixed, base64, spaced, same (the cookie's bytes, other case)
	wrap     string // what surrounds the hex: nl, none, crlf, nlnl, ws
	bytes    int    // decoded length
}

type treeCase struct {
	set           string
	prm           params.Params
	cookie, token secretSpec
	stamp         string // matching, absent, other
	cookieB, tokB []byte // the random bytes
}

func (c treeCase) key() string {
	return fmt.Sprintf("%s|%v|%v|%s", c.set, c.cookie, c.token, c.stamp)
}

func (c treeCase) String() string {
	return fmt.Sprintf("%s; cookie %04o %d:%d %s/%s/%dB; token %04o %d:%d %s/%s/%dB; stamp %s", c.set,
		c.cookie.mode, c.cookie.uid, c.cookie.gid, c.cookie.enc, c.cookie.wrap, c.cookie.bytes,
		c.token.mode, c.token.uid, c.token.gid, c.token.enc, c.token.wrap, c.token.bytes, c.stamp)
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

func randomCase(r *rand.Rand, prm params.Params, set string, nobody, nogroup int) treeCase {
	ownerUID, groupGID := 0, 0
	if prm.Owner == "nobody" {
		ownerUID, groupGID = nobody, nogroup
	}
	// Each dimension is mostly what the policy accepts, so the matrix holds
	// passing trees as well as every way to fail.
	spec := func(token bool) secretSpec {
		s := secretSpec{mode: os.FileMode(prm.SecretMode()), uid: ownerUID, gid: groupGID, enc: "lower", wrap: "nl", bytes: prm.SecretBytes}
		if r.IntN(3) == 0 {
			s.mode = pick[os.FileMode](r, 0o400, 0o640, 0o440, 0o644, 0o660, 0o700, 0o604)
		}
		if r.IntN(5) == 0 {
			s.uid = pick(r, nobody, 0)
		}
		if r.IntN(4) == 0 {
			s.gid = pick(r, nogroup, 0)
		}
		if r.IntN(3) == 0 {
			s.enc = pick(r, "upper", "mixed", "base64", "spaced", "zeros", "pattern", "counting")
		}
		if r.IntN(3) == 0 {
			s.wrap = pick(r, "none", "crlf", "nlnl", "ws")
		}
		if r.IntN(5) == 0 {
			s.bytes = pick(r, prm.SecretBytes-1, prm.SecretBytes+16)
		}
		if token && r.IntN(10) == 0 {
			s.enc = "same"
		}
		return s
	}
	c := treeCase{set: set, prm: prm, cookie: spec(false), token: spec(true), stamp: pick(r, "matching", "matching", "matching", "absent", "other")}
	c.cookieB = randBytes(r, c.cookie.bytes)
	c.tokB = randBytes(r, c.token.bytes)
	return c
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func (s secretSpec) content(b, cookie []byte) []byte {
	var v string
	switch s.enc {
	case "lower":
		v = hex.EncodeToString(b)
	case "upper":
		v = strings.ToUpper(hex.EncodeToString(b))
	case "mixed":
		h := []byte(hex.EncodeToString(b))
		for i := range h {
			if i%3 == 0 {
				h[i] = bytes.ToUpper(h[i : i+1])[0]
			}
		}
		v = string(h)
	case "base64":
		v = base64.StdEncoding.EncodeToString(b)
	case "spaced":
		h := hex.EncodeToString(b)
		v = h[:len(h)/2] + " " + h[len(h)/2:]
	case "same":
		v = strings.ToUpper(hex.EncodeToString(cookie))
	case "zeros", "pattern", "counting": // easy to guess (HUB036)
		unit := map[string]string{"zeros": "0", "pattern": "DeadBeef", "counting": "0123456789abcdef"}[s.enc]
		v = strings.Repeat(unit, 2*len(b))[:2*len(b)]
	}
	switch s.wrap {
	case "nl":
		v += "\n"
	case "crlf":
		v += "\r\n"
	case "nlnl":
		v += "\n\n"
	case "ws":
		v = " \t" + v + " \n"
	}
	return []byte(v)
}

const instanceID = "i-0123456789abcdef0"

// base lays out what the trees of one parameter set share: the host's
// accounts, the first-boot payload and contract rendered from the
// parameters, dhparam.pem, and an instance identity (cloud-init's, for
// this boot).
func base(t *testing.T, root string, prm params.Params) {
	t.Helper()
	for _, name := range []string{"passwd", "group"} {
		b, err := os.ReadFile("/etc/" + name)
		must(t, err)
		must(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
		must(t, os.WriteFile(filepath.Join(root, "etc", name), b, 0o644))
	}
	g, _ := dhparam.Group("ffdhe2048")
	cfg := firstboot.Config{Dir: layout.DefaultDir, Params: prm}
	files, err := firstboot.Payload(cfg, g.MarshalPEM(), "agreement test")
	must(t, err)
	must(t, firstboot.Install(root, files))
	dir := filepath.Join(root, layout.DefaultDir)
	must(t, os.MkdirAll(dir, 0o755))
	u, err := user.Lookup(prm.Owner)
	must(t, err)
	gr, err := user.LookupGroup(prm.Group)
	must(t, err)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(gr.Gid)
	dh := filepath.Join(dir, layout.DHParamFile)
	must(t, os.WriteFile(dh, g.MarshalPEM(), os.FileMode(prm.DHParamMode())))
	must(t, os.Chmod(dh, os.FileMode(prm.DHParamMode())))
	must(t, os.Chown(dh, uid, gid))
	run := filepath.Join(root, "run", "cloud-init")
	must(t, os.MkdirAll(run, 0o755))
	must(t, os.WriteFile(filepath.Join(run, ".instance-id"), []byte(instanceID+"\n"), 0o644))
}

// scratch is a new directory for a tree, on tmpfs where there is one: the
// hook flushes every file it writes.
func scratch(t *testing.T) string {
	t.Helper()
	parent := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		parent = "/dev/shm"
	}
	d, err := os.MkdirTemp(parent, "hubsecrets-agreement-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// copyTree copies src to dst (existing, empty) with modes, owners and
// symlinks, as cp -a does.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		switch {
		case rel == ".":
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, to); err != nil {
				return err
			}
			return os.Lchown(to, int(st.Uid), int(st.Gid))
		case fi.IsDir():
			if err := os.Mkdir(to, fi.Mode().Perm()); err != nil {
				return err
			}
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(to, b, fi.Mode().Perm()); err != nil {
				return err
			}
		}
		if err := os.Chmod(to, fi.Mode().Perm()); err != nil {
			return err
		}
		return os.Chown(to, int(st.Uid), int(st.Gid))
	})
	must(t, err)
}

// build adds the case's secrets and stamp to a copy of its set's base.
func (c treeCase) build(t *testing.T, root string) {
	t.Helper()
	dir := filepath.Join(root, layout.DefaultDir)
	put := func(name string, s secretSpec, b []byte) {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, s.content(b, c.cookieB), s.mode))
		must(t, os.Chmod(p, s.mode))
		must(t, os.Chown(p, s.uid, s.gid))
	}
	put(layout.CookieSecretFile, c.cookie, c.cookieB)
	put(layout.ProxyTokenFile, c.token, c.tokB)
	switch c.stamp {
	case "matching":
		must(t, os.WriteFile(filepath.Join(dir, layout.StampFile), []byte(stampFor(instanceID)), 0o600))
	case "other":
		must(t, os.WriteFile(filepath.Join(dir, layout.StampFile), []byte(stampFor("i-another")), 0o600))
	}
}

func stampFor(id string) string {
	sum := sha256.Sum256([]byte(id + "\n"))
	return hex.EncodeToString(sum[:]) + "\n"
}

// check is `hubsecrets check --profile instance` of the tree as a running
// system: its own contract sets the parameters, no --data.
func check(t *testing.T, eng *checker.Engine, root string) (bool, string) {
	t.Helper()
	fsys, err := source.OpenDir(root)
	must(t, err)
	defer fsys.Close()
	doc, err := source.Collect(context.Background(), fsys, facts.Source{Kind: "dir", Root: root}, source.Options{Live: true})
	must(t, err)
	if len(doc.Errors) > 0 {
		return false, "could not check: " + strings.Join(doc.Errors, "; ")
	}
	rep, err := eng.Evaluate(context.Background(), doc)
	must(t, err)
	var ids []string
	for _, f := range rep.Findings {
		if f.Severity == "deny" {
			ids = append(ids, f.ID)
		}
	}
	return len(ids) == 0, "denied " + strings.Join(ids, ", ")
}

// runHook runs the first-boot script rendered for the case's parameters,
// with every path it reads under the tree's root.
func runHook(c treeCase, root string, sh shell) error {
	cfg := firstboot.Config{
		Dir:    filepath.Join(root, layout.DefaultDir),
		Params: c.prm,
		IdentitySources: func() []firstboot.IdentitySource {
			var out []firstboot.IdentitySource
			for _, s := range firstboot.DefaultIdentitySources {
				out = append(out, firstboot.IdentitySource{Path: filepath.Join(root, s.Path), Kind: s.Kind})
			}
			return out
		}(),
		DHParamCopy:     filepath.Join(root, layout.DHParamCopyPath),
		CloudInitRunDir: filepath.Join(root, firstboot.DefaultCloudInitRunDir),
		MountInfo:       filepath.Join(root, firstboot.DefaultMountInfo),
	}
	for _, m := range firstboot.DefaultContainerMarkers {
		cfg.ContainerMarkers = append(cfg.ContainerMarkers, filepath.Join(root, m))
	}
	script, err := firstboot.Script(cfg)
	if err != nil {
		return err
	}
	p := filepath.Join(root, "hook.sh")
	if err := os.WriteFile(p, script, 0o700); err != nil {
		return err
	}
	cmd := exec.Command(sh.argv[0], append(sh.argv[1:], p)...)
	cmd.Env = sh.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		// Its words, never a secret (the script prints none).
		return fmt.Errorf("%w: %s", err, lastLine(out.String()))
	}
	return nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// fileState is what the hook may change of a file: content (hashed: no
// secret in a test's output), mode and owner.
type fileState struct {
	sum      [32]byte
	mode     fs.FileMode
	uid, gid uint32
}

func snapshot(t *testing.T, root string) map[string]fileState {
	t.Helper()
	out := map[string]fileState{}
	dir := filepath.Join(root, layout.DefaultDir)
	ents, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Lstat(p)
		must(t, err)
		b, _ := os.ReadFile(p)
		st := fi.Sys().(*syscall.Stat_t)
		out[e.Name()] = fileState{sha256.Sum256(b), fi.Mode(), st.Uid, st.Gid}
		clear(b)
	}
	return out
}

func maps(a, b map[string]fileState) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func paramsWith(t *testing.T, site map[string]any) params.Params {
	t.Helper()
	eng, err := checker.NewEngine(context.Background(), checker.Options{Params: site})
	must(t, err)
	p, err := eng.Params(context.Background(), nil)
	must(t, err)
	return p
}

func lookupIDs(t *testing.T, owner, group string) (int, int) {
	u, err := user.Lookup(owner)
	if err != nil {
		testenv.Missing(t, "user "+owner, "the matrix gives files to the accounts the parameters name")
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		testenv.Missing(t, "group "+group, "the matrix gives files to the accounts the parameters name")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	return uid, gid
}

// shell is one way to run the script.
type shell struct {
	name string
	argv []string
	env  []string
}

// testShells are dash with coreutils and busybox sh with only busybox's
// applets on PATH.
func testShells(t *testing.T) []shell {
	var shells []shell
	why := "the hook must agree with check under dash and busybox sh"
	p := testenv.NeedTool(t, "dash", why)
	shells = append(shells, shell{"dash", []string{p}, []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}})
	bb := testenv.NeedTool(t, "busybox", why)
	list, err := exec.Command(bb, "--list").Output()
	must(t, err)
	dir := t.TempDir()
	for _, applet := range append(strings.Fields(string(list)), "busybox") {
		if err := os.Symlink(bb, filepath.Join(dir, applet)); err != nil && !errors.Is(err, fs.ErrExist) {
			t.Fatal(err)
		}
	}
	return append(shells, shell{"busybox", []string{filepath.Join(dir, "busybox"), "sh"}, []string{"PATH=" + dir}})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
