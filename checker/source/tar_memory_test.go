package source

// Tests of the tar source's memory bound: archives far larger than it,
// huge members and many members, stream through a small, flat heap.

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// zeroReader yields n zero bytes.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), z.n)]
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// hugeArchive streams a root filesystem archive of about size bytes without
// holding it: one huge member of zeros, then the secrets directory. Its
// zeros are all read when z.n is 0.
func hugeArchive(t *testing.T, size int64) (r io.Reader, z *zeroReader) {
	var head, tail bytes.Buffer
	tw := tar.NewWriter(&head)
	for _, h := range []*tar.Header{
		{Name: "etc/passwd", Mode: 0o644, Size: int64(len("root:x:0:0::/root:/bin/sh\n"))},
		{Name: "var/lib/image.raw", Mode: 0o644, Size: size},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size < 1<<20 {
			io.WriteString(tw, "root:x:0:0::/root:/bin/sh\n")
		}
	}
	tw = tar.NewWriter(&tail)
	tw.WriteHeader(&tar.Header{Name: "srv/jupyterhub/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "srv/jupyterhub/jupyterhub_cookie_secret", Mode: 0o600, Size: int64(len(hexSecret))})
	io.WriteString(tw, hexSecret)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	z = &zeroReader{size}
	return streamOnly{io.MultiReader(&head, z, &tail)}, z
}

// manyEntries streams an archive of n empty files, the secrets last.
func manyEntries(t *testing.T, n int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		var err error
		for i := 0; i < n && err == nil; i++ {
			err = tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/share/doc/pkg%d/file%d", i/100, i), Mode: 0o644})
		}
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Name: "srv/jupyterhub/jupyterhub_cookie_secret", Mode: 0o600, Size: int64(len(hexSecret))})
		}
		if err == nil {
			_, err = io.WriteString(tw, hexSecret)
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// TestTarMemoryIsFlat streams archives far larger than the limit and
// checks the heap never holds more than a small, fixed amount.
func TestTarMemoryIsFlat(t *testing.T) {
	if testing.Short() { // time, not the machine: -short leaves it out
		t.Skip("streams 2 GiB")
	}
	const limit = 64 << 20
	huge, hugeZeros := hugeArchive(t, 2<<30)
	hugeZ, hugeZZeros := hugeArchive(t, 2<<30)
	for name, c := range map[string]struct {
		r     io.Reader
		zeros *zeroReader
	}{
		"2 GiB member":      {huge, hugeZeros},
		"500k members":      {manyEntries(t, 500_000), &zeroReader{}},
		"2 GiB member zstd": {zstdStream(t, hugeZ), hugeZZeros},
	} {
		t.Run(name, func(t *testing.T) {
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			var peak atomic.Uint64
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				var m runtime.MemStats
				for {
					runtime.ReadMemStats(&m)
					if m.HeapInuse > peak.Load() {
						peak.Store(m.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			}()
			start := time.Now()
			fsys, err := OpenTar(c.r, Options{})
			close(stop)
			<-done
			if err != nil {
				t.Fatal(err)
			}
			b, err := fsys.ReadPrefix("/srv/jupyterhub/jupyterhub_cookie_secret", secretReadLimit+1)
			if err != nil || string(b) != hexSecret {
				t.Fatalf("the secret after the big part = %q, %v", b, err)
			}
			if c.zeros.n != 0 {
				t.Fatalf("%d bytes of the big member left unread", c.zeros.n)
			}
			t.Logf("peak heap in use %.1f MiB (%.1f MiB before), %v", float64(peak.Load())/(1<<20), float64(base.HeapInuse)/(1<<20), time.Since(start).Round(time.Millisecond))
			if p := peak.Load(); p > limit {
				t.Errorf("peak heap in use %d MiB, want under %d MiB", p>>20, limit>>20)
			}
		})
	}
}

// zstdStream compresses r on the fly.
func zstdStream(t *testing.T, r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		enc, err := zstd.NewWriter(pw, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		_, err = io.Copy(enc, r)
		if cerr := enc.Close(); err == nil {
			err = cerr
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// BenchmarkOpenTar scans an in-memory rootfs-like archive: many small
// files, the secrets directory last.
func BenchmarkOpenTar(b *testing.B) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := bytes.Repeat([]byte("x"), 3000)
	for i := range 20000 {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/share/doc/pkg%d/file%d", i/100, i), Mode: 0o644, Size: int64(len(body))})
		tw.Write(body)
	}
	tw.WriteHeader(&tar.Header{Name: "srv/jupyterhub/jupyterhub_cookie_secret", Mode: 0o600, Size: int64(len(hexSecret))})
	io.WriteString(tw, hexSecret)
	tw.Close()
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if _, err := OpenTar(streamOnly{bytes.NewReader(buf.Bytes())}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTarConfigBudgetCountsRepeatedNames: a member named again with a
// bigger body is charged for it (64 empty *.conf files then the same 64
// names with 300 KiB each kept 19 MiB while charging nothing).
func TestTarConfigBudgetCountsRepeatedNames(t *testing.T) {
	var members []tm
	for i := range 64 {
		members = append(members, tm{name: fmt.Sprintf("etc/x%03d.conf", i), mode: 0o644})
	}
	body := strings.Repeat("#", 300<<10)
	for i := range 64 {
		members = append(members, tm{name: fmt.Sprintf("etc/x%03d.conf", i), mode: 0o644, body: body})
	}
	fsys, err := OpenTar(bytes.NewReader(buildTar(t, tar.FormatGNU, members...)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tf := fsys.(*tarFS)
	kept := 0
	for _, e := range tf.cfg {
		kept += len(e.data)
	}
	if kept > configBudget || tf.cfgBytes > configBudget || !tf.cfgDropped {
		t.Errorf("kept %d bytes, charged %d, dropped %v; the budget is %d", kept, tf.cfgBytes, tf.cfgDropped, configBudget)
	}
	// A name whose last member was not kept is not read with an earlier one's content.
	if _, err := fsys.ReadPrefix("/etc/x063.conf", 10); err == nil {
		t.Error("the last name's content was read although its last member was not kept")
	}
}
