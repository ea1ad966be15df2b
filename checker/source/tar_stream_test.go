package source

// Tests of the tar source's wholeness checks: a damaged, cut or foreign
// input is an error naming what is wrong, never a partial document.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// TestTarRejectsDamagedArchives: a damaged archive is an error, never a
// partial document.
func TestTarRejectsDamagedArchives(t *testing.T) {
	tr := testtree.Correct(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "root.tar")
	// -b1: no record padding, so the end-of-archive marker is the last 1 KiB.
	runTool(t, "tar", "-C", tr.Root, "-b1", "-cf", plain, ".")
	whole, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	marker := len(whole) - 2*blockSize
	if !bytes.Equal(whole[marker:], make([]byte, 2*blockSize)) {
		t.Fatal("the archive does not end in its end-of-archive marker")
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(whole)
	zw.Close()
	zs := zstdBytes(t, whole)

	cases := map[string][]byte{
		"empty":          nil,
		"text":           []byte("hello, world\n"),
		"random":         randomBytes(4096),
		"zero blocks":    make([]byte, 4*blockSize),
		"gzip garbage":   gzipBytes(t, randomBytes(4096)),
		"xz":             []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 0},
		"bzip2":          []byte("BZh91AY&SY"),
		"corrupt gzip":   flip(gz.Bytes(), gz.Len()/2),
		"corrupt zstd":   flip(zs, len(zs)/2),
		"gzip crc":       flip(gz.Bytes(), gz.Len()-6),
		"bad header":     flip(whole, 100), // inside the first header's name
		"zstd truncated": zs[:len(zs)-3],
	}
	for off := 0; off <= marker; off += blockSize {
		cases[fmt.Sprintf("cut at block %d", off/blockSize)] = whole[:off]
	}
	for _, off := range []int{1, 100, 511, 513, marker - 1, marker + 1, len(whole) - 513} {
		cases[fmt.Sprintf("cut at byte %d", off)] = whole[:off]
	}
	for off := 0; off < gz.Len(); off += max(1, gz.Len()/13) {
		cases[fmt.Sprintf("gzip cut at byte %d", off)] = gz.Bytes()[:off]
	}
	for name, b := range cases {
		for how, wrap := range map[string]func([]byte) io.Reader{
			"file":   func(b []byte) io.Reader { return bytes.NewReader(b) },
			"stream": func(b []byte) io.Reader { return streamOnly{bytes.NewReader(b)} },
		} {
			fsys, err := OpenTar(wrap(b), Options{})
			if err == nil || fsys != nil {
				t.Errorf("%s (%s): OpenTar = %v, %v; want an error and no FS", name, how, fsys, err)
			}
		}
	}

	// The end-of-archive marker is two zero blocks; one, as from a writer
	// that stopped after it, still ends the archive (GNU tar warns, no more).
	if _, err := OpenTar(bytes.NewReader(whole[:len(whole)-blockSize]), Options{}); err != nil {
		t.Errorf("archive with one zero block at its end: %v", err)
	}
	// After the end-of-archive marker: ignored as GNU tar does, but read
	// (boundedly) so a decompressor verifies its checksum and its end.
	for name, c := range map[string]struct {
		in io.Reader
		ok bool
	}{
		"two archives":          {streamOnly{bytes.NewReader(append(bytes.Clone(whole), whole...))}, true},
		"gzip, then garbage":    {bytes.NewReader(append(bytes.Clone(gz.Bytes()), "garbage"...)), false},
		"65 MiB after the end":  {streamOnly{io.MultiReader(bytes.NewReader(whole), &zeroReader{65 << 20})}, false},
		"gzip, then bad member": {bytes.NewReader(append(bytes.Clone(gz.Bytes()), flip(gz.Bytes(), gz.Len()/2)...)), false},
	} {
		if _, err := OpenTar(c.in, Options{}); (err == nil) != c.ok {
			t.Errorf("%s: OpenTar error %v, want success %v", name, err, c.ok)
		}
	}
	// What the messages say.
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{nil, "not a tar archive: empty input"},
		{[]byte("hello"), "not a tar archive"},
		{whole[:marker], "truncated"},
		{whole[:marker-blockSize/2], "truncated"},
		{make([]byte, 4*blockSize), "holds no entries"},
		{[]byte{0xfd, '7', 'z', 'X', 'Z', 0}, "xz-compressed archive: not supported"},
		{gz.Bytes()[:gz.Len()-4], "gzip-compressed tar archive: truncated"},
		{gz.Bytes()[:100], "gzip-compressed tar archive: truncated at the start"},
	} {
		_, err := OpenTar(bytes.NewReader(c.in), Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("OpenTar(%d bytes) = %v, want an error saying %q", len(c.in), err, c.want)
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7919 + i*i*31 + 17)
	}
	return b
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x55
	return c
}

func TestTarErrorsNameTheMember(t *testing.T) {
	data := buildTar(t, tar.FormatPAX,
		tm{name: "srv/jupyterhub/", typ: tar.TypeDir, mode: 0o755},
		tm{name: "etc/passwd", size: 1 << 50}, // a header promising a petabyte
	)
	for _, r := range []io.Reader{bytes.NewReader(data), streamOnly{bytes.NewReader(data)}} {
		_, err := OpenTar(r, Options{})
		if err == nil || !strings.Contains(err.Error(), `"etc/passwd"`) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("OpenTar(%T) = %v, want a truncation error naming etc/passwd", r, err)
		}
	}
}
