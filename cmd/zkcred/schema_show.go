package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
)

// showSchema prints a schema's attributes, how each value is written, and
// the header (with an example row) of a batch CSV.
func showSchema(s *circuits.Schema, holderColumn string) error {
	info, err := issuer.DescribeSchema(s, holderColumn)
	if err != nil {
		return usagef("see docs/issuer.md for the schema format", "%v", err)
	}
	if jsonOutput {
		return printJSON(info)
	}
	fmt.Printf("schema %s %s\nID %s\n\n", info.Name, info.Version, info.ID)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ATTRIBUTE\tLABEL\tTYPE\tWRITTEN AS")
	for _, a := range info.Attributes {
		format := a.Format
		if len(a.Values) > 0 {
			format = "one of " + strings.Join(a.Values, " | ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Name, a.Label, a.Type, format)
	}
	tw.Flush()
	fmt.Printf("\nCSV for 'zkcred issuer issue-batch': this header, then one row per credential\n(rows without a holder commitment get a claim link):\n%s\n%s\n", info.CSVHeader, info.CSVExample)
	return nil
}
