package source

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/hubconfig"
)

// The tar source reads a root filesystem archive (`docker export`, a rootfs
// tarball) in one pass and keeps only what Collect asks for: the planned
// paths (headers, and content up to their read limits), their ancestors'
// headers, and the entries directly inside the secrets directory. Memory is
// bounded by those limits, never by the archive's size.
//
// What it decides, and why:
//   - Names are the archive's own, normalised ("./srv/x", "srv/x", "/srv/x/"
//     are /srv/x). A name with a ".." component is never mapped anywhere: it
//     is dropped, and if an extractor could place it on a path Collect looks
//     at (lexically, or as GNU tar does by stripping up to the last ".."),
//     that path reports an error instead.
//   - Owners are Header.Uid/Gid; Uname/Gname come from the machine that built
//     the archive and are ignored (Collect names ids from the archive's own
//     /etc/passwd and /etc/group).
//   - The last member of a name wins, as when extracting.
//   - A hard link takes the header and content of its target as the archive
//     stood at that point. Targets come from a bounded cache of recent
//     members (headers, and the content of regular files of at most
//     linkCachePrefix bytes); a link carries at most that much content. A
//     link on an observed path whose target is no longer known, or whose
//     content was not kept, is an error on that path.
//   - Symlinks are reported with their target, never followed. Unlike DirFS
//     (os.Root follows a relative in-root symlink), a path below a symlinked
//     directory is an error: resolving it would need members the single pass
//     may already have skipped.
//   - A path present only as the parent of other members has no owner or
//     mode of its own: an error, never invented data.
//   - Configuration files are read following symlinks (see config.go), so
//     the scan also keeps, within a budget (configBudget, configEntries):
//     the headers of every member under /etc and under nginx's directory
//     (both read as whole regions: a path there that no member names does
//     not exist), the content of the regular files under nginx's directory
//     and of those under /etc named *.conf (certbot's
//     options-ssl-nginx.conf), the hub's config file, and, anywhere, files
//     of at most 64 KiB that start as PEM DH parameters (what ssl_dhparam
//     may name). A file outside those cannot be followed to: an error
//     that says to extract the archive and use --root.
//   - The archive must be whole: a truncated stream, a corrupt header or
//     compressed stream, or a missing end-of-archive marker is an error.
//     What follows the marker is ignored, as GNU tar does, but a compressed
//     stream must still end cleanly (tar -xzf fails on trailing garbage).
const (
	// Linux limits: a longer name cannot be extracted.
	maxPathLen = 4096
	maxNameLen = 255
	// maxTrailing bounds how much is read after the end-of-archive marker
	// (record padding) to let a decompressor verify its checksum and a
	// writer on a pipe finish.
	maxTrailing = 64 << 20
)

// tarState is what one archive member says about one path.
type tarState struct {
	member string // the member's name as stored, for messages
	node   Node
	data   []byte // the first bytes of a regular file
	err    error  // set when the member cannot be trusted for this path
}

// complete reports whether data holds the whole file.
func (s *tarState) complete() bool { return int64(len(s.data)) >= s.node.Size }

// tarEntry is a path the scan observes.
type tarEntry struct {
	tarState
	seen    bool  // a member of this name (or aimed at it) was read
	implied bool  // some member lies below this path
	limit   int64 // how many bytes of content to keep
}

// set makes st the entry's state, keeping a copy of the content it needs
// (st may share memory with the entry itself: a hard link to its own name).
func (e *tarEntry) set(st tarState) {
	var data []byte
	if st.err == nil && e.limit > 0 && st.data != nil {
		data = bytes.Clone(st.data[:min(int64(len(st.data)), e.limit)])
	}
	clear(e.data)
	e.tarState = st
	e.data = data
	e.seen = true
}

