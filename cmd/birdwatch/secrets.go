package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	gosync "sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/birdwatch-gitops/birdwatch/gitops/repo"
)

// secretsAPI is the Secrets Manager call; *secretsmanager.Client implements it.
type secretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// secretStore resolves secrets the same way in every mode: the file (a
// flag or the NAME_FILE variable), else the AWS Secrets Manager secret
// NAME_SECRET_ID (ARN or name; the client is made from the default AWS
// configuration on first use), else the variable NAME itself. Each value
// is read once per process. Values are never logged or put in errors.
type secretStore struct {
	mu     gosync.Mutex
	client secretsAPI
	cache  map[string]string
}

func newSecretStore() *secretStore { return &secretStore{cache: map[string]string{}} }

// resolve returns the secret whose value variable is name (BIRDWATCH_X),
// reading file first when it is not ""; "" when none is set.
func (s *secretStore) resolve(ctx context.Context, name, file string) (string, error) {
	key := name + "\x00" + file
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cache[key]; ok {
		return v, nil
	}
	v, err := s.read(ctx, name, file)
	if err != nil {
		return "", err
	}
	s.cache[key] = v
	return v, nil
}

func (s *secretStore) read(ctx context.Context, name, file string) (string, error) {
	if file != "" {
		v, err := readSecretFile(file)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return v, nil
	}
	if id := os.Getenv(name + "_SECRET_ID"); id != "" {
		v, err := s.secretsManager(ctx, id)
		if err != nil {
			return "", fmt.Errorf("%s_SECRET_ID: %w", name, err)
		}
		return v, nil
	}
	return os.Getenv(name), nil
}

// secretsManager reads the Secrets Manager secret id (ARN or name); the
// caller holds s.mu.
func (s *secretStore) secretsManager(ctx context.Context, id string) (string, error) {
	if s.client == nil {
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return "", fmt.Errorf("load AWS configuration: %w", err)
		}
		s.client = secretsmanager.NewFromConfig(cfg)
	}
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("get secret value: %w", err)
	}
	return strings.TrimSpace(aws.ToString(out.SecretString)), nil
}

// managed returns the Secrets Manager secret id, read once per process.
func (s *secretStore) managed(ctx context.Context, id string) (string, error) {
	key := "\x00sm\x00" + id
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cache[key]; ok {
		return v, nil
	}
	v, err := s.secretsManager(ctx, id)
	if err != nil {
		return "", err
	}
	s.cache[key] = v
	return v, nil
}

// secret resolves the secret of the settings row whose value variable is
// name (e.g. BIRDWATCH_GIT_TOKEN), with the file from that row's field.
func (c *Config) secret(ctx context.Context, name string) (string, error) {
	if c.secrets == nil {
		c.secrets = newSecretStore()
	}
	for _, s := range settingsTable {
		if s.secret == name {
			return c.secrets.resolve(ctx, name, *s.field(c).(*string))
		}
	}
	return "", fmt.Errorf("no secret setting %s", name) // a programming error: every caller names a table row
}

// gitToken is the HTTPS token for the repository; "" when none is set.
func (c *Config) gitToken(ctx context.Context) (string, error) {
	return c.secret(ctx, "BIRDWATCH_GIT_TOKEN")
}

// commitSigner is the signer of the key BIRDWATCH_GIT_SIGNING_KEY (file,
// Secrets Manager or value), nil when none is set. An unusable key stops the
// command before anything is committed.
func (c *Config) commitSigner(ctx context.Context) (repo.Signer, error) {
	key, err := c.secret(ctx, "BIRDWATCH_GIT_SIGNING_KEY")
	if err != nil || key == "" {
		return nil, err
	}
	pass, err := c.secret(ctx, "BIRDWATCH_GIT_SIGNING_PASSPHRASE")
	if err != nil {
		return nil, err
	}
	s, err := repo.NewSigner([]byte(key+"\n"), []byte(pass))
	if err != nil {
		return nil, fmt.Errorf("BIRDWATCH_GIT_SIGNING_KEY: %w", err)
	}
	return s, nil
}

// readSecretFile reads a secret from a file, trimmed; "" for no file.
func readSecretFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
