package router

import (
	"errors"
	"fmt"
	"regexp"
)

// Kafka's rules for topic names (org.apache.kafka.common.internals.Topic); group IDs
// are held to the same characters so that they are safe in logs, metrics and ACLs.
var legalName = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// MaxNameLength is the longest topic name Kafka accepts.
const MaxNameLength = 249

// ErrInvalidName is matched by the errors of ValidTopic and ValidGroup.
var ErrInvalidName = errors.New("invalid name")

// ValidTopic reports whether Kafka accepts name as a topic name.
func ValidTopic(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty topic name", ErrInvalidName)
	case len(name) > MaxNameLength:
		return fmt.Errorf("%w: topic name of %d characters, longer than %d", ErrInvalidName, len(name), MaxNameLength)
	case name == "." || name == "..":
		return fmt.Errorf("%w: topic name %q", ErrInvalidName, name)
	case !legalName.MatchString(name):
		return fmt.Errorf("%w: topic name %q: only ASCII letters, digits, '.', '_' and '-' are allowed", ErrInvalidName, truncateName(name))
	}
	return nil
}

// ValidGroup reports whether name is a usable consumer group ID.
func ValidGroup(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty group ID", ErrInvalidName)
	case len(name) > MaxNameLength:
		return fmt.Errorf("%w: group ID of %d characters, longer than %d", ErrInvalidName, len(name), MaxNameLength)
	case !legalName.MatchString(name):
		return fmt.Errorf("%w: group ID %q: only ASCII letters, digits, '.', '_' and '-' are allowed", ErrInvalidName, truncateName(name))
	}
	return nil
}

func truncateName(s string) string {
	if len(s) > MaxNameLength {
		return s[:MaxNameLength] + "..."
	}
	return s
}
