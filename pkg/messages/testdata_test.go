package messages

import (
	"os"
	"path/filepath"
	"testing"
)

// testdataBodies returns the golden and Python-written bodies in testdata, by file
// name: the inputs every decoder test and fuzz target starts from.
func testdataBodies(tb testing.TB) map[string][]byte {
	tb.Helper()
	bodies := map[string][]byte{}
	for _, dir := range []string{"golden", "python"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		if err != nil {
			tb.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				tb.Fatal(err)
			}
			bodies[file] = b
		}
	}
	return bodies
}

// TestdataBodies lets the external test package share testdataBodies.
var TestdataBodies = testdataBodies
