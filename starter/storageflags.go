package main

import (
	"github.com/spf13/cobra"

	"github.com/corso-temporal/corso/workflows"
)

// storageFlags are the seed's repository flags.
type storageFlags struct {
	bucket, prefix, endpoint  string
	disableTLS, disableVerify bool
	path                      string
	creds                     credentialFlags
}

func (f *storageFlags) register(cmd *cobra.Command, provider workflows.StorageProvider) {
	fl := cmd.Flags()
	switch provider {
	case workflows.ProviderS3:
		fl.StringVar(&f.bucket, "bucket", "", "name of the S3 bucket (it must already exist)")
		fl.StringVar(&f.prefix, "prefix", "", "path inside the bucket, so several repositories can share it")
		fl.StringVar(&f.endpoint, "endpoint", "", "S3 service host[:port] for S3-compatible storage (default s3.amazonaws.com)")
		fl.BoolVar(&f.disableTLS, "disable-tls", false, "talk plain HTTP to the endpoint (testing only)")
		fl.BoolVar(&f.disableVerify, "disable-tls-verification", false, "accept any TLS certificate, e.g. self-signed (testing only)")
		fl.StringVar(&f.creds.accessKey, "aws-access-key", "", "AWS access key id (default: the AWS credential chain)")
		fl.StringVar(&f.creds.secretKey, "aws-secret-access-key", "", "AWS secret access key (default: the AWS credential chain)")
		fl.StringVar(&f.creds.sessionToken, "aws-session-token", "", "AWS session token for temporary credentials")
	case workflows.ProviderFilesystem:
		fl.StringVar(&f.path, "path", "", "absolute path of the repository folder")
	}
	fl.StringVar(&f.creds.passphrase, "passphrase", "", "repository passphrase (default env CORSO_PASSPHRASE)")
}

func (f *storageFlags) storage(provider workflows.StorageProvider) workflows.Storage {
	return workflows.Storage{
		Provider:               provider,
		Bucket:                 f.bucket,
		Prefix:                 f.prefix,
		Endpoint:               f.endpoint,
		DisableTLS:             f.disableTLS,
		DisableTLSVerification: f.disableVerify,
		Path:                   f.path,
	}
}
