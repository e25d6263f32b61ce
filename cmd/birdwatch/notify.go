package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/birdwatch-gitops/birdwatch/analyzer/metrics"
	"github.com/birdwatch-gitops/birdwatch/functions/auth"
	"github.com/birdwatch-gitops/birdwatch/functions/chatops"
	"github.com/birdwatch-gitops/birdwatch/functions/notify"
	"github.com/birdwatch-gitops/birdwatch/functions/notify/cloudevent"
	"github.com/birdwatch-gitops/birdwatch/functions/notify/discord"
	"github.com/birdwatch-gitops/birdwatch/functions/notify/googlechat"
	"github.com/birdwatch-gitops/birdwatch/functions/notify/teams"
	"github.com/slack-go/slack"
)

// newDispatcher wires every notifier behind one notify.Dispatcher: Slack
// when a bot token is configured, and Teams, Discord, Google Chat and the
// CloudEvents webhook always (they act only for canaries whose spec.notify
// names them, and read their URLs from the deployment secrets; a secret
// that cannot be read is logged and counted, never fatal).
func newDispatcher(ctx context.Context, cfg *Config, series metrics.Provider, log *slog.Logger) (*notify.Dispatcher, error) {
	d := notify.NewDispatcher(notify.DispatchOptions{Log: log})
	rp, _ := series.(metrics.RangeProvider) // charts when Prometheus is set
	composer := notify.Composer{Series: rp, CommitURL: notify.CommitLinker(cfg.Repo)}
	slackToken, err := cfg.secret(ctx, "BIRDWATCH_SLACK_BOT_TOKEN")
	if err != nil {
		return nil, err
	}
	if slackToken != "" {
		n := notify.NewSlack(slackToken, cfg.SlackAPIURL)
		n.Series, n.CommitURL = rp, composer.CommitURL
		d.Add("slack", n)
	}
	secrets := cfg.notifySecrets()
	d.Add("teams", &teams.Notifier{Secrets: secrets, Composer: composer})
	d.Add("discord", &discord.Notifier{Secrets: secrets, Composer: composer})
	d.Add("googleChat", &googlechat.Notifier{Secrets: secrets, Composer: composer})
	d.Add("webhook", &cloudevent.Notifier{Secrets: secrets, Composer: composer})
	return d, nil
}

// notifySecrets resolves the deployment secrets spec.notify names: the
// file NAME in NotifySecretsDir (a mounted Kubernetes Secret), else the
// Secrets Manager secret NotifySecretsPrefix+NAME (Lambda), read once per
// process like every other secret.
func (c *Config) notifySecrets() notify.Secrets {
	dir := notify.SecretDir(c.NotifySecretsDir)
	if c.NotifySecretsPrefix == "" {
		return dir
	}
	if c.secrets == nil {
		c.secrets = newSecretStore()
	}
	store, prefix := c.secrets, c.NotifySecretsPrefix
	return notify.SecretFunc(func(ctx context.Context, name string) (string, error) {
		if c.NotifySecretsDir != "" {
			if v, err := dir.Secret(ctx, name); err == nil {
				return v, nil
			}
		}
		v, err := store.managed(ctx, prefix+name)
		if err != nil {
			return "", fmt.Errorf("secret %q: %w", name, err)
		}
		if v == "" {
			return "", notify.Permanent(fmt.Errorf("secret %q is empty", name))
		}
		return v, nil
	})
}

// slackAccess is the authorizer of Slack commands: functions/auth, with
// Slack user groups (slack:S...) resolved through the bot token when one is
// configured (members cached for auth.DefaultGroupTTL).
func slackAccess(ctx context.Context, cfg *Config) (chatops.Access, error) {
	token, err := cfg.secret(ctx, "BIRDWATCH_SLACK_BOT_TOKEN")
	if err != nil || token == "" {
		return chatops.Access{Auth: &auth.Authorizer{}}, err
	}
	var opts []slack.Option
	if cfg.SlackAPIURL != "" {
		opts = append(opts, slack.OptionAPIURL(strings.TrimSuffix(cfg.SlackAPIURL, "/")+"/"))
	}
	return chatops.Access{Auth: &auth.Authorizer{Slack: auth.NewSlack(slack.New(token, opts...))}}, nil
}
