package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// connect opens an SSH client to t: directly, or through its ProxyJump
// hosts, each dialed through the one before (a direct-tcpip channel, what
// ssh -J does) with the same host key verification and keys as any host.
// done closes every connection, innermost first.
func connect(ctx context.Context, t SSHTarget, cfg SSHConfig) (*ssh.Client, func(), error) {
	var clients []*ssh.Client
	var stops []func() bool
	done := func() {
		for i := len(clients) - 1; i >= 0; i-- {
			clients[i].Close()
			stops[i]()
		}
	}
	last := t
	last.Jump = nil
	hops := append(append([]SSHTarget(nil), t.Jump...), last)
	for i, h := range hops {
		var prev *ssh.Client
		if i > 0 {
			prev = clients[i-1]
		}
		c, stop, err := dialHop(ctx, h, prev, cfg)
		if err != nil {
			done()
			if ctx.Err() != nil {
				return nil, nil, context.Cause(ctx)
			}
			switch {
			case i < len(hops)-1:
				err = fmt.Errorf("jump host %s: %w", h.String(), err)
			case i > 0:
				err = fmt.Errorf("through jump host %s: %w", hops[i-1].String(), err)
			}
			return nil, nil, err
		}
		clients, stops = append(clients, c), append(stops, stop)
	}
	return clients[len(clients)-1], done, nil
}

// dialHop connects to h, through prev when it is set, and completes the
// SSH handshake within cfg.ConnectTimeout.
// stop releases the watch on ctx.
func dialHop(ctx context.Context, h SSHTarget, prev *ssh.Client, cfg SSHConfig) (client *ssh.Client, stop func() bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	var conn net.Conn
	if prev == nil {
		d := net.Dialer{}
		conn, err = d.DialContext(dctx, "tcp", h.Addr())
	} else {
		conn, err = prev.DialContext(dctx, "tcp", h.Addr())
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, context.Cause(ctx)
		}
		if dctx.Err() != nil {
			return nil, nil, fmt.Errorf("cannot connect to %s: no answer within %s (--timeout)", h.Addr(), cfg.ConnectTimeout)
		}
		if prev != nil {
			return nil, nil, fmt.Errorf("cannot connect to %s from there (is TCP forwarding to it allowed: AllowTcpForwarding, PermitOpen?): %w", h.Addr(), err)
		}
		return nil, nil, fmt.Errorf("cannot connect: %w", err)
	}
	// Closing the connection is what interrupts every blocked read: on
	// cancellation, and when the handshake outlasts the connect bound (a
	// server that accepts and then stalls must not hold a worker). A
	// channel through a jump host has no deadlines, so a timer it is.
	stop = context.AfterFunc(ctx, func() { conn.Close() })
	var timedOut atomic.Bool
	timer := time.AfterFunc(cfg.ConnectTimeout, func() { timedOut.Store(true); conn.Close() })
	var hostKeyErr error
	cc := &ssh.ClientConfig{User: h.User, Auth: []ssh.AuthMethod{cfg.auth(h)}}
	if cfg.HostKeys != nil {
		cc.HostKeyCallback = cfg.HostKeys.hostKeyCallback(&hostKeyErr)
		cc.HostKeyAlgorithms = cfg.HostKeys.algorithms(h.Addr())
	} else {
		cc.HostKeyCallback = ssh.InsecureIgnoreHostKey() // the user's explicit opt-out
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, h.Addr(), cc)
	timer.Stop()
	if err != nil {
		stop()
		conn.Close()
		switch {
		case ctx.Err() != nil:
			return nil, nil, context.Cause(ctx)
		case hostKeyErr != nil:
			return nil, nil, cfg.HostKeys.explain(h, hostKeyErr)
		case timedOut.Load():
			return nil, nil, fmt.Errorf("the SSH handshake with %s did not finish within %s (--timeout)", h.Addr(), cfg.ConnectTimeout)
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, nil, fmt.Errorf("%s refused our keys for user %q: add a public key to ~%s/.ssh/authorized_keys there, or offer the right one (--identity FILE, IdentityFile in the ssh config, or ssh-agent)", h.Name(), h.User, h.User)
		case errors.Is(err, net.ErrClosed):
			return nil, nil, fmt.Errorf("SSH handshake with %s: the connection was closed", h.Addr())
		}
		return nil, nil, fmt.Errorf("SSH handshake with %s: %w", h.Addr(), err)
	}
	if timedOut.Load() { // the timer fired as the handshake finished
		stop()
		c.Close()
		return nil, nil, fmt.Errorf("the SSH handshake with %s did not finish within %s (--timeout)", h.Addr(), cfg.ConnectTimeout)
	}
	return ssh.NewClient(c, chans, reqs), stop, nil
}
