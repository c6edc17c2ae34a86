package activities

import "io"

// sourceReader remembers read errors so a broken download is told apart
// from a repository write failure, and calls tick every few MiB so a long
// download keeps heartbeating.
type sourceReader struct {
	r     io.Reader
	err   error
	tick  func()
	since int
}

const heartbeatEveryBytes = 4 << 20

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	if s.since += n; s.since >= heartbeatEveryBytes && s.tick != nil {
		s.since = 0
		s.tick()
	}
	return n, err
}
