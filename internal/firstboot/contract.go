package firstboot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/contract"
	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// Payload returns everything an install writes besides the secrets
// directory itself: the rendered files (Render), the host's contract
// (layout.ContractPath: the parameters c was rendered from and the script's
// digest, so `hubsecrets check` judges the host by them and can tell the
// script was not changed), and, when dhPEM is given, the copy of
// dhparam.pem the script restores on a fresh volume. writtenBy names the
// tool and version.
func Payload(c Config, dhPEM []byte, writtenBy string) ([]File, error) {
	files, err := Render(c)
	if err != nil {
		return nil, err
	}
	k, err := ContractFile(c, files[0].Data, writtenBy)
	if err != nil {
		return nil, err
	}
	files = append(files, k)
	if dhPEM != nil {
		files = append(files, File{Path: layout.DHParamCopyPath, Mode: 0o644, Data: dhPEM})
	}
	return files, nil
}

// ContractFile renders the host's contract for c; script is the rendered
// first-boot script, or nil when none is installed.
func ContractFile(c Config, script []byte, writtenBy string) (File, error) {
	c = c.WithDefaults()
	host := contract.Host{
		Dir:       c.Dir,
		DirMode:   fmt.Sprintf("%04o", c.DirMode),
		HubUnit:   c.HubUnit,
		WrittenBy: writtenBy,
	}
	if script != nil {
		sum := sha256.Sum256(script)
		host.ScriptSHA256 = hex.EncodeToString(sum[:])
	}
	b, err := contract.Marshal(contract.File{Params: c.Params, Host: host})
	if err != nil {
		return File{}, err
	}
	return File{Path: layout.ContractPath, Mode: 0o644, Data: b}, nil
}
