package source

// Helpers shared by the tar source's tests (and config_test.go's and the
// fuzz test's): feeding an archive as a file or a stream, comparing its
// facts with a tree's, running archivers, building archives by hand.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
	"github.com/klauspost/compress/zstd"
)

// streamOnly hides Seek, as a pipe or standard input would.
type streamOnly struct{ io.Reader }

// tarOpeners feed an archive to OpenTar as a seekable file and as a stream:
// the two ways archive/tar skips member data.
var tarOpeners = map[string]func(t *testing.T, file string) io.Reader{
	"file": func(t *testing.T, file string) io.Reader {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	},
	"stream": func(t *testing.T, file string) io.Reader {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return streamOnly{bytes.NewReader(b)}
	},
}

// factsJSON collects fsys and returns the document as JSON, with what
// legitimately differs between a tree and its archive cleared: the source,
// and directories' sizes (the filesystem's, not the tree's).
func factsJSON(t *testing.T, fsys FS, opt Options) string {
	t.Helper()
	doc, err := Collect(context.Background(), fsys, facts.Source{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	validFacts(t, doc)
	dirSize := func(f *facts.File) {
		if f.Type == facts.TypeDir {
			f.Size = 0
		}
	}
	dirSize(&doc.Dir)
	for k, f := range doc.FirstBoot {
		dirSize(&f)
		doc.FirstBoot[k] = f
	}
	for i, e := range doc.Unexpected {
		if e.Type == facts.TypeDir {
			doc.Unexpected[i].Size = 0
		}
	}
	return toJSON(t, doc)
}

func dirFactsJSON(t *testing.T, root string, opt Options) string {
	t.Helper()
	fsys, err := OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	return factsJSON(t, fsys, opt)
}

func openTarFile(t *testing.T, r io.Reader, opt Options) FS {
	t.Helper()
	fsys, err := OpenTar(r, opt)
	if err != nil {
		t.Fatalf("OpenTar: %v", err)
	}
	return fsys
}

// runTool runs an archiver; without it the test skips (testenv).
func runTool(t *testing.T, argv ...string) {
	t.Helper()
	tool := testenv.NeedTool(t, argv[0], "the tar source reads archives that real archivers make")
	if out, err := exec.Command(tool, argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
}

func needZstd(t *testing.T) {
	t.Helper()
	testenv.NeedTool(t, "zstd", "the tar source reads zstd archives that zstd makes (apt-get install zstd)")
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

func zstdBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// tm is one member for buildTar.
type tm struct {
	name, link, body string
	typ              byte
	mode             int64
	size             int64 // when set, a header claiming this size, without its data
}

// buildTar writes members with archive/tar, for what real tools will not
// make: hostile names, odd orders, lying sizes.
func buildTar(t testing.TB, format tar.Format, members ...tm) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		if m.typ == 0 {
			m.typ = tar.TypeReg
		}
		if m.mode == 0 {
			m.mode = 0o600
		}
		hdr := &tar.Header{Name: m.name, Linkname: m.link, Typeflag: m.typ, Mode: m.mode, Format: format}
		if m.typ == tar.TypeReg {
			hdr.Size = int64(len(m.body))
		}
		if m.size != 0 {
			hdr.Size = m.size
			if err := tw.WriteHeader(hdr); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes() // the stream ends in the data
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := io.WriteString(tw, m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
