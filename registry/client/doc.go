// Package client talks to a registry's HTTP API (registry/api): submit a
// transaction and wait for its receipt, and read headers, issuers, schemas,
// circuits, witness buckets and root lookups. Issuers, wallets, verifiers
// and the light client use it.
package client
