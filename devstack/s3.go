package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"
	"golang.org/x/sys/unix"
)

const (
	s3Region = "us-east-1"
	s3Bucket = "corso-test"
)

// s3Service is an S3-compatible server (versitygw) storing buckets as
// directories under DIR/s3, so kopia repositories can be tested against a
// real S3 API without cloud access.
type s3Service struct {
	dir  string
	port int

	access, secret string
	cancel         context.CancelFunc
	done           chan struct{} // closed when the gateway returns
	err            error
}

func (s *s3Service) url() string { return "http://" + hostPort(s.port) }

func (s *s3Service) Name() string { return "s3" }

func (s *s3Service) Ports() []portClaim { return []portClaim{{Port: s.port, Flag: "--s3-port"}} }

func (s *s3Service) Summary() string {
	return fmt.Sprintf("s3 %s (bucket %s)", s.url(), s3Bucket)
}

func (s *s3Service) Env() []envVar {
	return []envVar{
		{"AWS_ACCESS_KEY_ID", s.access},
		{"AWS_SECRET_ACCESS_KEY", s.secret},
		{"AWS_REGION", s3Region},
		{"CORSO_S3_ENDPOINT", hostPort(s.port)},
		{"CORSO_S3_BUCKET", s3Bucket},
	}
}

func (s *s3Service) Start(ctx context.Context, died func(error)) error {
	var err error
	// Letters and digits only, so the values need no quoting anywhere.
	if s.access, err = loadOrCreateSecret(filepath.Join(s.dir, "s3-access-key"), randomToken(20)); err != nil {
		return err
	}
	if s.secret, err = loadOrCreateSecret(filepath.Join(s.dir, "s3-secret-key"), randomToken(40)); err != nil {
		return err
	}
	root := filepath.Join(s.dir, "s3")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return err
	}
	store, err := s.metadataStore(root)
	if err != nil {
		return err
	}
	// Note: posix.New makes root the process's working directory.
	be, err := posix.New(root, store, posix.PosixOpts{})
	if err != nil {
		return fmt.Errorf("posix backend in %s: %w", root, err)
	}

	gwCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		s.err = embedgw.RunVersityGW(gwCtx, be, &embedgw.Config{
			// Passed in because the gateway would otherwise print that it
			// chose single-account mode on stdout.
			IAMService: auth.NewIAMServiceSingle(auth.Account{
				Access: s.access, Secret: s.secret, Role: auth.RoleAdmin,
			}),
			RootUserAccess:    s.access,
			RootUserSecret:    s.secret,
			Region:            s3Region,
			Ports:             []string{hostPort(s.port)},
			MaxConnections:    250000,
			MaxRequests:       100000,
			MultipartMaxParts: 10000,
			KeepAlive:         true,
			Quiet:             true, // no banner or request log on stdout
		})
		if s.err != nil && gwCtx.Err() == nil {
			died(s.err)
		}
	}()
	return s.ensureBucket(ctx)
}

func (s *s3Service) Stop(ctx context.Context) error {
	if s.cancel == nil {
		return nil
	}
	s.cancel()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("gateway did not stop in time: %w", ctx.Err())
	}
}

// metadataStore picks where object metadata (ETags, content types, ACLs)
// lives: user xattrs when the filesystem takes them (ext4, xfs), else sidecar
// files in DIR/s3meta (filesystems without user xattrs, e.g. some tmpfs or
// overlay setups). Once a sidecar directory exists it is kept, so metadata
// is never split between the two.
func (s *s3Service) metadataStore(root string) (meta.MetadataStorer, error) {
	sidecar := filepath.Join(s.dir, "s3meta")
	_, err := os.Stat(sidecar)
	if errors.Is(err, fs.ErrNotExist) {
		if xattrsWork(root) {
			return meta.XattrMeta{}, nil
		}
		if err := os.Mkdir(sidecar, 0o700); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	sc, err := meta.NewSideCar(sidecar)
	if err != nil {
		return nil, fmt.Errorf("sidecar metadata in %s: %w", sidecar, err)
	}
	return sc, nil
}

// xattrsWork reports whether user xattrs can be set and removed on dir.
func xattrsWork(dir string) bool {
	const name = "user.corso-dev.probe"
	if err := unix.Setxattr(dir, name, []byte("1"), 0); err != nil {
		return false
	}
	return unix.Removexattr(dir, name) == nil
}

// ensureBucket creates the test bucket through the S3 API as the root user,
// retrying until the gateway listens. This doubles as the readiness check.
func (s *s3Service) ensureBucket(ctx context.Context) error {
	client := s3.New(s3.Options{
		Region:       s3Region,
		BaseEndpoint: aws.String(s.url()),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.access, s.secret, ""),
	})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s3Bucket)})
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "BucketAlreadyOwnedByYou" {
			err = nil
		}
		if err == nil || errors.As(err, &apiErr) {
			return err // created, already there, or a real S3 error
		}
		select {
		case <-s.done:
			if s.err != nil {
				return s.err
			}
			return errors.New("gateway stopped")
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
