package messages

import "strings"

// Status is the processing state reported in a [SampleResMsg]. The values
// match the Python enum's, which are what travel on the wire.
type Status string

// The statuses the Python enum defines.
const (
	StatusReceived   Status = "Received"
	StatusProcessing Status = "Processing"
	StatusCompleted  Status = "Completed"
	StatusFailed     Status = "Failed"
	StatusRetrying   Status = "Retrying"
	StatusCancelled  Status = "Cancelled"
	StatusPartially  Status = "Partially"
)

// DefaultStatus is what a response without a "status" field decodes as,
// mirroring the pydantic model's default.
const DefaultStatus = StatusReceived

// statuses lists every valid Status in the Python enum's order.
var statuses = [...]Status{
	StatusReceived,
	StatusProcessing,
	StatusCompleted,
	StatusFailed,
	StatusRetrying,
	StatusCancelled,
	StatusPartially,
}

// Valid reports whether s is one of the defined statuses. Matching is
// exact: "completed" is not valid, as it is not for the Python enum.
func (s Status) Valid() bool {
	for _, v := range statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Statuses returns every valid Status, in the Python enum's order.
func Statuses() []Status {
	return statuses[:]
}

// statusList is the valid statuses as text, for error messages.
func statusList() string {
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}
