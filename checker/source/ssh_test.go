package source

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

func TestParseSSHTarget(t *testing.T) {
	tests := []struct {
		spec, defUser string
		want          SSHTarget
		name, addr    string
	}{
		{"hub1", "me", SSHTarget{User: "me", Host: "hub1", Port: 22}, "hub1", "hub1:22"},
		{"admin@hub1.example.org", "me", SSHTarget{User: "admin", Host: "hub1.example.org", Port: 22}, "hub1.example.org", "hub1.example.org:22"},
		{"root@127.0.0.1:2222", "", SSHTarget{User: "root", Host: "127.0.0.1", Port: 2222}, "127.0.0.1:2222", "127.0.0.1:2222"},
		{"[::1]:22", "me", SSHTarget{User: "me", Host: "::1", Port: 22}, "::1", "[::1]:22"},
		{"ops@[2001:db8::7]:2200", "", SSHTarget{User: "ops", Host: "2001:db8::7", Port: 2200}, "[2001:db8::7]:2200", "[2001:db8::7]:2200"},
		{"[::1]", "me", SSHTarget{User: "me", Host: "::1", Port: 22}, "::1", "[::1]:22"},
		{"fe80::1", "me", SSHTarget{User: "me", Host: "fe80::1", Port: 22}, "fe80::1", "[fe80::1]:22"},
		{"a@b@hub", "", SSHTarget{User: "a@b", Host: "hub", Port: 22}, "hub", "hub:22"}, // the last @ splits, as ssh does
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseSSHTarget(tt.spec, tt.defUser)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) || got.Name() != tt.name || got.Addr() != tt.addr {
				t.Errorf("got %+v name %q addr %q; want %+v %q %q", got, got.Name(), got.Addr(), tt.want, tt.name, tt.addr)
			}
			if s := got.String(); s != got.User+"@"+tt.name {
				t.Errorf("String() = %q", s)
			}
		})
	}

	bad := []struct{ spec, defUser, want string }{
		{"", "me", "empty host"},
		{"hub1", "", "no user"},
		{"@hub1", "me", "empty user"},
		{"root@", "me", "empty host"},
		{"hub1:", "me", "empty port"},
		{"hub1:0", "me", "port"},
		{"hub1:65536", "me", "port"},
		{"hub1:ssh", "me", "port"},
		{"[::1", "me", "missing ]"},
		{"[::1]2222", "me", "[address]:port"},
		{"[hub1]:22", "me", "not an IP address"},
		{"fe80::1::2", "me", "not an IPv6 address"},
		{"hub 1", "me", "spaces"},
		{"hub1\n", "me", "control"},
		{"-oProxyCommand=x", "me", "not a host"},
		{"hub1/x", "me", "not a host"},
	}
	for _, tt := range bad {
		t.Run("bad "+tt.spec, func(t *testing.T) {
			_, err := ParseSSHTarget(tt.spec, tt.defUser)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// fakeBin makes a directory of scripts named by the keys, for PATH.
func fakeBin(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRemoteCommandSudo runs the real command with a real sh, with id and
// sudo replaced: the script runs directly for uid 0, through `sudo -n sh -c
// SCRIPT` otherwise, and sudo's refusal becomes the fix.
func TestRemoteCommandSudo(t *testing.T) {
	tr := testtree.Correct(t)
	opt := Options{Dir: tr.Path("/srv/jupyterhub")}
	cmd := RemoteCommand(opt)
	if !strings.HasPrefix(cmd, "exec sh -c ") || strings.Count(cmd, remoteMagic) != 1 {
		t.Fatalf("want one sh command carrying the script once:\n%.300s", cmd)
	}

	tests := []struct {
		name, uid, sudo string
		wantSudo        bool   // sudo was run, with -n sh -c SCRIPT
		wantErr         string // from remoteFailure
	}{
		{"root", "0", `echo called >"$LOG"; exit 1`, false, ""},
		{"sudoer", "1000", `echo "$1 $2 $3" >"$LOG"; [ "$1" = -n ] && shift && exec "$@"`, true, ""},
		{"needs a password", "1000", `echo "$1 $2 $3" >"$LOG"; echo 'sudo: a password is required' >&2; exit 1`, true, "user builder needs passwordless sudo (or connect as root)"},
		{"not a sudoer", "1000", `echo "$1 $2 $3" >"$LOG"; echo 'builder is not in the sudoers file.  This incident will be reported.' >&2; exit 1`, true, "may not run sh as root through sudo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := fakeBin(t, map[string]string{"id": "echo " + tt.uid, "sudo": tt.sudo})
			log := filepath.Join(t.TempDir(), "sudo.log")
			// The login shell runs the command string, as sshd does.
			c := exec.Command("sh", "-c", cmd)
			c.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "LOG=" + log}
			var stdout, stderr bytes.Buffer
			c.Stdout, c.Stderr = &stdout, &stderr
			runErr := c.Run()

			called, _ := os.ReadFile(log)
			if tt.wantSudo != (len(called) > 0) {
				t.Fatalf("sudo called: %q, want called=%v", called, tt.wantSudo)
			}
			if tt.wantSudo && string(called) != "-n sh -c\n" {
				t.Errorf("sudo got %q, want -n sh -c SCRIPT", called)
			}
			if tt.wantErr == "" {
				if runErr != nil {
					t.Fatalf("%v: %s", runErr, stderr.Bytes())
				}
				fsys, err := ParseRemote(stdout.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				doc, err := Collect(context.Background(), fsys, facts.Source{Kind: "ssh", Root: "/", Host: "builder"}, opt)
				if err != nil || !doc.Files[facts.CookieSecret].Exists || len(doc.Errors) > 0 {
					t.Fatalf("collected %+v, errors %v (%v)", doc.Files[facts.CookieSecret], doc.Errors, err)
				}
				validFacts(t, doc)
				return
			}
			var exit *exec.ExitError
			if !errors.As(runErr, &exit) {
				t.Fatalf("want a failed command, got %v", runErr)
			}
			if err := remoteFailure("builder", exit.ExitCode(), stderr.String()); !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestRemoteFailure(t *testing.T) {
	tests := []struct{ stderr, want string }{
		{"sudo: a password is required\n", `user ops needs passwordless sudo (or connect as root): sudo asked for a password. Allow it on the host with "ops ALL=(ALL) NOPASSWD: ALL"`},
		{"sudo: a terminal is required to read the password; either use the -S option", "needs passwordless sudo"},
		{"sudo: sorry, you must have a tty to run sudo", `"Defaults:ops !requiretty"`},
		{"sh: 1: exec: sudo: not found", "the host has no sudo"},
		{"bash: sudo: command not found", "the host has no sudo"},
		{"Sorry, user ops is not allowed to execute '/bin/sh -c ...' as root", "may not run sh as root through sudo"},
		{"sh: stat: Permission denied\nmore", `exited 3: "sh: stat: Permission denied"`},
		{"", "exited 3 without a message"},
	}
	for _, tt := range tests {
		if err := remoteFailure("ops", 3, tt.stderr); !strings.Contains(err.Error(), tt.want) {
			t.Errorf("stderr %q: %q, want %q", tt.stderr, err, tt.want)
		}
	}
}

func newEd25519(t *testing.T) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

func TestKnownHosts(t *testing.T) {
	ed, _ := newEd25519(t)
	other, _ := newEd25519(t)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := ssh.NewSignerFromKey(rk)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "known_hosts")
	lines := knownhosts.Line([]string{"[127.0.0.1]:2222"}, ed.PublicKey()) + "\n" +
		knownhosts.Line([]string{"rsa.example.org"}, rs.PublicKey()) + "\n" +
		// hashed, as OpenSSH's HashKnownHosts writes them
		knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize("hashed.example.org:22"))}, ed.PublicKey()) + "\n"
	if err := os.WriteFile(file, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	kh, err := LoadKnownHosts(file, file)
	if err != nil {
		t.Fatal(err)
	}

	for addr, want := range map[string]string{
		"127.0.0.1:2222":         "ssh-ed25519",
		"rsa.example.org:22":     "rsa-sha2-512 rsa-sha2-256",
		"hashed.example.org:22":  "ssh-ed25519",
		"127.0.0.1:22":           "", // another port is another host
		"unknown.example.org:22": "",
	} {
		if got := strings.Join(kh.algorithms(addr), " "); got != want {
			t.Errorf("algorithms(%s) = %q, want %q", addr, got, want)
		}
	}

	local := SSHTarget{User: "root", Host: "127.0.0.1", Port: 2222}
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}
	if err := kh.check(local.Addr(), remote, ed.PublicKey()); err != nil {
		t.Fatalf("the known key: %v", err)
	}
	mismatch := kh.explain(local, kh.check(local.Addr(), remote, other.PublicKey())).Error()
	for _, want := range []string{"does NOT match " + file + ":1", "ssh-keygen -R '[127.0.0.1]:2222' -f " + file, "ssh-keyscan -p 2222 127.0.0.1 >> " + file} {
		if !strings.Contains(mismatch, want) {
			t.Errorf("mismatch error %q lacks %q", mismatch, want)
		}
	}
	stranger := SSHTarget{User: "root", Host: "new.example.org", Port: 22}
	unknown := kh.explain(stranger, kh.check(stranger.Addr(), remote, ed.PublicKey())).Error()
	for _, want := range []string{"host key of new.example.org is not known (checked " + file + ")", "ssh-keyscan -p 22 new.example.org >> " + file} {
		if !strings.Contains(unknown, want) {
			t.Errorf("unknown-host error %q lacks %q", unknown, want)
		}
	}
}

func TestLoadIdentity(t *testing.T) {
	_, priv := newEd25519(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	locked, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := LoadIdentity(write("plain", pem.EncodeToMemory(plain))); err != nil || s.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Errorf("plain key: %v", err)
	}
	for name, tt := range map[string]struct {
		content []byte
		want    string
	}{
		"locked":  {pem.EncodeToMemory(locked), "is passphrase-protected: load it into ssh-agent (ssh-add "},
		"garbage": {[]byte("not a key"), "not a private key"},
	} {
		if _, err := LoadIdentity(write(name, tt.content)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", name, err, tt.want)
		}
	}
	if _, err := LoadIdentity(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing key: %v", err)
	}
}

// testServer is an in-process SSH server on 127.0.0.1 whose exec requests
// get handle's output and exit status; no root, no sshd.
type testServer struct {
	addr    string
	hostKey ssh.Signer
	client  ssh.Signer
}

func startTestServer(t *testing.T, handle func(ch ssh.Channel)) *testServer {
	t.Helper()
	hostKey, _ := newEd25519(t)
	client, _ := newEd25519(t)
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(k.Marshal(), client.PublicKey().Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(hostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
				if err != nil {
					return
				}
				go ssh.DiscardRequests(reqs)
				for nc := range chans {
					ch, reqs, err := nc.Accept()
					if err != nil {
						return
					}
					go func() {
						for req := range reqs {
							req.Reply(req.Type == "exec", nil)
							if req.Type == "exec" {
								go func() { handle(ch); ch.Close() }()
							}
						}
					}()
				}
			}()
		}
	}()
	return &testServer{addr: ln.Addr().String(), hostKey: hostKey, client: client}
}

func (s *testServer) target(t *testing.T) SSHTarget {
	t.Helper()
	tg, err := ParseSSHTarget("root@"+s.addr, "")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func (s *testServer) config(t *testing.T) SSHConfig {
	t.Helper()
	file := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(file, []byte(knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.hostKey.PublicKey())+"\n"), 0o600)
	kh, err := LoadKnownHosts(file, file)
	if err != nil {
		t.Fatal(err)
	}
	return SSHConfig{Signers: []ssh.Signer{s.client}, HostKeys: kh, ConnectTimeout: 2 * time.Second}
}

func exitStatus(ch ssh.Channel, code uint32) {
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{code}))
}

