package provisioner

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/factsschema"
)

// The packer source's facts (the collector run over the communicator, as
// the provisioner verifies an image) validate against the published
// schema: after a real install, so the first-boot payload is described too.
func TestPackerFactsMatchSchema(t *testing.T) {
	target, remote := newTarget(t)
	p := prepared(t, map[string]interface{}{"remote_dir": remote, "packer_build_name": "hub"})
	comm, ui := target.comm(), newUI()
	data := map[string]interface{}{"User": "root", "Host": "127.0.0.1"}
	if err := p.Provision(context.Background(), ui, comm, data); err != nil {
		t.Fatalf("Provision: %v\n%s", err, ui.all())
	}
	// Collect again as verify does, the collector's output about the
	// installed root answered over a communicator.
	doc, err := p.collect(context.Background(), ui, cannedTarget(t, target.root), filepath.Join(remote, "hubsecrets-x-collect.sh"), data, "root")
	if err != nil {
		t.Fatalf("collect: %v\n%s", err, ui.all())
	}
	if doc.Source.Kind != "packer" || !doc.FirstBoot["script"].Exists {
		t.Fatalf("collected source %+v, first-boot script %+v", doc.Source, doc.FirstBoot["script"])
	}
	if err := factsschema.ValidateDocument(doc); err != nil {
		t.Error(err)
	}
}
