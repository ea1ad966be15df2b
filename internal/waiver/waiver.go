// Package waiver reads a site's waivers and applies them to reports: a
// waiver accepts the findings of one rule, optionally only on some paths
// and hosts, for a stated reason, until a date. A waived finding stays in
// the report, marked, and no longer fails the run; an expired waiver stops
// waiving and says so, as does one that matches nothing.
//
// The file is YAML or JSON (JSON is YAML):
//
//	waivers:
//	  - id: HUB029                # rule id (required)
//	    path: /srv/jupyterhub/*   # glob on the finding's path (optional)
//	    host: "hub-*.example.org" # glob on the scanned host (optional)
//	    reason: "..."             # why (required)
//	    expires: 2027-06-30       # last day it applies, UTC (required)
//
// Globs are Go's path.Match: "*" matches within one path element, never
// across "/"; "**" is refused rather than read as "*".
package waiver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DateLayout is how expires is written.
const DateLayout = "2006-01-02"

// Waiver is one entry of a waivers file.
type Waiver struct {
	ID   string
	Path string // a path.Match pattern, or "" for every path
	Host string // a path.Match pattern, or "" for every source
	// Reason says why the finding is accepted; it is shown with it.
	Reason string
	// Expires is the last day the waiver applies (YYYY-MM-DD, UTC).
	Expires string
	// Entry names it in messages: `FILE: waivers[N]`.
	Entry string
}

// Set is the waivers of one file, in its order.
type Set struct {
	File    string
	Waivers []Waiver
}

// fields are the keys of an entry, in the order errors check them.
var fields = []string{"id", "path", "host", "reason", "expires"}

// maxSize bounds a waivers file: thousands of entries fit.
const maxSize = 4 << 20

// Load reads and validates the waivers file name. Any error names the
// file, the entry and the field, and nothing is waived.
func Load(name string) (*Set, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("waivers: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("waivers %s: %w", name, err)
	}
	if len(b) > maxSize {
		return nil, fmt.Errorf("waivers %s: larger than %d MiB", name, maxSize>>20)
	}
	return Parse(name, b)
}

// Parse validates the waivers in b, read from the file name.
func Parse(name string, b []byte) (*Set, error) {
	fail := func(line int, format string, a ...any) error {
		where := name
		if line > 0 {
			where = fmt.Sprintf("%s:%d", name, line)
		}
		return fmt.Errorf("waivers %s: %s", where, fmt.Sprintf(format, a...))
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail(0, `empty: want an object with a "waivers" list, such as {"waivers": [{"id": "HUB029", "reason": "...", "expires": "2027-06-30"}]}`)
		}
		return nil, fail(0, "not YAML or JSON: %v", err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, fail(more.Line, "holds more than one YAML document: keep one, with one \"waivers\" list")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fail(root.Line, `want an object with a "waivers" list, not %s`, kind(root))
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "waivers" {
			return nil, fail(k.Line, "%q: unknown key; the file holds one key, \"waivers\"", k.Value)
		}
		list = v
	}
	switch {
	case list == nil:
		return nil, fail(root.Line, `no "waivers" key: want {"waivers": [...]}`)
	case list.Kind == yaml.ScalarNode && list.Tag == "!!null":
		return &Set{File: name}, nil // "waivers:" with nothing yet
	case list.Kind != yaml.SequenceNode:
		return nil, fail(list.Line, `"waivers": want a list of waivers, not %s`, kind(list))
	}
	set := &Set{File: name}
	for i, item := range list.Content {
		entry := fmt.Sprintf("waivers[%d]", i)
		if item.Kind != yaml.MappingNode {
			return nil, fail(item.Line, "%s: want an object with id, reason and expires, not %s", entry, kind(item))
		}
		w := Waiver{Entry: name + ": " + entry}
		values := map[string]*yaml.Node{}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, v := item.Content[j], item.Content[j+1]
			if !known(k.Value) {
				return nil, fail(k.Line, "%s: %q: unknown key (want %s)", entry, k.Value, strings.Join(fields, ", "))
			}
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
				return nil, fail(v.Line, "%s.%s: want a string, not %s", entry, k.Value, kind(v))
			}
			values[k.Value] = v
		}
		text := func(f string) (string, int) {
			if v := values[f]; v != nil {
				return strings.TrimSpace(v.Value), v.Line
			}
			return "", item.Line
		}
		var line int
		if w.ID, line = text("id"); w.ID == "" {
			return nil, fail(line, "%s.id: required: the id of the rule to waive, such as HUB029", entry)
		}
		if w.Path, line = text("path"); w.Path != "" {
			if err := checkGlob(w.Path, true); err != nil {
				return nil, fail(line, "%s.path %q: %v", entry, w.Path, err)
			}
		}
		if w.Host, line = text("host"); w.Host != "" {
			if err := checkGlob(w.Host, false); err != nil {
				return nil, fail(line, "%s.host %q: %v", entry, w.Host, err)
			}
		}
		if w.Reason, line = text("reason"); w.Reason == "" {
			return nil, fail(line, "%s.reason: required: say why the finding is accepted (it is shown with it)", entry)
		}
		w.Expires, line = text("expires")
		if w.Expires == "" {
			return nil, fail(line, "%s.expires: required: the last day the waiver applies, YYYY-MM-DD, such as 2027-06-30", entry)
		}
		if d, err := time.Parse(DateLayout, w.Expires); err != nil || d.Format(DateLayout) != w.Expires {
			return nil, fail(line, "%s.expires %q: not a date: want YYYY-MM-DD, such as 2027-06-30", entry, w.Expires)
		}
		set.Waivers = append(set.Waivers, w)
	}
	return set, nil
}

