package source

import (
	"encoding/pem"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/dhparam"
)

// SummariseDH describes DH parameters: whether they parse as PKCS#3 PEM and
// what the primality and group checks found.
func SummariseDH(b []byte) facts.DH {
	p, err := dhparam.ParsePEM(b)
	if err != nil {
		return facts.DH{ParseError: err.Error(), Format: pemType(b)}
	}
	c := dhparam.Inspect(p)
	return facts.DH{
		Parsed:         true,
		Format:         "DH PARAMETERS",
		PrimeBits:      c.Bits,
		Generator:      c.Generator,
		PrimeProbable:  c.PrimeProbable,
		SafePrime:      c.SafePrime,
		GeneratorValid: c.GeneratorValid,
		Group:          c.Group,
		WeakGroup:      c.Weak,
	}
}

// pemType is the type of the first PEM block in b ("" when there is none),
// so a report can say "X9.42 DH PARAMETERS" or "CERTIFICATE" found instead.
func pemType(b []byte) string {
	if blk, _ := pem.Decode(b); blk != nil {
		return blk.Type
	}
	return ""
}
