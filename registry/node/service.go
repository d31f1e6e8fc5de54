package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"net/http"

	"github.com/zkcred/zkcred/registry/api"
	"github.com/zkcred/zkcred/registry/store"
)

// ServiceOptions configure Start. The zero value is the default.
type ServiceOptions struct {
	Node  Options
	Store store.Options
	API   api.Options
}

// Service is a running registry: store, block producer and HTTP API.
type Service struct {
	Store  *store.Store
	Node   *Node
	Server *http.Server
	URL    string // http://address of the listener

	serveErr chan error
}

// Start opens the registry in dir, starts producing blocks with the
// producer key and serves the API on ln until Close.
func Start(dir string, producer ed25519.PrivateKey, ln net.Listener, opts ServiceOptions) (*Service, error) {
	st, err := store.Open(dir, opts.Store)
	if err != nil {
		return nil, err
	}
	n, err := New(st, producer, opts.Node)
	if err != nil {
		st.Close()
		return nil, err
	}
	n.Start()
	ao := opts.API
	ao.Unavailable = append(ao.Unavailable, ErrStopped)
	if ao.Logger == nil {
		ao.Logger = opts.Node.Logger
	}
	srv := api.NewServer(api.New(st, n, ao))
	s := &Service{Store: st, Node: n, Server: srv, URL: "http://" + ln.Addr().String(), serveErr: make(chan error, 1)}
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr <- err
	}()
	return s, nil
}

// Wait blocks until the HTTP server stops and returns its error.
func (s *Service) Wait() error { err := <-s.serveErr; s.serveErr <- err; return err }

// Close stops serving, waits for the block being built to commit, and
// closes the store.
func (s *Service) Close(ctx context.Context) error {
	err := s.Server.Shutdown(ctx)
	s.Node.Stop()
	if cerr := s.Store.Close(); err == nil {
		err = cerr
	}
	return err
}
