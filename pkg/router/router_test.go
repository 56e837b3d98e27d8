package router

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func echo(_ context.Context, m Message[string]) (string, error) { return m.Body, nil }

func TestRegisterValidatesRoutes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		route Route[string, string]
		want  string
	}{
		{"no handler", Route[string, string]{Topic: "in", DeadLetterTopic: "dlq"}, "Handler is required"},
		{"bad topic", Route[string, string]{Topic: "in topic", DeadLetterTopic: "dlq", Handler: echo}, "Topic"},
		{"long topic", Route[string, string]{Topic: strings.Repeat("a", 250), DeadLetterTopic: "dlq", Handler: echo}, "longer than 249"},
		{"no dlq", Route[string, string]{Topic: "in", Handler: echo}, "DeadLetterTopic"},
		{"reply to self", Route[string, string]{Topic: "in", ReplyTopic: "in", DeadLetterTopic: "dlq", Handler: echo}, "must differ"},
		{"allow dlq as reply_to", Route[string, string]{Topic: "in", DeadLetterTopic: "dlq", Handler: echo,
			ReplyTo: ReplyToPolicy{Topics: []string{"dlq"}}}, "dead-letter"},
	} {
		if err := Register(New(Config{}), tc.route); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Register = %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	r := New(Config{})
	ok := Route[string, string]{Topic: "in", ReplyTopic: "out", DeadLetterTopic: "dlq", Handler: echo}
	if err := Register(r, ok); err != nil {
		t.Fatal(err)
	}
	if err := Register(r, ok); !errors.Is(err, errDuplicateRoute) {
		t.Errorf("second route for in: %v", err)
	}
	if err := Register(r, Route[string, string]{Topic: "out", DeadLetterTopic: "dlq2", Handler: echo}); err == nil {
		t.Error("a route consuming another route's reply topic was accepted")
	}
	if got := r.Topics(); len(got) != 1 || got[0] != "in" {
		t.Errorf("Topics = %v", got)
	}
}

func TestReplyToPolicy(t *testing.T) {
	def, err := ReplyToPolicy{}.compile("in", "out", "in.dlq")
	if err != nil {
		t.Fatal(err)
	}
	pat, err := ReplyToPolicy{Patterns: []string{"peer.*"}}.compile("in", "out", "in.dlq")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		check   replyToCheck
		replyTo string
		want    string
		refused bool
	}{
		{def, "", "out", false},
		{def, "in.replies", "in.replies", false},
		{def, "out", "out", false},
		{def, "in", "", true},
		{def, "in.dlq", "", true},
		{def, "unrelated", "", true},
		{def, strings.Repeat("x", 249), "", true},
		{def, "bad name", "", true},
		{pat, "peer.1", "peer.1", false},
		{pat, "in.replies", "", true},
	} {
		got, err := tc.check.target(tc.replyTo)
		if got != tc.want || (err != nil) != tc.refused || (err != nil && !errors.Is(err, ErrReplyToRefused)) {
			t.Errorf("target(%.20q) = %q, %v; want %q, refused %v", tc.replyTo, got, err, tc.want, tc.refused)
		}
	}
}
