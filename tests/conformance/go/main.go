// Command conformance runs the shared conformance data against gen/go's generated code:
//
//	conformance session SCENARIO CONFIG   # data/session.json against a live stack
//	conformance vectors VECTORS           # data/vectors.json: decode and re-encode
//
// CONFIG is JSON: {"targets": {"<proto service>": "host:port"}, "inputs": {...}}. It prints
// `PASS name` or `FAIL name: why` per step (or vector), then `N passed, N failed`, and exits 1
// when anything failed. The data formats are in tests/conformance/README.md.
package main

import (
	"fmt"
	"os"
)

type outcome struct {
	name   string
	failed error
}

func main() {
	var outcomes []outcome
	var err error
	switch {
	case len(os.Args) == 4 && os.Args[1] == "session":
		outcomes, err = session(os.Args[2], os.Args[3])
	case len(os.Args) == 3 && os.Args[1] == "vectors":
		outcomes, err = vectors(os.Args[2])
	default:
		fmt.Fprintln(os.Stderr, "usage: conformance session SCENARIO CONFIG | conformance vectors VECTORS")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	failed := 0
	for _, result := range outcomes {
		if result.failed != nil {
			failed++
			fmt.Printf("FAIL %s: %v\n", result.name, result.failed)
		} else {
			fmt.Printf("PASS %s\n", result.name)
		}
	}
	fmt.Printf("%d passed, %d failed\n", len(outcomes)-failed, failed)
	if failed > 0 || len(outcomes) == 0 {
		os.Exit(1)
	}
}