// TestOpenSSHFailures checks the ways a host fails and that each names
// its fix, against an in-process server.
func TestOpenSSHFailures(t *testing.T) {
	ctx := context.Background()

	t.Run("output", func(t *testing.T) {
		srv := startTestServer(t, func(ch ssh.Channel) {
			ch.Write([]byte(remoteMagic + "\nN 2f\nend\n"))
			exitStatus(ch, 0)
		})
		fsys, err := OpenSSH(ctx, srv.target(t), srv.config(t), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.Lstat("/"); !isNotExist(err) {
			t.Errorf("Lstat(/) = %v, want the not-exist the server said", err)
		}
	})
	t.Run("sudo refused", func(t *testing.T) {
		srv := startTestServer(t, func(ch ssh.Channel) {
			ch.Stderr().Write([]byte("sudo: a password is required\n"))
			exitStatus(ch, 1)
		})
		_, err := OpenSSH(ctx, srv.target(t), srv.config(t), Options{})
		if err == nil || !strings.Contains(err.Error(), "user root needs passwordless sudo") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("too much output", func(t *testing.T) {
		srv := startTestServer(t, func(ch ssh.Channel) {
			chunk := bytes.Repeat([]byte("0"), 1<<20)
			for i := 0; i <= maxRemoteOutput>>20; i++ {
				if _, err := ch.Write(chunk); err != nil {
					return
				}
			}
			exitStatus(ch, 0)
		})
		if _, err := OpenSSH(ctx, srv.target(t), srv.config(t), Options{}); !errors.Is(err, errOutputTooLarge) {
			t.Errorf("err = %v, want errOutputTooLarge", err)
		}
	})
	t.Run("command hangs", func(t *testing.T) {
		srv := startTestServer(t, func(ch ssh.Channel) { time.Sleep(time.Minute) })
		cause := errors.New("gave up (test)")
		ctx, cancel := context.WithTimeoutCause(ctx, 300*time.Millisecond, cause)
		defer cancel()
		start := time.Now()
		if _, err := OpenSSH(ctx, srv.target(t), srv.config(t), Options{}); !errors.Is(err, cause) {
			t.Errorf("err = %v, want the context's cause", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %s to give up", d)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		srv := startTestServer(t, func(ch ssh.Channel) { exitStatus(ch, 0) })
		cfg := srv.config(t)
		stranger, _ := newEd25519(t)
		cfg.Signers = []ssh.Signer{stranger}
		_, err := OpenSSH(ctx, srv.target(t), cfg, Options{})
		if err == nil || !strings.Contains(err.Error(), `refused our keys for user "root"`) || !strings.Contains(err.Error(), "--identity") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown host key", func(t *testing.T) {
		srv := startTestServer(t, func(ch ssh.Channel) { exitStatus(ch, 0) })
		cfg := srv.config(t)
		empty, _ := LoadKnownHosts("/home/me/.ssh/known_hosts")
		cfg.HostKeys = empty
		tg := srv.target(t)
		_, err := OpenSSH(ctx, tg, cfg, Options{})
		want := "ssh-keyscan -p " + strings.TrimPrefix(tg.Addr(), "127.0.0.1:") + " 127.0.0.1 >> /home/me/.ssh/known_hosts"
		if err == nil || !strings.Contains(err.Error(), "is not known (checked no known_hosts file)") || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	})
	t.Run("stalled handshake", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() { // accept and say nothing
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		tg, _ := ParseSSHTarget("root@"+ln.Addr().String(), "")
		cfg := SSHConfig{ConnectTimeout: 300 * time.Millisecond}
		if _, err := OpenSSH(ctx, tg, cfg, Options{}); err == nil || !strings.Contains(err.Error(), "did not finish within 300ms (--timeout)") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		tg, _ := ParseSSHTarget("root@"+addr, "")
		if _, err := OpenSSH(ctx, tg, SSHConfig{ConnectTimeout: time.Second}, Options{}); err == nil || !strings.Contains(err.Error(), "cannot connect") || !strings.Contains(err.Error(), "refused") {
			t.Errorf("err = %v", err)
		}
	})
}