// tarFS is an FS holding what one pass over an archive kept.
type tarFS struct {
	dir      string
	paths    map[string]*tarEntry // planned paths and their ancestors
	children map[string]*tarEntry // entries directly inside dir, bounded
	others   nameHeap             // unknown child names kept, largest on top
	dropped  bool                 // some child was not kept
	listErr  error                // ReadDir(dir) fails with this
	cache    *linkCache

	// Configuration regions (see the package comment above).
	regions    []string             // directories kept whole: /etc and nginx's
	nginxDir   string               // content of regular files kept below it
	cfg        map[string]*tarEntry // members kept in the regions, and DH files
	cfgBytes   int64                // content budget used
	cfgDropped bool                 // a member the regions wanted was not kept
}

// OpenTar reads a root filesystem archive once, streaming, keeping only
// what Collect needs for opt. The archive may be plain tar, gzip or zstd,
// told apart by content. An archive that is not whole is an error.
func OpenTar(r io.Reader, opt Options) (FS, error) {
	opt = opt.withDefaults()
	// The same rules as Collect's, checked before reading any of the archive.
	if err := opt.validate(); err != nil {
		return nil, err
	}
	s, err := openStream(r)
	if err != nil {
		return nil, err
	}
	defer s.close()
	t := newTarFS(opt)
	err = t.scan(s)
	// The cache holds small files from anywhere in the archive: zero them,
	// they may be someone's secret.
	t.cache.clear()
	t.cache = nil
	if err != nil {
		return nil, err
	}
	return t, nil
}

func newTarFS(opt Options) *tarFS {
	plan := planFor(opt)
	t := &tarFS{
		dir:      opt.Dir,
		paths:    map[string]*tarEntry{},
		children: map[string]*tarEntry{},
		cache:    newLinkCache(linkCacheBudget),
		nginxDir: path.Dir(opt.NginxConfig),
		cfg:      map[string]*tarEntry{},
	}
	t.regions = []string{"/etc", t.nginxDir}
	plan.stat = append(plan.stat, opt.HubConfig)
	plan.read[opt.HubConfig] = hubconfig.MaxFileSize + 1
	for _, p := range plan.stat {
		t.paths[p] = &tarEntry{limit: plan.read[p]}
		for a := path.Dir(p); a != "/"; a = path.Dir(a) {
			if t.paths[a] == nil {
				t.paths[a] = &tarEntry{}
			}
		}
	}
	return t
}

// scan reads the whole archive.
func (t *tarFS) scan(s *tarStream) error {
	tr := tar.NewReader(s.tarIn)
	var (
		last    string // the last member's name
		members int
		hdrEnd  int64 // where the last member's header ended
		dataEnd int64 // where its data and padding end; -1 if unknown
	)
	fail := func(err error) error {
		if members == 0 && (errors.Is(err, tar.ErrHeader) || s.kind == kindTar && s.cr.off < blockSize && errors.Is(err, io.ErrUnexpectedEOF)) {
			return fmt.Errorf("%s: not a tar archive: %w", s.kind, err)
		}
		where := "at the start"
		if last != "" {
			where = fmt.Sprintf("after member %q", last)
		}
		what := "corrupt"
		if errors.Is(err, io.ErrUnexpectedEOF) {
			what = "truncated"
		}
		return fmt.Errorf("%s: %s %s (tar byte %d): %w", s.kind, what, where, s.cr.off, err)
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, tar.ErrInsecurePath) {
			err = nil // only with GODEBUG=tarinsecurepath=0; add vets names
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		members++
		last = hdr.Name
		hdrEnd = s.cr.off
		dataEnd = hdrEnd + physicalSize(hdr)
		if dataEnd < hdrEnd { // unknown (sparse) or overflowing
			dataEnd = -1
		} else if pad := dataEnd % blockSize; pad != 0 {
			dataEnd += blockSize - pad
		}
		if err := t.add(tr, hdr); err != nil {
			return fail(err)
		}
	}
	if members == 0 {
		if s.cr.off == 0 {
			return fmt.Errorf("%s: not a tar archive: empty input", s.kind)
		}
		return fmt.Errorf("%s: the archive holds no entries", s.kind)
	}
	// archive/tar accepts a stream that simply stops between members; a
	// cut archive must not pass for a whole one. The end-of-archive marker
	// is at least one zero block after the last member's data.
	marked := dataEnd >= 0 && s.cr.off >= dataEnd+blockSize ||
		dataEnd < 0 && s.cr.off >= hdrEnd+blockSize && s.cr.endsInZeroBlock()
	if !marked {
		return fmt.Errorf("%s: truncated after member %q (tar byte %d): no end-of-archive marker", s.kind, last, s.cr.off)
	}
	if s.rest != nil {
		n, err := io.Copy(io.Discard, io.LimitReader(s.rest, maxTrailing+1))
		// Garbage after a gzip stream is an error here, as it is for
		// tar -xzf (gzip warns, exits 2, and tar fails).
		switch {
		case err == nil:
		case errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("%s: truncated after the end-of-archive marker: the compressed stream is cut: %w", s.kind, err)
		default:
			return fmt.Errorf("%s: corrupt after the end-of-archive marker: %w", s.kind, err)
		}
		if n > maxTrailing {
			return fmt.Errorf("%s: more than %d MiB after the end-of-archive marker: not one tar archive", s.kind, maxTrailing>>20)
		}
	}
	return nil
}

