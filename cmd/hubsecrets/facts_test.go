package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/factsschema"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// validFactsOutput fails the test unless `hubsecrets facts` printed a
// document that validates against docs/facts.schema.json.
func validFactsOutput(t *testing.T, stdout string) {
	t.Helper()
	if err := factsschema.Validate([]byte(stdout)); err != nil {
		t.Errorf("hubsecrets facts output: %v", err)
	}
}

func TestFactsProfile(t *testing.T) {
	tr := testtree.Tutorial(t)
	for _, tc := range []struct {
		args []string
		want string // the document's profile, "" for none
	}{
		{nil, ""},
		{[]string{"--profile", "image"}, "image"},
		{[]string{"--profile", "instance"}, "instance"},
	} {
		r := runCLI(t, append([]string{"facts", "--root", tr.Root}, tc.args...)...)
		if r.code != exitOK {
			t.Fatalf("facts %q: exit %d\n%s", tc.args, r.code, r.stderr)
		}
		validFactsOutput(t, r.stdout)
		var doc map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatal(err)
		}
		got, has := doc["profile"]
		if tc.want == "" && has || tc.want != "" && got != tc.want {
			t.Errorf("facts %q: profile %v (present %v), want %q", tc.args, got, has, tc.want)
		}
	}
	r := runCLI(t, "facts", "--root", tr.Root, "--profile", "laptop")
	if r.code != exitFailure || !strings.Contains(r.stderr, `--profile "laptop": want instance or image`) || r.stdout != "" {
		t.Errorf("--profile laptop: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}
