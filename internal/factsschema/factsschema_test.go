package factsschema

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hubsecrets/packer-plugin-jupyterhub/checker/facts"
	"github.com/hubsecrets/packer-plugin-jupyterhub/docs"
)

// schemaDoc is docs/facts.schema.json as plain JSON, to walk.
func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(docs.FactsSchema, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// resolve follows a "#/$defs/NAME" reference.
func resolve(root, node map[string]any) map[string]any {
	if r, ok := node["$ref"].(string); ok {
		return root["$defs"].(map[string]any)[strings.TrimPrefix(r, "#/$defs/")].(map[string]any)
	}
	return node
}

type field struct {
	name     string
	typ      reflect.Type
	required bool // no omitempty: always in the JSON
}

// jsonFields lists a struct's JSON fields as encoding/json writes them,
// embedded structs inlined.
func jsonFields(t reflect.Type) []field {
	var out []field
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, field{name, f.Type, !strings.Contains(opts, "omitempty")})
	}
	return out
}

// fixedKeys are the keys of the facts document's maps that the contract
// fixes (the Files and FirstBoot constants).
var fixedKeys = map[string][]string{
	".files":     {facts.CookieSecret, facts.ProxyToken, facts.DHParam},
	".firstboot": {facts.FirstBootScript, facts.FirstBootUnit, facts.FirstBootEnabled, facts.FirstBootDropIn, facts.FirstBootStamp},
}

// walk compares the Go type t with the schema node at path, and returns a
// value of t with every field populated that the schema must accept.
func walk(t *testing.T, root, node map[string]any, typ reflect.Type, path string) reflect.Value {
	node = resolve(root, node)
	if typ.Kind() == reflect.Pointer {
		v := reflect.New(typ.Elem())
		v.Elem().Set(walk(t, root, node, typ.Elem(), path))
		return v
	}
	want := map[reflect.Kind]string{
		reflect.String: "string", reflect.Bool: "boolean", reflect.Int: "integer", reflect.Int64: "integer",
		reflect.Slice: "array", reflect.Struct: "object", reflect.Map: "object",
	}[typ.Kind()]
	if got, _ := node["type"].(string); got != want && !(typ.Kind() == reflect.String && node["const"] != nil) {
		t.Errorf("%s: schema type %q, Go type %s wants %q", path, got, typ, want)
	}
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.String:
		v.SetString(sample(node))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(1)
	case reflect.Slice:
		items, _ := node["items"].(map[string]any)
		if items == nil {
			t.Errorf("%s: an array without items", path)
			return v
		}
		v.Set(reflect.Append(v, walk(t, root, items, typ.Elem(), path+"[]")))
	case reflect.Map:
		v.Set(reflect.MakeMap(typ))
		props, _ := node["properties"].(map[string]any)
		switch {
		case typ.Elem().Kind() == reflect.Interface: // free-form (contract params)
			v.SetMapIndex(reflect.ValueOf("owner"), reflect.ValueOf("root"))
		case props != nil:
			keys := slices.Sorted(mapsKeys(props))
			if want := slices.Sorted(slices.Values(fixedKeys[path])); !slices.Equal(keys, want) {
				t.Errorf("%s: schema keys %v, the facts constants say %v", path, keys, want)
			}
			if req := requiredOf(node); !slices.Equal(req, keys) {
				t.Errorf("%s: required %v, want every key %v", path, req, keys)
			}
			for _, k := range keys {
				v.SetMapIndex(reflect.ValueOf(k), walk(t, root, props[k].(map[string]any), typ.Elem(), path+"."+k))
			}
		default:
			add, _ := node["additionalProperties"].(map[string]any)
			if add == nil {
				t.Errorf("%s: a map without a schema for its values", path)
				return v
			}
			v.SetMapIndex(reflect.ValueOf("/etc/nginx/dhparam.pem"), walk(t, root, add, typ.Elem(), path+".*"))
		}
	case reflect.Struct:
		props, _ := node["properties"].(map[string]any)
		if node["additionalProperties"] != false {
			t.Errorf("%s: a Go struct is closed: want additionalProperties false", path)
		}
		var names, required []string
		for _, f := range jsonFields(typ) {
			names = append(names, f.name)
			if f.required {
				required = append(required, f.name)
			}
		}
		sort.Strings(names)
		sort.Strings(required)
		if got := slices.Sorted(mapsKeys(props)); !slices.Equal(got, names) {
			t.Errorf("%s: schema properties %v, Go json fields %v", path, got, names)
		}
		if got := requiredOf(node); !slices.Equal(got, required) {
			t.Errorf("%s: schema required %v, Go fields without omitempty %v", path, got, required)
		}
		// Populate through the JSON names, embedded structs included.
		obj := map[string]any{}
		for _, f := range jsonFields(typ) {
			p, ok := props[f.name].(map[string]any)
			if !ok {
				continue
			}
			obj[f.name] = walk(t, root, p, f.typ, path+"."+f.name).Interface()
		}
		b, _ := json.Marshal(obj)
		if err := json.Unmarshal(b, v.Addr().Interface()); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	default:
		t.Errorf("%s: Go kind %s not described", path, typ.Kind())
	}
	return v
}

func mapsKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func requiredOf(node map[string]any) []string {
	var out []string
	for _, r := range node["required"].([]any) {
		out = append(out, r.(string))
	}
	sort.Strings(out)
	return out
}

// sample is a string the node accepts: its const, first enum value, or a
// value for its pattern.
func sample(node map[string]any) string {
	if c, ok := node["const"].(string); ok {
		return c
	}
	if e, ok := node["enum"].([]any); ok {
		return e[0].(string)
	}
	switch node["pattern"] {
	case "^/":
		return "/srv/jupyterhub"
	case "^[0-7]{4}$", "^([0-7]{4})?$":
		return "0600"
	case "^[0-9a-f]{64}$":
		return strings.Repeat("ab", 32)
	case nil:
		return "x"
	}
	panic("no sample for pattern " + node["pattern"].(string))
}

// TestSchemaMatchesGoTypes fails when checker/facts and the schema drift:
// property names equal the Go JSON names, required equals the fields
// without omitempty, structs are closed; and a document with every field
// populated validates.
func TestSchemaMatchesGoTypes(t *testing.T) {
	root := schemaDoc(t)
	if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", root["$schema"])
	}
	full := walk(t, root, root, reflect.TypeFor[facts.Document](), "").Interface().(facts.Document)
	b, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	// Every field populated: nothing omitted, no null.
	if strings.Contains(string(b), "null") {
		t.Errorf("the populated document has a null: %s", b)
	}
	var top map[string]any
	json.Unmarshal(b, &top)
	if len(top) != len(jsonFields(reflect.TypeFor[facts.Document]())) {
		t.Errorf("the populated document has %d of %d fields", len(top), len(jsonFields(reflect.TypeFor[facts.Document]())))
	}
	if err := Validate(b); err != nil {
		t.Errorf("a document with every field populated does not validate: %v", err)
	}
}

func TestValidateRefuses(t *testing.T) {
	root := schemaDoc(t)
	full := walk(t, root, root, reflect.TypeFor[facts.Document](), "").Interface().(facts.Document)
	good, _ := json.Marshal(full)
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(good, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	for _, tc := range []struct {
		name, want string
		doc        []byte
	}{
		{"unknown field", "/dir", edit(func(m map[string]any) { m["dir"].(map[string]any)["colour"] = "red" })},
		{"missing field", "instance", edit(func(m map[string]any) { delete(m, "instance") })},
		{"bad enum", "/files/dhparam/type", edit(func(m map[string]any) {
			m["files"].(map[string]any)["dhparam"].(map[string]any)["type"] = "fifo"
		})},
		{"wrong type", "/dir/mode", edit(func(m map[string]any) { m["dir"].(map[string]any)["mode"] = "0600" })},
		{"null array", "/errors", edit(func(m map[string]any) { m["errors"] = nil })},
		{"other schema", "/schema", edit(func(m map[string]any) { m["schema"] = "hubsecrets/facts/v2" })},
		{"not JSON", "facts document", []byte("{")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to name %q", err, tc.want)
			}
		})
	}
}
