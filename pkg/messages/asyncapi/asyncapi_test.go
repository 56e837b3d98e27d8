package asyncapi_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/streamgate/streamgate/pkg/messages/asyncapi"
)

// The committed asyncapi.json is what the generator writes from the contract today.
func TestCommittedDocumentIsCurrent(t *testing.T) {
	doc, err := asyncapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("asyncapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, committed) {
		t.Fatal("asyncapi.json is stale: run `make docs` (go generate ./... in pkg/messages) and commit it")
	}
}
