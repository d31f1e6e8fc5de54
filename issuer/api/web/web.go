// Package web is the issuer's desk, served at "/" beside the issuer API
// (`zkcred issuer serve`) for a registrar: a form generated from each of
// the issuer's schemas (dates, enums as selects, decimals with their
// scale, booleans as check boxes), checked in the browser and again by the
// issuer, whose field errors appear next to their field; the claim link of
// the offer it makes, as a QR code and a link; and the credentials issued,
// each with a button that revokes it.
//
// The desk is behind the issuer's admin token: a sign-in form takes it and
// sets a session cookie (HttpOnly, SameSite=Strict; webui.Auth) that only
// the desk's own pages accept, so no script ever holds the token and the
// API's admin routes still take only the bearer token. Every form carries
// a CSRF token and is refused from another origin.
package web

import (
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/internal/qr"
	"github.com/zkcred/zkcred/internal/webui"
	"github.com/zkcred/zkcred/issuer"
	"github.com/zkcred/zkcred/wire"
)

//go:embed files
var files embed.FS

const sessionCookie = "zkcred_issuer_session"

// ListLimit is how many credentials the desk lists, newest first.
const ListLimit = 200

// Options configure Handler. The zero value is the default.
type Options struct {
	// BatchDir holds the output of the CSV batches run from the desk (a
	// directory per batch, as `zkcred issuer issue-batch --out` writes);
	// empty disables batches.
	BatchDir string
}

// Handler returns the desk for is, signed in with adminToken. Mount it
// with webui.Mount beside the issuer API.
func Handler(is *issuer.Issuer, adminToken string, o Options) (http.Handler, error) {
	if len(adminToken) < issuer.MinAdminToken {
		return nil, fmt.Errorf("admin token must be at least %d characters", issuer.MinAdminToken)
	}
	sub, err := fs.Sub(files, "files")
	if err != nil {
		return nil, err
	}
	tmpl, err := webui.Templates(sub, "*.html", template.FuncMap{"inputType": inputType})
	if err != nil {
		return nil, err
	}
	return &desk{is: is, opts: o, auth: webui.NewAuth(adminToken, sessionCookie), tmpl: tmpl, files: sub, jobs: map[string]*batchJob{}}, nil
}

type desk struct {
	is    *issuer.Issuer
	opts  Options
	auth  *webui.Auth
	tmpl  map[string]*template.Template
	files fs.FS

	mu   sync.Mutex
	jobs map[string]*batchJob
}

