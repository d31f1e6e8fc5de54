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

// A registry runs in-process; an issuer anchors over HTTP and a light
// client checks the root its witness leads to.
func Example() {
	dir, _ := os.MkdirTemp("", "zkcred-example-")
	defer os.RemoveAll(dir)
	_, uni, _ := ed25519.GenerateKey(nil)
	d, err := node.InitDir(dir, "example", []registry.RegisterIssuer{
		{PubKey: hex.EncodeToString(uni.Public().(ed25519.PublicKey)), Name: "Example University", Kind: "university"}})
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
	issuer, _ := c.NewSigner(ctx, d.Genesis.ChainID, uni)
	rc, err := issuer.Do(ctx, registry.Anchor{Commitments: []circuits.Field{circuits.F(circuits.U64(1)), circuits.F(circuits.U64(2))}})
	if err != nil {
		panic(err)
	}
	fmt.Println("anchored at", rc.Indices(), "in block", rc.Height)

	lc, _ := light.New(d.Genesis, svc.URL, light.Options{})
	lc.Sync(ctx)
	b, _ := c.Witness(ctx, 1)
	_, path, err := b.Path(1)
	h, _, known := lc.RootInfo(b.Root.El())
	fmt.Println("path of", len(path), "siblings, root verified:", err == nil && known && h == b.Height)
	// Output:
	// anchored at [0 1] in block 1
	// path of 32 siblings, root verified: true
}
