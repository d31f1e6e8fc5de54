package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/zkcred/zkcred/issuer"
)

type credentialsOptions struct {
	job, offer, after string
	row, limit        int
	subject           []string
}

func newIssuerCredentialsCmd(c *commonFlags) *cobra.Command {
	var lo, fo credentialsOptions
	listCmd := leaf("list", "list the issued credentials and unclaimed offers, with their status",
		"  zkcred issuer credentials list --dir uni\n  zkcred issuer credentials list --dir uni --json --limit 1000",
		noArgs, func(*cobra.Command, []string) error { return issuerCredentials(*c, lo, false) })
	c.add(listCmd)
	lo.addPage(listCmd)

	findCmd := leaf("find", "find credentials by batch row, offer or subject field (to revoke them)",
		`  zkcred issuer credentials find --dir uni --row 5                 # row 5 of every batch (the header is row 1)
  zkcred issuer credentials find --dir uni --job JOB --row 5       # the job is in the batch's report.json
  zkcred issuer credentials find --dir uni --offer OFFER-ID
  zkcred issuer credentials find --dir uni --subject name:"Ada Lovelace" --subject degree:MSc`,
		noArgs, func(*cobra.Command, []string) error { return issuerCredentials(*c, fo, true) })
	c.add(findCmd)
	findCmd.Flags().IntVar(&fo.row, "row", 0, "CSV record number of a batch (the header is row 1)")
	findCmd.Flags().StringVar(&fo.job, "job", "", "batch job ID (in the batch's report.json); without it, --row matches every batch")
	findCmd.Flags().StringVar(&fo.offer, "offer", "", "claim offer ID (the id of a claim link)")
	findCmd.Flags().StringArrayVar(&fo.subject, "subject", nil, "ATTRIBUTE:VALUE the subject must have (repeatable; values as in the CSV)")
	fo.addPage(findCmd)

	return group("credentials", "list and find the credentials this issuer issued", `While 'zkcred issuer serve' runs on the same directory, these commands ask
its admin API (GET /v1/credentials), which has the database.`,
		"  zkcred issuer credentials find --dir uni --row 2\n  zkcred issuer credentials list --dir uni",
		listCmd, findCmd)
}

func (o *credentialsOptions) addPage(c *cobra.Command) {
	c.Flags().IntVar(&o.limit, "limit", 0, fmt.Sprintf("at most this many (default %d, at most %d)", issuer.DefaultListLimit, issuer.MaxListLimit))
	c.Flags().StringVar(&o.after, "after", "", "continue after this point (the 'next' of the previous page)")
}

func (o credentialsOptions) query() (issuer.Query, error) {
	q := issuer.Query{Job: o.job, Row: o.row, Offer: o.offer, Limit: o.limit, After: o.after}
	for _, f := range o.subject {
		attr, val, err := issuer.ParseSubjectFilter(f)
		if err != nil {
			return q, usagef(`write --subject ATTRIBUTE:VALUE, e.g. --subject name:"Ada Lovelace"`, "%v", err)
		}
		if q.Subject == nil {
			q.Subject = map[string]string{}
		}
		q.Subject[attr] = val
	}
	return q, nil
}

// values is the query as GET /v1/credentials takes it.
func (o credentialsOptions) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("job", o.job)
	set("offer", o.offer)
	set("after", o.after)
	if o.row != 0 {
		v.Set("row", strconv.Itoa(o.row))
	}
	if o.limit != 0 {
		v.Set("limit", strconv.Itoa(o.limit))
	}
	for _, s := range o.subject {
		v.Add("subject", s)
	}
	return v
}

func issuerCredentials(c commonFlags, o credentialsOptions, find bool) error {
	if find && o.row == 0 && o.job == "" && o.offer == "" && len(o.subject) == 0 {
		return usagef("pass --row N (with --job), --offer ID or --subject ATTRIBUTE:VALUE; 'credentials list' lists them all", "say what to find")
	}
	q, err := o.query()
	if err != nil {
		return err
	}
	var list *issuer.CredentialList
	if svc, ok := readServiceFile(c.dir); ok {
		// 'issuer serve' has the database: ask its admin API.
		list = new(issuer.CredentialList)
		err = adminCall(svc, http.MethodGet, "/v1/credentials?"+o.values().Encode(), nil, list)
		if !errors.Is(err, errUnreachable) {
			if err != nil {
				return err
			}
			return printCredentials(list, find)
		}
	}
	e, err := openIssuer(c, false, issuer.Options{})
	if err != nil {
		return err
	}
	defer e.close()
	list, err = e.is.Credentials(q)
	if errors.Is(err, issuer.ErrQuery) {
		return usagef("see 'zkcred issuer credentials find -h'", "%v", err)
	}
	if err != nil {
		return err
	}
	return printCredentials(list, find)
}

func printCredentials(list *issuer.CredentialList, find bool) error {
	if jsonOutput {
		return printJSON(list)
	}
	if len(list.Credentials) == 0 {
		if find {
			fmt.Println("no credential matches ('zkcred issuer credentials list' shows them all)")
		} else {
			fmt.Println("no credentials yet")
		}
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tLEAF\tJOB\tROW\tOFFER\tSUBJECT")
	for _, ci := range list.Credentials {
		id, leaf, row := ci.ID, "-", "-"
		if id == "" {
			id = "(unclaimed offer)"
		}
		if ci.LeafIndex != nil {
			leaf = strconv.FormatUint(*ci.LeafIndex, 10)
		}
		if ci.Row != 0 {
			row = strconv.Itoa(ci.Row)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, ci.Status, leaf, dash(ci.Job), row, dash(ci.Offer), subjectText(ci.Subject))
	}
	tw.Flush()
	if list.Next != "" {
		fmt.Printf("more: add --after %s\n", list.Next)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// subjectText shows the first attributes of a subject, name first.
func subjectText(m map[string]any) string {
	if n, ok := m["name"]; ok {
		return fmt.Sprint(n)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "-"
	}
	return fmt.Sprintf("%s=%v", keys[0], m[keys[0]])
}
