module github.com/zkcred/zkcred

go 1.26.8

require (
	filippo.io/age v1.3.2
	github.com/consensys/gnark-crypto v0.21.0
	github.com/mr-tron/base58 v1.2.0
	golang.org/x/term v0.48.0
)

require (
	filippo.io/hpke v0.4.0 // indirect
	github.com/bits-and-blooms/bitset v1.24.6 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
