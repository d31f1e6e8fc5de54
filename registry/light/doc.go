// Package light is a registry light client for verifiers and wallets. It
// follows block headers from a registry URL, checks every hash link and
// producer signature against a genesis it trusts (never one fetched from the
// network), refuses rollbacks and forks, and answers which height and time
// published a credential root.
//
// Headers can be persisted to a file of JSON lines; on open they are
// verified again, so a tampered file is refused.
package light
