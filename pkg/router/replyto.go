package router

import (
	"errors"
	"fmt"
	"path"
	"slices"
)

// ReplyToPolicy decides which topics a record's reply_to header may send its reply to
// (FastStream's request/reply names the requester's topic there). A worker that wrote
// wherever a record asked would be a confused deputy: it could be made to write into
// unrelated topics, its own input or its dead-letter topic.
type ReplyToPolicy struct {
	// Topics a reply_to may name. Empty (with no Patterns): the route's Topic plus
	// ".replies", where streamgate's gateway waits.
	Topics []string
	// Patterns (path.Match syntax, e.g. "faststream.replies.*") a reply_to may match,
	// for peers that choose a reply topic per process.
	Patterns []string
	// Ignore makes the route ignore reply_to headers: replies go to ReplyTopic only.
	Ignore bool
}

// ErrReplyToRefused is matched by the dead-letter reason of a record whose reply_to the
// route's policy does not allow.
var ErrReplyToRefused = errors.New("reply_to topic not allowed")

// replyToCheck resolves a record's reply_to header to the topic its reply goes to.
type replyToCheck struct {
	ignore     bool
	replyTopic string
	topics     []string
	patterns   []string
	forbidden  []string
}

func (p ReplyToPolicy) compile(topic, replyTopic, dlqTopic string) (replyToCheck, error) {
	c := replyToCheck{ignore: p.Ignore, replyTopic: replyTopic, topics: p.Topics, patterns: p.Patterns,
		forbidden: []string{topic, dlqTopic}}
	if len(c.topics) == 0 && len(c.patterns) == 0 {
		c.topics = []string{topic + ".replies"}
	}
	for _, t := range c.topics {
		if err := ValidTopic(t); err != nil {
			return c, err
		}
		if slices.Contains(c.forbidden, t) {
			return c, fmt.Errorf("%q is the route's own topic or dead-letter topic", t)
		}
	}
	for _, pat := range c.patterns {
		if _, err := path.Match(pat, ""); err != nil {
			return c, fmt.Errorf("pattern %q: %w", pat, err)
		}
	}
	return c, nil
}

// target returns the topic the reply to a record with reply_to header to goes to: the
// route's ReplyTopic when to is empty or ignored, to when the policy allows it. "" with
// a nil error means no reply is published.
func (c replyToCheck) target(to string) (string, error) {
	if to == "" || c.ignore {
		return c.replyTopic, nil
	}
	if err := ValidTopic(to); err != nil {
		return "", fmt.Errorf("%w: %w", ErrReplyToRefused, err)
	}
	if slices.Contains(c.forbidden, to) {
		return "", fmt.Errorf("%w: %q is the route's own topic or its dead-letter topic", ErrReplyToRefused, to)
	}
	if to == c.replyTopic || slices.Contains(c.topics, to) {
		return to, nil
	}
	for _, pat := range c.patterns {
		if ok, _ := path.Match(pat, to); ok {
			return to, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrReplyToRefused, to)
}
