package deploy

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const library = "streamgate-lib"

// TestLibraryVendoredUpToDate: each service chart carries the library chart
// it depends on (charts/<chart>/charts/streamgate-lib-<version>.tgz, so
// `helm install ./charts/gateway` works from a plain clone), and that copy
// holds exactly the files of charts/streamgate-lib. A library edit without
// `make charts-deps` fails here.
func TestLibraryVendoredUpToDate(t *testing.T) {
	root := repoRoot(t)
	libDir := filepath.Join(root, "charts", library)
	var meta struct {
		Version string `json:"version"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "charts/"+library+"/Chart.yaml")), &meta); err != nil {
		t.Fatal(err)
	}
	source := map[string][]byte{}
	err := filepath.WalkDir(libDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(libDir, p)
		b, err := os.ReadFile(p)
		source[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range charts {
		t.Run(c.name, func(t *testing.T) {
			var deps struct {
				Dependencies []struct {
					Name       string `json:"name"`
					Version    string `json:"version"`
					Repository string `json:"repository"`
				} `json:"dependencies"`
			}
			if err := yaml.Unmarshal([]byte(readFile(t, "charts/"+c.name+"/Chart.yaml")), &deps); err != nil {
				t.Fatal(err)
			}
			if len(deps.Dependencies) != 1 || deps.Dependencies[0].Name != library ||
				deps.Dependencies[0].Version != meta.Version || deps.Dependencies[0].Repository != "file://../"+library {
				t.Fatalf("Chart.yaml dependencies %+v, want %s %s from file://../%s", deps.Dependencies, library, meta.Version, library)
			}
			archives, _ := filepath.Glob(filepath.Join(root, "charts", c.name, "charts", "*.tgz"))
			want := filepath.Join(root, "charts", c.name, "charts", fmt.Sprintf("%s-%s.tgz", library, meta.Version))
			if !slices.Equal(archives, []string{want}) {
				t.Fatalf("charts/%s/charts holds %v, want only %s: run `make charts-deps`", c.name, archives, filepath.Base(want))
			}
			vendored := untar(t, want, library+"/")
			for name, b := range source {
				v, ok := vendored[name]
				switch {
				case !ok:
					t.Errorf("%s is not in the vendored library: run `make charts-deps`", name)
				case name == "Chart.yaml":
					// helm package rewrites Chart.yaml from the parsed metadata.
					if !sameYAML(t, b, v) {
						t.Errorf("the vendored Chart.yaml differs from charts/%s/Chart.yaml: run `make charts-deps`", library)
					}
				case string(v) != string(b):
					t.Errorf("the vendored %s differs from charts/%s/%s: run `make charts-deps`", name, library, name)
				}
			}
			for name := range vendored {
				if _, ok := source[name]; !ok {
					t.Errorf("the vendored library has %s, which charts/%s no longer has: run `make charts-deps`", name, library)
				}
			}
		})
	}
}

// untar returns the regular files of a .tgz under prefix, by relative name.
func untar(t *testing.T, path, prefix string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h.Typeflag != tar.TypeReg || !strings.HasPrefix(h.Name, prefix) {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		files[strings.TrimPrefix(h.Name, prefix)] = b
	}
}

func sameYAML(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := yaml.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
