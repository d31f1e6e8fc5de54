// Package httpx holds the HTTP middleware that every zkcred service
// (registry, issuer, verifier) shares: the JSON content-type rule for
// request bodies, the one-line-per-request log, percent-decoded path
// parameters and strictly parsed query strings.
package httpx

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// CodeUnsupportedMediaType is the machine-readable code of a 415 answer.
const CodeUnsupportedMediaType = "unsupported_media_type"

// RequireJSON refuses a request body that is not declared as JSON.
//
// A POST, PUT or PATCH that carries a body must say Content-Type
// application/json, with or without a charset parameter (which must then be
// utf-8, the only encoding JSON has: RFC 8259, section 8.1). Anything else,
// including a missing Content-Type, gets an *echo.HTTPError with status
// 415, whose message names what was sent and how to send JSON; the
// service's error handler writes it as its JSON error body. A request
// without a body passes whatever it declares, so an empty POST stays valid
// where the body is optional.
func RequireJSON() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			switch r.Method {
			case http.MethodPost, http.MethodPut, http.MethodPatch:
			default:
				return next(c)
			}
			if r.ContentLength == 0 { // no body (-1 is a body of unknown length)
				return next(c)
			}
			if err := CheckJSONType(r.Header.Get(echo.HeaderContentType)); err != nil {
				return &echo.HTTPError{Code: http.StatusUnsupportedMediaType, Message: err.Error(), Internal: err}
			}
			return next(c)
		}
	}
}

// CheckJSONType returns nil when a Content-Type header value names JSON
// (application/json, optionally with charset=utf-8), and otherwise an error
// that says what was sent and what to send instead.
func CheckJSONType(v string) error {
	const hint = "send the body as JSON with the header Content-Type: application/json (curl: -H 'Content-Type: application/json')"
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("the request has a body but no Content-Type; %s", hint)
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		return fmt.Errorf("the Content-Type %q does not parse (%v); %s", truncate(v), err, hint)
	}
	if mt != echo.MIMEApplicationJSON {
		return fmt.Errorf("the Content-Type must be application/json, not %q; %s", truncate(mt), hint)
	}
	for k, p := range params {
		if k != "charset" {
			return fmt.Errorf("the Content-Type parameter %q is not allowed for application/json (only charset=utf-8)", truncate(k))
		}
		if !strings.EqualFold(p, "utf-8") {
			return fmt.Errorf("charset %q is not accepted: JSON is UTF-8 (use charset=utf-8 or none)", truncate(p))
		}
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// RequestLog logs one line per request at the end of it: method, route
// pattern, path, status, duration, request and response sizes and the
// client address (echo's RealIP, so it follows the service's proxy
// settings). Answers with status 500 and above are logged at level Error,
// the rest at Info. The query string is never logged, since claim tokens
// travel in it, nor are any headers (bearer tokens).
//
// An error from the handler chain is handed to echo's error handler here, so
// the logged status is the one the client got; put RequestLog first in
// e.Use so that it sees every answer, the recovered panics included.
func RequestLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			r, w := c.Request(), c.Response()
			level := slog.LevelInfo
			if w.Status >= 500 {
				level = slog.LevelError
			}
			if !log.Enabled(r.Context(), level) {
				return nil
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", truncate(r.URL.Path)),
				slog.Int("status", w.Status),
				slog.Duration("duration", time.Since(start)),
				slog.Int64("bytes_in", max(r.ContentLength, 0)),
				slog.Int64("bytes_out", w.Size),
				slog.String("remote", c.RealIP()),
			}
			if route := c.Path(); route != "" {
				attrs = append(attrs, slog.String("route", route))
			}
			log.LogAttrs(r.Context(), level, "http request", attrs...)
			return nil
		}
	}
}

// DecodePathParams replaces every path parameter of the matched route with
// its percent-decoded value, so that a handler sees one ID whichever way
// the client escaped it (/v1/credentials/urn%3Auuid%3A… and
// /v1/credentials/urn:uuid:… name the same credential: echo matches routes
// on the raw path and hands parameters over still escaped). A parameter
// that does not decode is answered with a 400 *echo.HTTPError. Echo runs
// e.Use middleware after routing, so it can go anywhere in that list.
func DecodePathParams() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			names, vals := c.ParamNames(), c.ParamValues()
			for i, v := range vals {
				if !strings.Contains(v, "%") {
					continue
				}
				d, err := url.PathUnescape(v)
				if err != nil {
					return &echo.HTTPError{Code: http.StatusBadRequest, Message: fmt.Sprintf("path parameter %s: %q is not percent-encoded correctly", names[i], truncate(v)), Internal: err}
				}
				vals[i] = d
			}
			return next(c)
		}
	}
}

// Query parses a request's query string strictly. url.Values (and so echo's
// QueryParams) silently drops a parameter that does not decode, such as
// ?kind=%zz; Query refuses the whole query instead, and refuses a name
// given more than once unless repeatable lists it, and, when known is not
// empty, a name outside known. Its errors say which parameter is wrong,
// for a 400 answer.
func Query(r *http.Request, known []string, repeatable ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("the query string does not decode: %v", err)
	}
	for name, vs := range q {
		if len(known) > 0 && !slices.Contains(known, name) {
			return nil, fmt.Errorf("unknown query parameter %q (%s)", truncate(name), strings.Join(known, ", "))
		}
		if len(vs) > 1 && !slices.Contains(repeatable, name) {
			return nil, fmt.Errorf("query parameter %q given %d times", truncate(name), len(vs))
		}
	}
	return q, nil
}