const blockSize = 512

// physicalSize is how many bytes of data follow hdr in the archive, or -1
// when archive/tar does not say (sparse files, whose Size is logical).
func physicalSize(hdr *tar.Header) int64 {
	switch hdr.Typeflag {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo:
		return 0 // as archive/tar: these carry no data whatever Size says
	case tar.TypeGNUSparse:
		return -1
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return -1
		}
	}
	return hdr.Size
}

// add records one member; the error is a stream error (the archive cannot
// be read on), never a problem with the member's content.
func (t *tarFS) add(tr *tar.Reader, hdr *tar.Header) error {
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader, 'V': // PAX global header, GNU volume label: not files
		return nil
	}
	name, ok := memberPath(hdr.Name)
	if !ok {
		t.aimedAt(hdr.Name)
		return nil
	}
	if name == "/" {
		return nil // the root directory itself ("./")
	}
	t.markAncestors(name)
	e := t.track(name)
	if e == nil {
		e = t.trackConfig(name, hdr)
	}

	var st tarState
	if hdr.Typeflag == tar.TypeLink {
		st = t.resolveLink(hdr)
		// The target's content is owned elsewhere. Copy no more than a
		// small file's: a link costs one header of input, so copying a
		// 4 MiB passwd for each would let a small archive take hours.
		st.data = bytes.Clone(st.data[:min(len(st.data), linkCachePrefix)])
	} else {
		st = tarState{member: hdr.Name, node: nodeFromHeader(hdr)}
		if hdr.Uid < 0 || hdr.Gid < 0 {
			st.err = fmt.Errorf("archive member %q: negative uid or gid", hdr.Name)
		} else if st.node.Type == facts.TypeFile {
			// Read what the entry or the cache keeps; archive/tar skips
			// the rest, seeking over it in a plain file.
			var want int64
			if e != nil {
				want = e.limit
			}
			if hdr.Size <= linkCachePrefix {
				want = hdr.Size
			}
			// A small file anywhere may be the DH parameters an
			// ssl_dhparam names: look at its first bytes.
			sniff := (e == nil || e.limit == 0) && hdr.Size <= dhparamReadLimit && hdr.Size >= int64(len(dhPEMStart))
			if sniff {
				want = max(want, int64(len(dhX942Start)))
			}
			buf := make([]byte, min(want, hdr.Size))
			if _, err := io.ReadFull(tr, buf); err != nil {
				return fmt.Errorf("archive member %q: %w", hdr.Name, err)
			}
			if sniff && looksLikeDH(buf) {
				if e = t.keepDH(name, hdr.Size); e != nil && int64(len(buf)) < hdr.Size {
					whole := make([]byte, hdr.Size)
					copy(whole, buf)
					if _, err := io.ReadFull(tr, whole[len(buf):]); err != nil {
						return fmt.Errorf("archive member %q: %w", hdr.Name, err)
					}
					buf = whole
				}
			}
			st.data = buf
		}
	}
	if e != nil {
		e.set(st)
	}
	switch {
	case st.node.Type == facts.TypeDir:
		t.cache.drop(name) // not a hard link target
	case len(name) <= maxPathLen:
		t.cache.put(name, st)
	}
	return nil
}

