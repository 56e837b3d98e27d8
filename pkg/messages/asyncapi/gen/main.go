// Command gen writes the AsyncAPI document of package asyncapi to the file it is given.
package main

import (
	"fmt"
	"os"

	"github.com/streamgate/streamgate/pkg/messages/asyncapi"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen FILE")
		os.Exit(2)
	}
	doc, err := asyncapi.Document()
	if err == nil {
		err = os.WriteFile(os.Args[1], doc, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