func (d *desk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if webui.Static(d.files, w, r) {
		return
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	post := r.Method == http.MethodPost
	path := r.URL.Path
	if path == "/ui/login" && post {
		d.login(w, r)
		return
	}
	sid, ok := d.auth.Session(r)
	if !ok {
		if path == "/" && get {
			d.render(w, r, "login.html", http.StatusOK, "", "Sign in", nil)
			return
		}
		if get && strings.HasPrefix(path, "/ui/") {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		d.render(w, r, "login.html", http.StatusUnauthorized, "", "Sign in", map[string]any{"Message": "Sign in first: your session ended."})
		return
	}
	if post && path == "/ui/batch" {
		// A file upload: the CSRF token is a multipart field.
		r.Body = http.MaxBytesReader(w, r.Body, MaxCSV+1<<20)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			d.home(w, r, sid, http.StatusBadRequest, "The upload could not be read: "+err.Error())
			return
		}
	}
	if post && !d.auth.CheckCSRF(r, sid) {
		d.home(w, r, sid, http.StatusForbidden, "The form was out of date or came from another site; nothing was done. Try again.")
		return
	}
	switch {
	case path == "/" && get:
		d.home(w, r, sid, http.StatusOK, "")
	case path == "/ui/issue" && get:
		d.form(w, r, sid)
	case path == "/ui/issue" && post:
		d.issue(w, r, sid)
	case path == "/ui/batch" && post:
		d.batch(w, r, sid)
	case strings.HasPrefix(path, "/ui/batches/") && get:
		d.batchPage(w, r, sid, strings.TrimPrefix(path, "/ui/batches/"))
	case path == "/ui/revoke" && post:
		d.revoke(w, r, sid)
	case path == "/ui/logout" && post:
		d.auth.Logout(w, r)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	default:
		webui.Error(w, http.StatusNotFound, wire.CodeNotFound, "no such page: "+path)
	}
}

func (d *desk) render(w http.ResponseWriter, r *http.Request, page string, status int, sid, title string, data any) {
	p := webui.Page{Title: title, Service: "issuer desk", Data: data, Scripts: []string{"/ui/desk.js"}}
	if sid != "" {
		p.LoggedIn, p.CSRF = true, d.auth.CSRF(sid)
	}
	webui.Render(w, d.tmpl[page], status, p)
}

func (d *desk) login(w http.ResponseWriter, r *http.Request) {
	if !webui.SameOrigin(r) {
		d.render(w, r, "login.html", http.StatusForbidden, "", "Sign in", map[string]any{"Message": "Sign in from this page."})
		return
	}
	if !d.auth.Check(r.PostFormValue("token")) {
		d.render(w, r, "login.html", http.StatusUnauthorized, "", "Sign in", map[string]any{"Message": "That is not this issuer's admin token."})
		return
	}
	d.auth.Login(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// credView is a listed credential.
type credView struct {
	issuer.CredentialInfo
	Schema, Summary string
}

func (d *desk) schemas() ([]*circuits.Schema, map[string]*circuits.Schema) {
	ss, _ := d.is.Schemas()
	byID := map[string]*circuits.Schema{}
	for _, s := range ss {
		byID[circuits.Dec(s.ID())] = s
	}
	return ss, byID
}

func (d *desk) home(w http.ResponseWriter, r *http.Request, sid string, status int, msg string) {
	ss, byID := d.schemas()
	type schemaLink struct{ ID, Name, Version string }
	var links []schemaLink
	for _, s := range ss {
		links = append(links, schemaLink{circuits.Dec(s.ID()), s.Name, s.Version})
	}
	var creds []credView
	list, err := d.is.Credentials(issuer.Query{Limit: ListLimit})
	if err == nil {
		for _, c := range list.Credentials {
			if c.Status == issuer.StatusUnclaimed {
				continue
			}
			v := credView{CredentialInfo: c}
			if s := byID[c.SchemaID]; s != nil {
				v.Schema = s.Name
				v.Summary = summary(s, c.Subject)
			}
			creds = append(creds, v)
		}
	} else {
		msg = strings.TrimSpace(msg + " The credentials could not be listed: " + err.Error())
	}
	// Newest first: the highest leaf index.
	sort.SliceStable(creds, func(i, j int) bool { return leaf(creds[i]) > leaf(creds[j]) })
	if m := r.URL.Query().Get("revoked"); m != "" && msg == "" {
		msg = "Revoked " + m + "."
	}
	d.mu.Lock()
	var jobs []*batchJob
	for _, j := range d.jobs {
		jobs = append(jobs, j)
	}
	d.mu.Unlock()
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].Started.After(jobs[j].Started) })
	d.render(w, r, "home.html", status, sid, "Issuer desk", map[string]any{
		"Issuer": d.is.Key().DID(), "Schemas": links, "Credentials": creds, "Message": msg,
		"Batches": d.opts.BatchDir != "", "Jobs": jobs})
}

func leaf(c credView) int64 {
	if c.LeafIndex == nil {
		return -1
	}
	return int64(*c.LeafIndex)
}

// summary shows the first few string and enum values of a subject.
func summary(s *circuits.Schema, subject map[string]any) string {
	var parts []string
	for _, a := range s.Attributes {
		if a.Type != circuits.TypeString && a.Type != circuits.TypeEnum {
			continue
		}
		if v, ok := subject[a.Name]; ok {
			parts = append(parts, fmt.Sprint(v))
		}
		if len(parts) == 3 {
			break
		}
	}
	return strings.Join(parts, ", ")
}

// field is one input of a schema's form.
type field struct {
	circuits.Attribute
	Label, Value, Error, Hint, Pattern, Example string
	Checked                                     bool
}

