package e2e

import (
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const bucket = "corso-test"

// s3Client talks to the dev stack's S3 server as its admin.
func s3Client(t *testing.T) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + dev.Env["CORSO_S3_ENDPOINT"]),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(dev.Env["AWS_ACCESS_KEY_ID"], dev.Env["AWS_SECRET_ACCESS_KEY"], ""),
	})
}

// objects lists keys under prefix with their ETags.
func objects(t *testing.T, bucket, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	p := s3.NewListObjectsV2Paginator(s3Client(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = aws.ToString(o.ETag)
		}
	}
	return out
}

func readObject(t *testing.T, key string) []byte {
	t.Helper()
	o, err := s3Client(t).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer o.Body.Close()
	b, err := io.ReadAll(o.Body)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

func bucketExists(t *testing.T, name string) bool {
	t.Helper()
	_, err := s3Client(t).HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(name)})
	return err == nil
}
