// Package web is the verifier's page for a front desk (`zkcred verifier
// serve`, at "/"): choose a policy, show the holder a QR code and the link
// of a fresh presentation request, say in plain words what the verifier
// will learn and what is only proven, and turn green with the disclosed
// values once a verified presentation arrives, or red with the reason
// (replayed, expired, for another request, proof invalid).
//
// The request is created server-side (Server.CreateRequestFor), and its
// result token stays on the server: the page reads the verdict from
// /ui/requests/{id}/status, which answers only the browser that created
// the request (an HttpOnly, SameSite=Strict cookie), so neither a script
// nor another origin ever sees the token or the disclosed values.
// Requests under a public policy need no sign-in and count against the
// visitor's quota, as POST /v1/requests does; others need a sign-in with
// the verifier's create token.
//
// A rejected presentation does not change the request's result (anyone
// who knows the request's id may send one): the page learns of it by
// watching the answers to POST /v1/requests/{id}/presentations that pass
// through Handler, shows the reason in red, and still turns green when a
// valid presentation follows before the request expires.
package web
