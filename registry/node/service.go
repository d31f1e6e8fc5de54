package node

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"

	"github.com/zkcred/zkcred/registry/api"
	"github.com/zkcred/zkcred/registry/store"
)

// ServiceOptions configure StartDir. The zero value is the default.
type ServiceOptions struct {
	Node  Options
	Store store.Options
	API   api.Options
}

// Service is a running registry validator: store, CometBFT node with the
// ABCI application, and HTTP API.
type Service struct {
	Store  *store.Store
	Node   *Node
	Server *http.Server
	URL    string // http://address of the listener

	serveErr chan error
}

// StartDir starts the validator of a node directory and serves the API on
// ln until Close.
func StartDir(dir string, ln net.Listener, opts ServiceOptions) (*Service, error) {
	d, err := OpenDir(dir)
	if err != nil {
		return nil, err
	}
	if d.Config.P2PAddr == "" {
		if d.Config.P2PAddr, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	n, err := newNode(d, opts.Node, opts.Store)
	if err != nil {
		return nil, err
	}
	if len(d.Genesis.Validators) == 1 {
		// alone, the validator commits CometBFT's first block at once:
		// wait for it, so that light clients find a commit from the start
		deadline := time.Now().Add(10 * time.Second)
		for n.Height() < 1 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	ao := opts.API
	ao.Unavailable = append(ao.Unavailable, ErrStopped, ErrNotCommitted, ErrBusy, ErrCatchingUp)
	if ao.Logger == nil {
		ao.Logger = opts.Node.Logger
	}
	ao.Commits = commits{n}
	srv := api.NewServer(api.New(n.st, n, ao))
	s := &Service{Store: n.st, Node: n, Server: srv, URL: "http://" + ln.Addr().String(), serveErr: make(chan error, 1)}
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr <- err
	}()
	return s, nil
}

// commits serves CometBFT's light blocks to the API.
type commits struct{ n *Node }

func (c commits) LightBlockJSON(ctx context.Context, height int64) ([]byte, error) {
	lb, err := c.n.LightBlock(ctx, height)
	if err != nil {
		return nil, err
	}
	return cmtjson.Marshal(lb)
}

func (c commits) Height() int64 { return c.n.Height() }

// Wait blocks until the HTTP server stops and returns its error.
func (s *Service) Wait() error { err := <-s.serveErr; s.serveErr <- err; return err }

// Close stops serving, stops the node and closes the store.
func (s *Service) Close(ctx context.Context) error {
	err := s.Server.Shutdown(ctx)
	if nerr := s.Node.Stop(); err == nil {
		err = nerr
	}
	return err
}
