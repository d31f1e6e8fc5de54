package node_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net"
	"os"

	"github.com/zkcred/zkcred/circuits"
	"github.com/zkcred/zkcred/registry"
	"github.com/zkcred/zkcred/registry/client"
	"github.com/zkcred/zkcred/registry/light"
	"github.com/zkcred/zkcred/registry/node"
)

// A one-validator chain in process: an issuer anchors two commitments, and
// a light client verifies the new root under the validator's commit.
func Example() {
	dir, _ := os.MkdirTemp("", "zkcred-node-example")
	defer os.RemoveAll(dir)
	_, uni, _ := ed25519.GenerateKey(nil)
	d, err := node.InitDir(dir, "example", []registry.RegisterIssuer{
		{PubKey: hex.EncodeToString(uni.Public().(ed25519.PublicKey)), Name: "Example University", Kind: "university"}}, node.KeyOptions{})
	if err != nil {
		panic(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	svc, err := node.StartDir(dir, ln, node.ServiceOptions{})
	if err != nil {
		panic(err)
	}
	defer svc.Close(context.Background())

	ctx := context.Background()
	c, _ := client.New(svc.URL, client.Options{})
	s, _ := c.NewSigner(ctx, d.Genesis.ChainID, uni)
	rc, err := s.Do(ctx, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(1)), circuits.F(circuits.U64(2))}})
	if err != nil {
		panic(err)
	}
	fmt.Println("leaves", rc.Indices())

	lc, _ := light.New(d.Genesis, svc.URL, light.Options{})
	h, err := lc.Sync(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("verified leaves:", h.CredSize)
	// Output:
	// leaves [0 1]
	// verified leaves: 2
}