// memberPath turns a member name into an absolute, clean path, or reports
// that the name must not be mapped anywhere (a ".." component, a NUL).
func memberPath(name string) (string, bool) {
	if strings.IndexByte(name, 0) >= 0 || strings.Contains("/"+name+"/", "/../") {
		return "", false
	}
	return path.Clean("/" + name), true
}

// aimedAt marks the observed paths an extractor could write a member with a
// ".." name to: path.Clean's reading, and GNU tar's, which strips the name
// up to its last ".." component.
func (t *tarFS) aimedAt(name string) {
	if strings.IndexByte(name, 0) >= 0 {
		return // archive/tar cannot return one; nothing could write it
	}
	stripped := name
	if i := strings.LastIndex("/"+name+"/", "/../"); i >= 0 {
		// "/../" at i in the padded name: ".." at i in name, then "/".
		stripped = name[min(i+3, len(name)):]
	}
	st := tarState{member: name, err: fmt.Errorf("archive member %q has a '..' component and could be extracted here: this path cannot be trusted", name)}
	for _, p := range []string{path.Clean("/" + name), path.Clean("/" + stripped)} {
		e := t.track(p)
		if e == nil && t.inRegion(p) {
			e = t.keepConfig(p, 0, 0)
		}
		if e != nil {
			e.set(st)
		}
		t.cache.put(p, st) // hard links to p must not see what was there before
	}
}

// markAncestors records that the observed ancestors of p, and the child of
// the secrets directory p lies in, exist at least as parents.
func (t *tarFS) markAncestors(p string) {
	for a := path.Dir(p); a != "/"; a = path.Dir(a) {
		if e := t.paths[a]; e != nil {
			e.implied = true
		}
		if t.inRegion(a) {
			if e := t.keepConfig(a, 0, 0); e != nil {
				e.implied = true
			}
		}
		if path.Dir(a) == t.dir {
			if e := t.track(a); e != nil {
				e.implied = true
			}
		}
	}
}

// resolveLink returns the state a hard link shares with its target: that
// of the observed path of that name (with the cache's longer content if it
// has it), else the cache's.
func (t *tarFS) resolveLink(hdr *tar.Header) tarState {
	fail := func(format string, a ...any) tarState {
		return tarState{member: hdr.Name, err: fmt.Errorf("archive member %q is a hard link to %q, "+format, append([]any{hdr.Name, hdr.Linkname}, a...)...)}
	}
	target, ok := memberPath(hdr.Linkname)
	if !ok {
		return fail("a name with '..': not followed")
	}
	c, cached := t.cache.get(target)
	var st tarState
	switch e := t.kept(target); {
	case e != nil && e.seen:
		// Both saw every member of this name but '..' ones, which set err.
		st = e.tarState
		if cached && st.err == nil && len(c.data) > len(st.data) {
			st.data = c.data
		}
	case cached:
		st = c
	default:
		return fail("a member this one-pass scan did not keep (or not in the archive): cannot check it")
	}
	switch {
	case st.err != nil:
		return fail("which cannot be trusted: %w", st.err)
	case st.node.Type == facts.TypeDir:
		return fail("a directory")
	}
	st.member = hdr.Name
	return st
}

// nodeFromHeader describes a member other than a hard link. Sizes are what
// lstat would say: a symlink's is its target's length; a directory's or a
// device's means nothing in an archive.
func nodeFromHeader(hdr *tar.Header) Node {
	n := Node{Mode: int(hdr.Mode & 0o7777), UID: hdr.Uid, GID: hdr.Gid, Size: hdr.Size}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
		n.Type = facts.TypeFile
	case tar.TypeDir, 'D': // 'D': GNU dump directory
		n.Type, n.Size = facts.TypeDir, 0
	case tar.TypeSymlink:
		n.Type = facts.TypeSymlink
		n.LinkTarget = hdr.Linkname
		n.Size = int64(len(hdr.Linkname))
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		n.Type, n.Size = facts.TypeOther, 0
	default:
		n.Type = facts.TypeOther
	}
	return n
}
