// Command endtoend plays the end-to-end scenario against the fake Gapcoin
// node and prints what it saw:
//
//	cd bindings/go && go run ./examples/endtoend
//
// (with CGO_LDFLAGS pointing at a built libicms, as bindings/go/test.sh sets).
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"
	"path/filepath"

	"libicms.org/icms/scenario"
)

func main() {
	dir, err := os.MkdirTemp("", "icms-go-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	node, err := scenario.StartNode(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer node.Stop()
	seen, err := scenario.Run(context.Background(), filepath.Join(dir, "icms.db"), node, false)
	if err != nil {
		log.Fatal(err)
	}
	out, _ := json.MarshalIndent(seen, "", "  ")
	os.Stdout.Write(append(out, '\n'))
}
