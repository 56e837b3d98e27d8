package testkit

// KafkaUser is the part of a Strimzi KafkaUser (kafka.strimzi.io/v1) the suites read:
// how it authenticates and its ACLs.
type KafkaUser struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Authentication struct {
			Type string `json:"type"`
		} `json:"authentication"`
		Authorization struct {
			Type string         `json:"type"`
			ACLs []KafkaUserACL `json:"acls"`
		} `json:"authorization"`
	} `json:"spec"`
}

// KafkaUserACL is one ACL rule of a KafkaUser.
type KafkaUserACL struct {
	Type     string `json:"type"` // allow (also when empty) or deny
	Resource struct {
		Type        string `json:"type"`        // topic, group, cluster, transactionalId
		Name        string `json:"name"`        // none for cluster
		PatternType string `json:"patternType"` // literal (also when empty) or prefix
	} `json:"resource"`
	Operations []string `json:"operations"`
}
