// Package contract reads and writes the host's contract: the file
// (layout.ContractPath, /etc/hubsecrets/params.json) in which a host or an
// image carries the policy parameters in force for it, and how hubsecrets
// was installed there. The provisioner, `hubsecrets init` and `hubsecrets
// firstboot render` write it; `hubsecrets check` reads it from the scanned
// root (the site's --data still wins).
//
// Its shape is a data document as OPA takes one, so the file also works with
// `opa eval --data` and `hubsecrets check --data`:
//
//	{"hubsecrets": {"params": {...}, "host": {"dir": "/srv/jupyterhub", ...}}}
package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/params"
)

// MaxSize bounds what a reader reads of the file.
const MaxSize = 64 << 10

// Host says how hubsecrets was installed on the host.
type Host struct {
	// Dir is the secrets directory.
	Dir string `json:"dir"`
	// DirMode is the secrets directory's mode (octal string), which the
	// first-boot hook gives it when it has to make it (a fresh volume).
	DirMode string `json:"dir_mode,omitempty"`
	// HubUnit is the hub's systemd unit.
	HubUnit string `json:"hub_unit,omitempty"`
	// ScriptSHA256 is the SHA-256 (hex) of the first-boot script installed
	// with the contract; empty when none was.
	ScriptSHA256 string `json:"script_sha256,omitempty"`
	// WrittenBy names the tool and version that wrote the file.
	WrittenBy string `json:"written_by,omitempty"`
}

// File is the contract.
type File struct {
	Params params.Params
	Host   Host
}

type document struct {
	HubSecrets *struct {
		Params *params.Params `json:"params"`
		Host   *Host          `json:"host"`
	} `json:"hubsecrets"`
}

// Marshal encodes f, indented, with a final newline.
func Marshal(f File) ([]byte, error) {
	d := document{HubSecrets: &struct {
		Params *params.Params `json:"params"`
		Host   *Host          `json:"host"`
	}{&f.Params, &f.Host}}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("contract: %w", err)
	}
	return append(b, '\n'), nil
}

// Raw is a contract as read, before the policy judged its parameters.
type Raw struct {
	// Params is hubsecrets.params as written: the policy validates it.
	Params map[string]any
	Host   Host
}

// Parse reads a contract's shape: one JSON object {"hubsecrets": {...}}
// with only "params" (an object) and "host" (an object of known fields).
// The parameters' values are the policy's to judge. Errors say what is
// wrong, never the content.
func Parse(b []byte) (Raw, error) {
	var top map[string]json.RawMessage
	if err := strictDecode(b, &top); err != nil {
		return Raw{}, fmt.Errorf("not a JSON object: %w", err)
	}
	if extra := otherKeys(top, "hubsecrets"); extra != "" {
		return Raw{}, fmt.Errorf("unknown key %s: want only \"hubsecrets\"", extra)
	}
	hs, ok := top["hubsecrets"]
	if !ok {
		return Raw{}, errors.New(`no "hubsecrets" object`)
	}
	var inner map[string]json.RawMessage
	if err := strictDecode(hs, &inner); err != nil {
		return Raw{}, fmt.Errorf(`"hubsecrets" is not an object: %w`, err)
	}
	if extra := otherKeys(inner, "params", "host"); extra != "" {
		return Raw{}, fmt.Errorf("unknown key hubsecrets.%s: want params and host", extra)
	}
	var raw Raw
	if p, ok := inner["params"]; ok {
		if err := strictDecode(p, &raw.Params); err != nil || raw.Params == nil {
			return Raw{}, errors.New(`"hubsecrets.params" is not an object`)
		}
	}
	if h, ok := inner["host"]; ok {
		dec := json.NewDecoder(bytes.NewReader(h))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&raw.Host); err != nil {
			return Raw{}, fmt.Errorf(`"hubsecrets.host": %w`, err)
		}
	}
	return raw, nil
}

// strictDecode decodes exactly one JSON value into v.
func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("more than one JSON value")
	}
	return nil
}

func otherKeys(m map[string]json.RawMessage, want ...string) string {
	var extra []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(want, k) {
			extra = append(extra, fmt.Sprintf("%q", k))
		}
	}
	return strings.Join(extra, ", ")
}
