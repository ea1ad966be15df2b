package source

// The tar source: what it decides and why (below), the state its one pass
// keeps, and OpenTar, which runs that pass. tar_stream.go opens the input,
// tar_scan.go reads the members, tar_children.go, tar_config.go and
// tar_linkcache.go bound what is kept, and tar_fs.go answers from it.

import (
	"bytes"
	"io"
	"path"
	"slices"

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
//   - Symlinks are reported with their target; the FS never follows one.
//     Collect resolves the symlinks in a path's parents itself (resolve.go),
//     asking Lstat only for paths free of symlinks. When that resolution
//     goes through a symlink to a path the pass did not keep (/srv ->
//     /data/srv), the archive is read again with the resolved paths
//     planned (tar_resolve.go): a file is reopened at its start, a
//     compressed one decompressed again; standard input cannot be, and is
//     an error that says to pass the archive as a file. Asked directly, a
//     path below a symlinked directory is still an error.
//   - The root directory is the "./" member; without one, its owner and
//     mode are unknown (the extracting system decides them), which is
//     said but is no error.
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

	// childLimit is how much content of each child of dir is kept
	// (remotePlan.listRead: the small ones are compared with the secrets).
	childLimit int64

	// The secrets directory's parent ("" when it is /) and its entries
	// but the secrets directory (tar_parent.go).
	parent     string
	parentKids map[string]*tarEntry

	// Configuration regions (see the package comment above).
	regions    []string             // directories kept whole: /etc and nginx's
	nginxDir   string               // content of regular files kept below it
	cfg        map[string]*tarEntry // members kept in the regions, and DH files
	cfgBytes   int64                // content budget used
	cfgDropped bool                 // a member the regions wanted was not kept
	cfgCost    map[string]int64     // what each kept path is charged
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
	return openTarResolving(r, opt)
}

// scanTar runs one pass over the archive from r's current position.
func scanTar(r io.Reader, opt Options, extra *tarExtra) (*tarFS, error) {
	s, err := openStream(r)
	if err != nil {
		return nil, err
	}
	defer s.close()
	t := newTarFS(opt, extra)
	err = t.scan(s)
	// The cache holds small files from anywhere in the archive: zero them,
	// they may be someone's secret.
	t.cache.clear()
	t.cache = nil
	if err != nil {
		t.discard()
		return nil, err
	}
	return t, nil
}

func newTarFS(opt Options, extra *tarExtra) *tarFS {
	plan := planFor(opt)
	dir := opt.Dir
	if extra != nil {
		if extra.dir != "" {
			dir = extra.dir
		}
		for p, n := range extra.read {
			if !slices.Contains(plan.stat, p) {
				plan.stat = append(plan.stat, p)
			}
			plan.read[p] = max(plan.read[p], n)
		}
	}
	t := &tarFS{
		dir:      dir,
		paths:    map[string]*tarEntry{},
		children: map[string]*tarEntry{},
		cache:    newLinkCache(linkCacheBudget),
		nginxDir: path.Dir(opt.NginxConfig),
		cfg:      map[string]*tarEntry{},
	}
	t.regions = []string{"/etc", t.nginxDir}
	t.childLimit = plan.listRead
	t.parent, t.parentKids = plan.parent, map[string]*tarEntry{}
	plan.stat = append(plan.stat, opt.HubConfig)
	plan.read[opt.HubConfig] = hubconfig.MaxFileSize + 1
	t.paths["/"] = &tarEntry{}
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
