package registry

import "github.com/zkcred/zkcred/circuits"

// Answers of the registry HTTP API that are neither chain data nor
// transactions. They live here, not in package api, so that clients decode
// them without linking the server.

// Account is a signer's replay-protection state
// (GET /v1/accounts/{pubkey}).
type Account struct {
	PubKey    string `json:"pubkey"`
	LastNonce uint64 `json:"last_nonce"`
}

// RootInfo answers a root lookup (GET /v1/roots/{root}): the latest block
// that published the credential root.
type RootInfo struct {
	Root   circuits.Field `json:"root"`
	Height uint64         `json:"height"`
	Time   int64          `json:"time"`
	Header Header         `json:"header"`
}
