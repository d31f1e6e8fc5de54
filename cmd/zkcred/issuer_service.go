package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zkcred/zkcred/issuer"
)

// A running 'issuer serve' records where it answers in its directory, so
// that commands that need its database (revoke, credentials) can go
// through its admin API instead.
const (
	serviceFileName = "service.json"
	tokenFileName   = "admin-token"
)

type serviceFile struct {
	URL            string `json:"url"`
	AdminTokenFile string `json:"adminTokenFile,omitempty"` // "" when the token came from the environment
	PID            int    `json:"pid"`
}

func writeServiceFile(dir string, s serviceFile) error {
	b, _ := json.MarshalIndent(s, "", "  ")
	return issuer.WriteFileAtomic(filepath.Join(dir, serviceFileName), append(b, '\n'), 0o600)
}

func readServiceFile(dir string) (serviceFile, bool) {
	var s serviceFile
	b, err := os.ReadFile(filepath.Join(dir, serviceFileName))
	if err != nil || json.Unmarshal(b, &s) != nil || s.URL == "" {
		return s, false
	}
	return s, true
}

// adminToken returns the issuer API's admin token and the file it is kept
// in: --admin-token-file (made when missing), else $ZKCRED_ADMIN_TOKEN,
// else DIR/admin-token (made when missing).
func adminToken(dir, flag string) (tok, file string, err error) {
	if flag == "" {
		if t := os.Getenv(envAdminToken); t != "" {
			if len(t) < 16 {
				return "", "", usagef("use a token of at least 16 characters", "$%s is too short", envAdminToken)
			}
			return t, "", nil
		}
		flag = filepath.Join(dir, tokenFileName)
	}
	tok, created, err := tokenFile(flag)
	if err != nil {
		return "", "", err
	}
	if created {
		fmt.Fprintf(os.Stderr, "made the admin token file %s (mode 0600; the issuer's own systems send it as a bearer token)\n", flag)
	}
	return tok, flag, nil
}

// tokenFile reads the token in path, or makes one (random, 0600) there
// (issuer.AdminTokenFile, whose errors say what to do).
func tokenFile(path string) (tok string, created bool, err error) {
	tok, created, err = issuer.AdminTokenFile(path)
	if err != nil {
		return "", false, usagef("give --admin-token-file a file you can write (it is made, random and 0600, when missing), or set "+envAdminToken, "%v", err)
	}
	return tok, created, nil
}

// serviceToken is the admin token a command sends to the running service.
func serviceToken(svc serviceFile) (string, error) {
	if svc.AdminTokenFile == "" {
		if t := os.Getenv(envAdminToken); t != "" {
			return t, nil
		}
		return "", usagef("set "+envAdminToken+" to the token 'issuer serve' was started with", "the running issuer service takes its admin token from the environment")
	}
	tok, _, err := tokenFile(svc.AdminTokenFile)
	return tok, err
}

// adminCall sends one admin API request to the running service and decodes
// its JSON answer into out.
func adminCall(svc serviceFile, method, path string, in, out any) error {
	tok, err := serviceToken(svc)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(svc.URL, "/")+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return unreachable("the issuer service recorded in "+serviceFileName+" does not answer: is 'zkcred issuer serve' still running?", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode/100 != 2 {
		var e struct{ Error, Code string }
		json.Unmarshal(b, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		if resp.StatusCode == http.StatusUnauthorized {
			return localf("bad_admin_token", "the admin token file does not hold the running service's token", "issuer service: %s (HTTP %d)", e.Error, resp.StatusCode)
		}
		return refusedf(e.Code, "", "issuer service: %s (HTTP %d)", e.Error, resp.StatusCode)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func revokeThroughService(svc serviceFile, ids []string, leaves []uint64) error {
	if !jsonOutput {
		fmt.Fprintf(os.Stderr, "issuer serve is running: revoking through its admin API at %s\n", svc.URL)
	}
	var res struct {
		RevokedLeaves []uint64 `json:"revokedLeaves"`
	}
	body := map[string]any{"credentialIds": ids, "leafIndices": leaves}
	if err := adminCall(svc, http.MethodPost, "/v1/revocations", body, &res); err != nil {
		return err
	}
	return printOut(res, "revoked leaves %v\n", res.RevokedLeaves)
}
