package source

// Opening a tar source's input: telling plain tar, gzip and zstd apart by
// their magic bytes, decompressing, and counting what archive/tar reads (a
// plain file stays seekable, so member data is skipped, not read).

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// zstdMaxWindow caps the zstd decoder's window: every compression level
// up to 19 (8 MiB) and --long up to 25 fit; larger ones are refused
// rather than allowed to take the memory.
const zstdMaxWindow = 32 << 20

const (
	kindTar  = "tar archive"
	kindGzip = "gzip-compressed tar archive"
	kindZstd = "zstd-compressed tar archive"
)

// tarStream is the decompressed archive.
type tarStream struct {
	kind  string
	cr    *countingReader
	tarIn io.Reader // cr, with Seek when the input is a plain seekable file
	rest  io.Reader // read to the end after the archive; nil if not needed
	close func()
}

// openStream tells the compression apart by its magic bytes. A seekable
// plain archive (a file) stays seekable so archive/tar skips member data
// without reading it.
func openStream(r io.Reader) (*tarStream, error) {
	var (
		magic []byte
		src   io.Reader
	)
	if rs, ok := r.(io.ReadSeeker); ok {
		if pos, err := rs.Seek(0, io.SeekCurrent); err == nil {
			buf := make([]byte, 6)
			n, err := io.ReadFull(rs, buf)
			if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("read archive: %w", err)
			}
			if _, err := rs.Seek(pos, io.SeekStart); err != nil {
				return nil, fmt.Errorf("read archive: %w", err)
			}
			magic = buf[:n]
			if kindOf(magic) == kindTar {
				bs := &bufSeeker{f: rs, buf: make([]byte, 64<<10), pos: pos}
				cr := &countingReader{r: bs}
				return &tarStream{kind: kindTar, cr: cr, tarIn: &countingSeeker{cr, bs, pos}, close: func() {}}, nil
			}
			src = bufio.NewReaderSize(rs, 64<<10)
		}
	}
	if src == nil {
		br := bufio.NewReaderSize(r, 64<<10)
		magic, _ = br.Peek(6)
		src = br
	}
	s := &tarStream{kind: kindOf(magic), close: func() {}}
	var dec io.Reader = src
	switch s.kind {
	case kindGzip:
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.kind, err)
		}
		dec = zr
	case kindZstd:
		zr, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.kind, err)
		}
		dec, s.close = zr, zr.Close
	case kindTar:
	default:
		return nil, fmt.Errorf("%s: not supported: decompress it first and pass the tar on standard input (--tar -)", s.kind)
	}
	s.cr = &countingReader{r: dec}
	s.tarIn, s.rest = s.cr, dec
	return s, nil
}

func kindOf(magic []byte) string {
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return kindGzip
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return kindZstd
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return "xz-compressed archive"
	case bytes.HasPrefix(magic, []byte("BZh")):
		return "bzip2-compressed archive"
	}
	return kindTar
}

// countingReader counts what archive/tar reads and keeps the last block of
// it, for the end-of-archive check.
type countingReader struct {
	r       io.Reader
	off     int64
	tail    [blockSize]byte
	tailLen int // how much of tail is valid since the last seek
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.off += int64(n)
	b := p[:n]
	if len(b) >= blockSize {
		copy(c.tail[:], b[len(b)-blockSize:])
	} else {
		copy(c.tail[:], c.tail[len(b):])
		copy(c.tail[blockSize-len(b):], b)
	}
	c.tailLen = min(c.tailLen+n, blockSize)
	return n, err
}

// endsInZeroBlock reports whether the stream read so far ends with a whole
// block of zeros.
func (c *countingReader) endsInZeroBlock() bool {
	return c.off%blockSize == 0 && c.tailLen == blockSize && c.tail == [blockSize]byte{}
}

// countingSeeker lets archive/tar seek over member data in a plain file.
type countingSeeker struct {
	*countingReader
	s    io.Seeker
	base int64 // the file offset where the archive starts
}

func (c *countingSeeker) Seek(offset int64, whence int) (int64, error) {
	pos, err := c.s.Seek(offset, whence)
	if err == nil {
		if off := pos - c.base; off != c.off {
			c.off, c.tailLen = off, 0
		}
	}
	return pos, err
}

// bufSeeker buffers a file's reads and seeks over what need not be read:
// archive/tar reads a header 512 bytes at a time and seeks over member data.
type bufSeeker struct {
	f    io.ReadSeeker
	buf  []byte
	r, w int   // buf[r:w] is buffered
	pos  int64 // the file offset of buf[r]
}

func (b *bufSeeker) Read(p []byte) (int, error) {
	if b.r == b.w {
		if len(p) >= len(b.buf) {
			n, err := b.f.Read(p)
			b.pos += int64(n)
			return n, err
		}
		n, err := b.f.Read(b.buf)
		b.r, b.w = 0, n
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	b.pos += int64(n)
	return n, nil
}

// Seek implements the relative seeks archive/tar makes.
func (b *bufSeeker) Seek(offset int64, whence int) (int64, error) {
	if whence != io.SeekCurrent {
		return 0, errors.New("bufSeeker: only relative seeks")
	}
	if offset >= 0 && offset <= int64(b.w-b.r) {
		b.r += int(offset)
		b.pos += offset
		return b.pos, nil
	}
	pos, err := b.f.Seek(b.pos+offset, io.SeekStart)
	if err != nil {
		return 0, err
	}
	b.r, b.w, b.pos = 0, 0, pos
	return pos, nil
}
