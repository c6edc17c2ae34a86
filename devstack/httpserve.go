package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// httpServer serves one handler on a 127.0.0.1 port for a service of the
// stack. The zero value is stopped.
type httpServer struct {
	srv  *http.Server
	done chan struct{} // closed when Serve returns
}

// serve binds the port now, so a failure is Start's error, then serves in
// the background and reports a later failure through died.
func (s *httpServer) serve(port int, h http.Handler, died func(error)) error {
	l, err := net.Listen("tcp", hostPort(port))
	if err != nil {
		return err
	}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			died(err)
		}
	}()
	return nil
}

func (s *httpServer) stop(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}