func known(key string) bool {
	for _, f := range fields {
		if key == f {
			return true
		}
	}
	return false
}

// checkGlob refuses a pattern path.Match cannot use, "**" (which it would
// read as "*"), and for paths one that is not absolute (findings' paths
// are, so it would match nothing).
func checkGlob(p string, isPath bool) error {
	if _, err := path.Match(p, ""); err != nil {
		return errors.New("not a valid glob (Go's path.Match: *, ?, [a-z], \\ to escape)")
	}
	if strings.Contains(p, "**") {
		return errors.New(`"**" is not supported: "*" matches within one path element; write one waiver per directory level`)
	}
	if isPath && !strings.HasPrefix(p, "/") {
		return errors.New("want an absolute path or glob inside the scanned root, such as /srv/jupyterhub/*")
	}
	return nil
}

// kind describes a YAML node for errors.
func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "an object"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// Expired reports whether w no longer applies on the day of now (UTC):
// it applies through its expires day.
func (w Waiver) Expired(now time.Time) bool {
	return now.UTC().Format(DateLayout) > w.Expires
}

// Matches reports whether w covers a finding of rule id at path p on host
// (empty for a local root, which a waiver with a host never covers). Reports
// name a host as written to reach it, "user@name:port"; a host glob matches
// that, or the name alone, so "hub-*.example.org" covers
// "root@hub-1.example.org:2222" as a reader expects.
func (w Waiver) Matches(id, p, host string) bool {
	if w.ID != id {
		return false
	}
	if w.Path != "" {
		if ok, _ := path.Match(w.Path, p); !ok {
			return false
		}
	}
	if w.Host != "" {
		return host != "" && slices.ContainsFunc(hostForms(host), func(h string) bool {
			ok, _ := path.Match(w.Host, h)
			return ok
		})
	}
	return true
}

// hostForms are the ways a waiver may name a report's host: as the report
// does, without the user, and the name alone (no user, no port).
func hostForms(host string) []string {
	forms := []string{host}
	if i := strings.LastIndex(host, "@"); i >= 0 {
		host = host[i+1:]
		forms = append(forms, host)
	}
	if name, _, err := net.SplitHostPort(host); err == nil {
		forms = append(forms, name)
	}
	return forms
}

// describe is the waiver as messages name it.
func (w Waiver) describe() string {
	s := w.Entry + " (" + w.ID
	if w.Path != "" {
		s += " path " + w.Path
	}
	if w.Host != "" {
		s += " host " + w.Host
	}
	return s + ")"
}
