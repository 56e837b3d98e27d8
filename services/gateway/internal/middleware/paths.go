package middleware

// pathSet is paths as a set, for the middleware that treat some paths (the probes)
// differently.
func pathSet(paths []string) map[string]bool {
	set := make(map[string]bool, len(paths))
	for _, p := range paths {
		set[p] = true
	}
	return set
}
