package source

import (
	"path"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/params"
)

// DHParamDocument is the facts document of DH parameters about to be
// installed at p (a dhparam.pem path): data as the file's content, with the
// owner, group and mode the parameters in force give it. Whatever the
// policy denies about it is about the parameters themselves, so the
// provisioner, init and `dhparam --check` ask the policy, not their own
// idea of strong parameters.
func DHParamDocument(data []byte, p string, prm params.Params) *facts.Document {
	dir := path.Dir(p)
	mode := prm.DHParamMode()
	doc := &facts.Document{
		Schema: facts.Schema,
		Source: facts.Source{Kind: "dir", Root: "/"},
		Dir: facts.File{Path: dir, Exists: true, Type: facts.TypeDir, Mode: 0o755, ModeOctal: "0755",
			Owner: "root", Group: "root"},
		Files:      map[string]facts.File{},
		FirstBoot:  map[string]facts.File{},
		Unexpected: []facts.Entry{},
		Errors:     []string{},
		HubUnit:    layout.DefaultHubUnit,
		MachineID:  facts.MachineID{Path: layout.MachineIDPath, State: facts.MachineIDMissing},
		Contract:   facts.Contract{File: facts.File{Path: layout.ContractPath}},
	}
	for _, e := range expected {
		doc.Files[e.key] = facts.File{Path: path.Join(dir, e.name)}
	}
	dh := SummariseDH(data)
	if len(data) > dhparamReadLimit {
		dh = facts.DH{ParseError: "larger than 64 KiB: not a DH parameters file"}
	}
	doc.Files[facts.DHParam] = facts.File{
		Path: p, Exists: true, Type: facts.TypeFile, Mode: mode, ModeOctal: params.ModeText(mode),
		Owner: prm.Owner, Group: prm.Group, Size: int64(len(data)), DH: &dh,
	}
	for _, key := range []string{facts.FirstBootScript, facts.FirstBootUnit, facts.FirstBootEnabled, facts.FirstBootDropIn, facts.FirstBootStamp} {
		doc.FirstBoot[key] = facts.File{}
	}
	return doc
}
