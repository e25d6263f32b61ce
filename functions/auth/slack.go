package auth

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// DefaultGroupTTL is how long SlackAPI keeps a user group's members: a
// person removed from a group may still command for this long.
const DefaultGroupTTL = 5 * time.Minute

// SlackAPI implements SlackGroups with slack-go, keeping each group's
// member list for TTL so a burst of commands makes one call per group (Slack
// rate-limits usergroups.users.list). It is safe for concurrent use.
type SlackAPI struct {
	client *slack.Client
	// TTL is how long a member list is kept; 0 means DefaultGroupTTL.
	TTL time.Duration
	// Now is the cache's clock; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	groups map[string]cachedGroup
}

type cachedGroup struct {
	members []string
	at      time.Time
}

// NewSlack returns the Slack group lookup backed by client (a bot token
// with the usergroups:read scope).
func NewSlack(client *slack.Client) *SlackAPI { return &SlackAPI{client: client} }

// GroupMember looks for user in the group's members (usergroups.users.list,
// cached for TTL). A failed lookup is not cached.
func (s *SlackAPI) GroupMember(ctx context.Context, group, user string) (bool, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultGroupTTL
	}
	s.mu.Lock()
	g, ok := s.groups[group]
	s.mu.Unlock()
	if !ok || now().Sub(g.at) >= ttl {
		members, err := s.client.GetUserGroupMembersContext(ctx, group)
		if err != nil {
			return false, fmt.Errorf("list members of Slack group %s: %w", group, err)
		}
		g = cachedGroup{members: members, at: now()}
		s.mu.Lock()
		if s.groups == nil {
			s.groups = map[string]cachedGroup{}
		}
		s.groups[group] = g
		s.mu.Unlock()
	}
	return slices.Contains(g.members, user), nil
}