func inputType(f field) string {
	switch f.Type {
	case circuits.TypeInteger:
		return "number"
	case circuits.TypeTimestamp:
		return "datetime-local"
	}
	return "text"
}

func fields(s *circuits.Schema, values url.Values, errs map[string]string) []field {
	var out []field
	for _, a := range s.Attributes {
		f := field{Attribute: a, Label: a.Display, Value: values.Get(a.Name), Error: errs[a.Name]}
		if f.Label == "" {
			f.Label = a.Name
		}
		switch a.Type {
		case circuits.TypeDate:
			f.Pattern, f.Hint, f.Example = `\d{4}-\d{2}-\d{2}`, "A date, written YYYY-MM-DD.", "2024-06-30"
		case circuits.TypeDecimal:
			if a.Scale > 0 {
				f.Pattern = fmt.Sprintf(`\d+(\.\d{1,%d})?`, a.Scale)
				f.Hint = fmt.Sprintf("A number with at most %d digit(s) after the point.", a.Scale)
				f.Example = "3." + strings.Repeat("5", a.Scale)
			} else {
				f.Pattern, f.Hint = `\d+`, "A whole number."
			}
		case circuits.TypeInteger:
			f.Hint = "A whole number, 0 or more."
		case circuits.TypeTimestamp:
			f.Hint = "A date and time (UTC)."
		case circuits.TypeEnum:
			f.Hint = "One of the schema's values."
		case circuits.TypeBoolean:
			f.Checked = values.Get(a.Name) == "true"
		}
		out = append(out, f)
	}
	return out
}

func (d *desk) schemaOf(id string) (*circuits.Schema, error) {
	if _, err := circuits.ParseElement(id); err != nil {
		return nil, fmt.Errorf("schema %q is not a schema ID", id)
	}
	s, err := d.is.Schema(id)
	if err != nil {
		return nil, fmt.Errorf("this issuer has no schema %s", id)
	}
	return s, nil
}

func (d *desk) form(w http.ResponseWriter, r *http.Request, sid string) {
	s, err := d.schemaOf(r.URL.Query().Get("schema"))
	if err != nil {
		d.home(w, r, sid, http.StatusNotFound, err.Error())
		return
	}
	d.showForm(w, r, sid, http.StatusOK, s, url.Values{}, nil, "")
}

func (d *desk) showForm(w http.ResponseWriter, r *http.Request, sid string, status int, s *circuits.Schema, values url.Values, errs map[string]string, msg string) {
	d.render(w, r, "issue.html", status, sid, "Issue "+s.Name, map[string]any{
		"SchemaID": circuits.Dec(s.ID()), "Schema": s, "Fields": fields(s, values, errs),
		"ValidUntil": values.Get("validUntil"), "ValidUntilError": errs["validUntil"], "Message": msg})
}

// subject reads a form into a subject as the issuer takes it (values as
// strings in their JSON form, booleans as booleans).
func subject(s *circuits.Schema, form url.Values) (map[string]any, map[string]string) {
	sub := map[string]any{}
	errs := map[string]string{}
	for _, a := range s.Attributes {
		v := form.Get(a.Name)
		switch a.Type {
		case circuits.TypeBoolean:
			sub[a.Name] = v == "true"
			continue
		case circuits.TypeString:
		default:
			v = strings.TrimSpace(v)
		}
		if v == "" && a.Type != circuits.TypeString {
			errs[a.Name] = "Required."
			continue
		}
		if a.Type == circuits.TypeTimestamp {
			if t, err := time.ParseInLocation("2006-01-02T15:04", v, time.UTC); err == nil {
				v = t.Format(time.RFC3339)
			} else if t, err := time.ParseInLocation("2006-01-02T15:04:05", v, time.UTC); err == nil {
				v = t.Format(time.RFC3339)
			}
		}
		sub[a.Name] = v
	}
	return sub, errs
}

