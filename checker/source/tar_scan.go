package source

// The tar source's one pass: reading every member in order, deciding what
// each says about which observed path (names, '..' names, hard links,
// parents), and checking that the archive is whole.

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
)

// maxTrailing bounds how much is read after the end-of-archive marker
// (record padding) to let a decompressor verify its checksum and a
// writer on a pipe finish.
const maxTrailing = 64 << 20

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
		// The root directory itself ("./"): its header, if it is one.
		if hdr.Typeflag == tar.TypeDir {
			t.paths["/"].set(tarState{member: hdr.Name, node: nodeFromHeader(hdr)})
		}
		return nil
	}
	t.markAncestors(name)
	e := t.track(name)
	if e == nil {
		e = t.trackParent(name)
	}
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
		if e == nil {
			e = t.trackParent(p)
		}
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
		if e := t.trackParent(a); e != nil {
			e.implied = true
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
