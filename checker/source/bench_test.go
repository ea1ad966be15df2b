package source

import (
	"context"
	"os"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/testtree"
)

// BenchmarkCollect measures one facts collection of a correct tree, side by
// side with what a person would do instead: lstat the same four paths.
func BenchmarkCollect(b *testing.B) {
	tr := testtree.Correct(b)
	b.Run("hubsecrets", func(b *testing.B) {
		for b.Loop() {
			fsys, err := OpenDir(tr.Root)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Collect(context.Background(), fsys, facts.Source{Kind: "dir"}, Options{}); err != nil {
				b.Fatal(err)
			}
			fsys.Close()
		}
	})
	b.Run("lstat", func(b *testing.B) {
		paths := []string{"/srv/jupyterhub", "/srv/jupyterhub/jupyterhub_cookie_secret", "/srv/jupyterhub/proxy_auth_token", "/srv/jupyterhub/dhparam.pem"}
		for b.Loop() {
			for _, p := range paths {
				if _, err := os.Lstat(tr.Path(p)); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
