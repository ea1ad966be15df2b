package firstboot

import (
	"context"
	"sync"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/params"
)

// The policy's parameters, as every part gets them: from the engine.
var (
	paramsOnce   sync.Once
	paramsEngine *checker.Engine
	paramsErr    error
)

func engine() *checker.Engine {
	paramsOnce.Do(func() {
		paramsEngine, paramsErr = checker.NewEngine(context.Background(), checker.Options{})
	})
	if paramsErr != nil {
		panic(paramsErr)
	}
	return paramsEngine
}

// paramsWith returns the parameters in force with site parameters set.
func paramsWith(site map[string]any) params.Params {
	eng := engine()
	if len(site) > 0 {
		var err error
		if eng, err = checker.NewEngine(context.Background(), checker.Options{Params: site}); err != nil {
			panic(err)
		}
	}
	p, err := eng.Params(context.Background(), nil)
	if err != nil {
		panic(err)
	}
	return p
}

func defaultParams() params.Params { return paramsWith(nil) }

// owned is the defaults with another owner and group (not validated by the
// policy: Validate's tests give it bad names).
func owned(owner, group string) params.Params {
	p := defaultParams()
	p.Owner, p.Group = owner, group
	return p
}

// withDefaults gives c the default parameters when it has none.
func withDefaults(c Config) Config {
	if c.Params.Owner == "" {
		c.Params = defaultParams()
	}
	return c
}

// plain makes identity sources of plain files.
func plain(paths ...string) []IdentitySource {
	out := make([]IdentitySource, len(paths))
	for i, p := range paths {
		out[i] = IdentitySource{Path: p, Kind: IDPlain}
	}
	return out
}
