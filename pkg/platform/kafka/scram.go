package kafka

import (
	"crypto/sha256"
	"crypto/sha512"

	"github.com/IBM/sarama"
	"github.com/xdg-go/scram"
)

// scramClient adapts xdg-go/scram to sarama.SCRAMClient, as sarama's SASL/SCRAM
// example does.
type scramClient struct {
	hash         scram.HashGeneratorFcn
	conversation *scram.ClientConversation
}

func (c *scramClient) Begin(user, password, authzID string) error {
	client, err := c.hash.NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	c.conversation = client.NewConversation()
	return nil
}

func (c *scramClient) Step(challenge string) (string, error) { return c.conversation.Step(challenge) }

func (c *scramClient) Done() bool { return c.conversation.Done() }

// scramClientGenerator returns sarama's factory of SCRAM conversations for mechanism,
// or nil when mechanism is not a SCRAM one.
func scramClientGenerator(mechanism string) func() sarama.SCRAMClient {
	var hash scram.HashGeneratorFcn
	switch mechanism {
	case MechanismSCRAMSHA256:
		hash = sha256.New
	case MechanismSCRAMSHA512:
		hash = sha512.New
	default:
		return nil
	}
	return func() sarama.SCRAMClient { return &scramClient{hash: hash} }
}
