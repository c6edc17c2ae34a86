package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/corso-temporal/corso/workflows"
)

// credentialFlags are secrets given on the command line; anything unset
// comes from the environment.
type credentialFlags struct {
	passphrase                         string
	accessKey, secretKey, sessionToken string
}

var errNoPassphrase = errors.New("no passphrase: set CORSO_PASSPHRASE or pass --passphrase")

// resolveCredentials gathers the repository passphrase and, for S3, AWS
// credentials through the AWS SDK's default chain (environment, shared
// config and credentials files, AWS_PROFILE). The instance metadata service
// is not asked: on an admin's machine it does not exist, and workers in the
// cloud resolve their own role when the request carries no keys. It also
// returns the region the chain names, if any.
func resolveCredentials(ctx context.Context, s workflows.Storage, f credentialFlags) (workflows.RepoCredentials, string, error) {
	rc := workflows.RepoCredentials{Passphrase: f.passphrase}
	if rc.Passphrase == "" {
		rc.Passphrase = os.Getenv("CORSO_PASSPHRASE")
	}
	if rc.Passphrase == "" {
		return rc, "", errNoPassphrase
	}
	if s.Provider != workflows.ProviderS3 {
		return rc, "", nil
	}
	rc.AWSAccessKeyID, rc.AWSSecretAccessKey, rc.AWSSessionToken = f.accessKey, f.secretKey, f.sessionToken
	if (rc.AWSAccessKeyID == "") != (rc.AWSSecretAccessKey == "") {
		return rc, "", errors.New("--aws-access-key and --aws-secret-access-key go together")
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	if err != nil {
		return rc, "", err
	}
	if rc.AWSAccessKeyID == "" {
		if c, err := cfg.Credentials.Retrieve(ctx); err == nil {
			rc.AWSAccessKeyID, rc.AWSSecretAccessKey, rc.AWSSessionToken = c.AccessKeyID, c.SecretAccessKey, c.SessionToken
		}
	}
	return rc, cfg.Region, nil
}
