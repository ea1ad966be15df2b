package firstboot

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"strings"
	"text/template"

	"github.com/hubsecrets/packer-plugin-jupyterhub/internal/layout"
)

// File is one file of the payload.
type File struct {
	// Path is absolute, inside the root the payload is installed in.
	Path string
	// Mode is the permission bits of a regular file, or os.ModeSymlink for
	// a symbolic link.
	Mode os.FileMode
	// Data is a regular file's content.
	Data []byte
	// LinkTarget is a symbolic link's target (the enable link's).
	LinkTarget string
}

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("").Option("missingkey=error").Funcs(template.FuncMap{
	"sh": shQuote,
}).ParseFS(templateFS, "templates/*.tmpl"))

// shQuote quotes s as one single-quoted sh word. Validate already keeps
// quotes out of every value; quoting anyway keeps each one a single word.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// data is what the templates see: the settings, the names from layout, and
// the parameters as the script's shell code uses them.
type data struct {
	Config
	CookieSecretFile, ProxyTokenFile, DHParamFile, StampFile, LockFile, TempPrefix string
	ScriptPath, UnitName, ContractPath                                             string
	// KeepModes is a case pattern of the secret modes kept, as stat %a
	// prints them (600 | 400); ModesText says them for people.
	KeepModes, ModesText string
	// CreateMode and DHParamMode are the modes made, as chmod takes them.
	CreateMode, CreateModeText, DHParamMode string
	DirModeText                             string
	MaxSecretSize                           int
}

// Render returns the payload for c: the script, the unit, the hub's drop-in
// and the enable link, in the order they should be installed. It only
// renders: nothing is read from or written to the machine it runs on. It
// refuses what Problems refuses, except a system directory as Dir: the
// front ends check that for the directory the host uses.
func Render(c Config) ([]File, error) {
	if errs := c.problems(false); len(errs) > 0 {
		return nil, errs[0]
	}
	c = c.WithDefaults()
	var keep, text []string
	for _, m := range c.Params.AllowedSecretModes {
		keep = append(keep, fmt.Sprintf("%o", m))
		text = append(text, fmt.Sprintf("%04o", m))
	}
	d := data{
		Config:           c,
		CookieSecretFile: layout.CookieSecretFile,
		ProxyTokenFile:   layout.ProxyTokenFile,
		DHParamFile:      layout.DHParamFile,
		StampFile:        layout.StampFile,
		LockFile:         layout.LockFile,
		TempPrefix:       layout.TempPrefix,
		ScriptPath:       layout.ScriptPath,
		UnitName:         layout.UnitName,
		ContractPath:     layout.ContractPath,
		KeepModes:        strings.Join(keep, " | "),
		ModesText:        strings.Join(text, " or "),
		CreateMode:       fmt.Sprintf("%o", c.Params.SecretMode()),
		CreateModeText:   fmt.Sprintf("%04o", c.Params.SecretMode()),
		DHParamMode:      fmt.Sprintf("%o", c.Params.DHParamMode()),
		DirModeText:      fmt.Sprintf("%04o", c.DirMode),
		MaxSecretSize:    layout.MaxSecretSize,
	}
	files := []File{
		{Path: layout.ScriptPath, Mode: 0o755},
		{Path: layout.UnitPath, Mode: 0o644},
		{Path: layout.DropInPath(d.HubUnit), Mode: 0o644},
	}
	for i, name := range []string{"jupyterhub-secrets.sh.tmpl", "jupyterhub-secrets.service.tmpl", "dropin.conf.tmpl"} {
		var b bytes.Buffer
		if err := templates.ExecuteTemplate(&b, name, d); err != nil {
			return nil, fmt.Errorf("firstboot: render %s: %w", name, err)
		}
		files[i].Data = b.Bytes()
	}
	return append(files, File{Path: layout.WantsLink, Mode: os.ModeSymlink | 0o777, LinkTarget: layout.UnitPath}), nil
}

// Script returns the rendered script alone, for reading or for RunScript.
func Script(c Config) ([]byte, error) {
	files, err := Render(c)
	if err != nil {
		return nil, err
	}
	return files[0].Data, nil
}
