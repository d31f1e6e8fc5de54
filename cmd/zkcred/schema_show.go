package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/issuer"
)

// showSchema prints a schema's attributes and the header of a batch CSV.
func showSchema(s *circuits.Schema) error {
	id := circuits.Dec(s.ID())
	var cols []string
	type attr struct {
		Name   string   `json:"name"`
		Label  string   `json:"label"`
		Type   string   `json:"type"`
		Scale  int      `json:"scale,omitempty"`
		Values []string `json:"values,omitempty"`
	}
	var attrs []attr
	for _, a := range s.Attributes {
		cols = append(cols, a.Name)
		l := a.Display
		if l == "" {
			l = a.Name
		}
		attrs = append(attrs, attr{a.Name, l, string(a.Type), a.Scale, a.Values})
	}
	header := strings.Join(append(cols, issuer.DefaultHolderColumn), ",")
	if jsonOutput {
		return printJSON(map[string]any{"id": id, "name": s.Name, "version": s.Version, "attributes": attrs, "csvHeader": header})
	}
	fmt.Printf("schema %s %s\nID %s\n\n", s.Name, s.Version, id)
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ATTRIBUTE\tLABEL\tTYPE")
	for _, a := range attrs {
		t := a.Type
		if a.Scale != 0 {
			t += fmt.Sprintf(" (%d digits after the point)", a.Scale)
		}
		if len(a.Values) > 0 {
			t += ": " + strings.Join(a.Values, " | ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.Label, t)
	}
	tw.Flush()
	fmt.Printf("\nCSV header for 'zkcred issuer issue-batch' (%s is optional: rows without one get a claim link):\n%s\n", issuer.DefaultHolderColumn, header)
	return nil
}