func (d *desk) issue(w http.ResponseWriter, r *http.Request, sid string) {
	s, err := d.schemaOf(r.PostFormValue("schema"))
	if err != nil {
		d.home(w, r, sid, http.StatusNotFound, err.Error())
		return
	}
	sub, errs := subject(s, r.PostForm)
	var until time.Time
	if v := strings.TrimSpace(r.PostFormValue("validUntil")); v != "" {
		t, err := time.ParseInLocation(time.DateOnly, v, time.UTC)
		switch {
		case err != nil:
			errs["validUntil"] = "Not a date: write YYYY-MM-DD."
		case !t.After(time.Now()):
			errs["validUntil"] = "This date has passed: a credential must be valid for a while."
		default:
			until = t.Add(24*time.Hour - time.Second) // valid through that day
		}
	}
	if len(errs) > 0 {
		d.showForm(w, r, sid, http.StatusUnprocessableEntity, s, r.PostForm, errs, "Please correct the marked fields.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 50*time.Second)
	defer cancel()
	link, err := d.is.CreateOffer(ctx, issuer.OfferRequest{Schema: s, Subject: sub, ValidUntil: until})
	if err != nil {
		var fe *circuits.FieldError
		if errors.As(err, &fe) {
			errs[fe.Field] = fieldMessage(fe)
			d.showForm(w, r, sid, http.StatusUnprocessableEntity, s, r.PostForm, errs, "Please correct the marked fields.")
			return
		}
		status := http.StatusUnprocessableEntity
		if errors.Is(err, issuer.ErrChain) {
			status = http.StatusBadGateway
		}
		d.showForm(w, r, sid, status, s, r.PostForm, errs, "The issuer refused: "+err.Error())
		return
	}
	// The QR code holds the same offer as an OpenID4VCI credential offer by
	// reference (short, so the code stays easy to scan), as issue-batch's
	// do; the zkcred claim link is shown beside it.
	_, byRef, err := d.is.OfferURIs(d.is.NewCredentialOffer(d.is.PreAuthorizedCode(link, false), issuer.ConfigurationID(s.Name)))
	if err != nil {
		d.showForm(w, r, sid, http.StatusUnprocessableEntity, s, r.PostForm, errs, "The credential offer could not be made: "+err.Error())
		return
	}
	png, err := qr.PNG(byRef)
	if err != nil {
		d.showForm(w, r, sid, http.StatusUnprocessableEntity, s, r.PostForm, errs, "The claim link is too long for a QR code: "+err.Error())
		return
	}
	d.render(w, r, "offer.html", http.StatusCreated, sid, "Claim link", map[string]any{
		"Schema": s.Name, "SchemaID": circuits.Dec(s.ID()), "Link": link.URL, "Offer": link.ID, "OpenID4VCI": byRef,
		"Expires": link.Expires.UTC().Format("2006-01-02 15:04 UTC"), "Summary": summary(s, sub),
		"QR": template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
}

// fieldMessage words a field error for the person at the form.
func fieldMessage(fe *circuits.FieldError) string {
	msg := fe.Err.Error()
	if msg == "" {
		return "Not a valid value."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

func (d *desk) revoke(w http.ResponseWriter, r *http.Request, sid string) {
	id := strings.TrimSpace(r.PostFormValue("id"))
	if id == "" {
		d.home(w, r, sid, http.StatusBadRequest, "Name the credential to revoke.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 50*time.Second)
	defer cancel()
	rv, err := d.is.Revoke(ctx, []string{id}, nil)
	if err != nil {
		status := http.StatusUnprocessableEntity
		if errors.Is(err, issuer.ErrNotFound) {
			status = http.StatusNotFound
		} else if errors.Is(err, issuer.ErrChain) {
			status = http.StatusBadGateway
		}
		d.home(w, r, sid, status, "Not revoked: "+err.Error())
		return
	}
	leaves := make([]string, len(rv.Leaves))
	for i, l := range rv.Leaves {
		leaves[i] = strconv.FormatUint(l, 10)
	}
	http.Redirect(w, r, "/?revoked="+url.QueryEscape("credential "+id+" (leaf "+strings.Join(leaves, ", ")+")"), http.StatusSeeOther)
}
