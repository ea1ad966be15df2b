package hubconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testenv"
)

// osFiles reads a real directory tree (the test's own files: no root
// mapping needed).
type osFiles struct{}

func (osFiles) Read(p string, n int64) ([]byte, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", p, ErrNotRegular)
	}
	b, err := os.ReadFile(p)
	if int64(len(b)) > n {
		b = b[:n]
	}
	return b, err
}

func (osFiles) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

// TestRealNginx runs a real nginx on 127.0.0.1 for each configuration and
// offers it only DHE suites with openssl s_client. What the facts say must
// be what nginx does: DHE is negotiated exactly when the cipher string
// enables DHE suites (the evaluator) and ssl_dhparam is set; with DHE
// suites and no ssl_dhparam, nginx silently does no DHE (HUB056's premise).
// And what nginx -t refuses, ReadNginx reports (HUB057's).
func TestRealNginx(t *testing.T) {
	for _, tool := range []string{"nginx", "openssl"} {
		testenv.NeedTool(t, tool, "the nginx reader's DHE verdicts are compared with a real nginx (apt-get install nginx-light openssl)")
	}
	dir := t.TempDir()
	key, cert := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
		"-subj", "/CN=localhost", "-days", "1").CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	g, err := dhparam.Group("ffdhe2048")
	if err != nil {
		t.Fatal(err)
	}
	dh := filepath.Join(dir, "dh.pem")
	if err := os.WriteFile(dh, g.MarshalPEM(), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, ciphers, protocols string
		dhparam                  bool
	}{
		{"nginx's default ciphers, no ssl_dhparam", "", "", false},
		{"nginx's default ciphers, ssl_dhparam", "", "", true},
		{"EDH+AESGCM, ssl_dhparam", "EDH+AESGCM", "", true},
		{"Mozilla intermediate (no DHE), ssl_dhparam", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", "", true},
		{"DEFAULT:!DHE, ssl_dhparam", "DEFAULT:!DHE", "", true},
		{"TLSv1.3 only, ssl_dhparam", "", "TLSv1.3", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := filepath.Join(dir, fmt.Sprintf("nginx%d.conf", i))
			port := freePort(t)
			var site strings.Builder
			fmt.Fprintf(&site, "listen 127.0.0.1:%d ssl; ssl_certificate %s; ssl_certificate_key %s;", port, cert, key)
			if tt.dhparam {
				fmt.Fprintf(&site, " ssl_dhparam %s;", dh)
			}
			if tt.ciphers != "" {
				fmt.Fprintf(&site, " ssl_ciphers %q;", tt.ciphers)
			}
			if tt.protocols != "" {
				fmt.Fprintf(&site, " ssl_protocols %s;", tt.protocols)
			}
			writeNginxConf(t, dir, conf, site.String())

			n, incomplete := ReadNginx(conf, osFiles{})
			if len(incomplete) != 0 || len(n.Errors) != 0 || len(n.Servers) != 1 {
				t.Fatalf("incomplete %v errors %+v servers %+v", incomplete, n.Errors, n.Servers)
			}
			s := n.Servers[0]
			if !s.TLS || (s.DHParam != nil) != tt.dhparam {
				t.Fatalf("server %+v", s)
			}
			nginxT(t, dir, conf, true)
			stop := startNginx(t, dir, conf, port)
			defer stop()
			got := negotiatesDHE(t, port)
			want := s.DHESuites && tt.dhparam
			if got != want {
				t.Errorf("nginx negotiates DHE: %v; the facts say DHE suites %v (%v) and ssl_dhparam %v", got, s.DHESuites, s.DHESuiteNames, tt.dhparam)
			}
		})
	}

	t.Run("what nginx -t refuses, ReadNginx reports", func(t *testing.T) {
		for i, site := range []string{
			fmt.Sprintf(`listen 127.0.0.1:1 ssl; ssl_certificate %s; ssl_certificate_key %s; ssl_ciphers "HIGH:$x";`, cert, key),
			fmt.Sprintf(`listen 127.0.0.1:1 ssl; ssl_certificate %s; ssl_certificate_key %s; include %s/missing.conf;`, cert, key, dir),
			`listen 127.0.0.1:1 ssl; ssl_dhparam;`,
			`listen 127.0.0.1:1 ssl; events {}`,
		} {
			conf := filepath.Join(dir, fmt.Sprintf("bad%d.conf", i))
			writeNginxConf(t, dir, conf, site)
			nginxT(t, dir, conf, false)
			if n, _ := ReadNginx(conf, osFiles{}); len(n.Errors) == 0 {
				t.Errorf("nginx -t refuses %q, ReadNginx reports no error", site)
			}
		}
	})
}

func writeNginxConf(t *testing.T, dir, conf, site string) {
	t.Helper()
	for _, d := range []string{"tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(dir, "tmp")
	body := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log;
events {}
http {
	access_log off;
	client_body_temp_path %[2]s/body; proxy_temp_path %[2]s/proxy; fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi; scgi_temp_path %[2]s/scgi;
	server { %[3]s return 200 "ok"; }
}
`, dir, tmp, site)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// nginxT runs nginx -t and checks it accepts (or refuses) conf.
func nginxT(t *testing.T, dir, conf string, ok bool) {
	t.Helper()
	out, err := exec.Command("nginx", "-t", "-p", dir, "-c", conf).CombinedOutput()
	if (err == nil) != ok {
		t.Fatalf("nginx -t: %v (want success %v)\n%s", err, ok, out)
	}
}

// startNginx runs nginx in the foreground on 127.0.0.1:port and returns
// a function that stops it (also called when the test ends).
func startNginx(t *testing.T, dir, conf string, port int) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "nginx", "-p", dir, "-c", conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return stop
		}
		select {
		case <-done:
			b, _ := os.ReadFile(filepath.Join(dir, "logs/error.log"))
			t.Fatalf("nginx exited: %s\n%s", out.String(), b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %d", port)
		}
	}
}

// negotiatesDHE offers nginx only DHE suites over TLSv1.2 and says
// whether a handshake happened.
func negotiatesDHE(t *testing.T, port int) bool {
	t.Helper()
	cmd := exec.Command("openssl", "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port), "-tls1_2", "-cipher", "kDHE", "-servername", "localhost")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	ok := err == nil && bytes.Contains(out, []byte("Cipher is DHE-"))
	if !ok && err == nil {
		t.Fatalf("openssl s_client succeeded without a DHE suite:\n%s", out)
	}
	return ok
}
