package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/slack-go/slack"
)

// SlackAPI implements SlackGroups with slack-go. It is safe for concurrent use.
type SlackAPI struct {
	client *slack.Client
}

// NewSlack returns the Slack group lookup backed by client (a bot token
// with the usergroups:read scope).
func NewSlack(client *slack.Client) *SlackAPI { return &SlackAPI{client: client} }

// GroupMember calls usergroups.users.list and looks for user in it.
func (s *SlackAPI) GroupMember(ctx context.Context, group, user string) (bool, error) {
	members, err := s.client.GetUserGroupMembersContext(ctx, group)
	if err != nil {
		return false, fmt.Errorf("list members of Slack group %s: %w", group, err)
	}
	return slices.Contains(members, user), nil
}
