package remedy

import "strings"

// BareDigest is the fix for a digest written without its repository,
// given the repositories (registry/repository) the input names: none, one
// (then corrected is REPOSITORY@DIGEST), or several (then candidates are
// each one's form). where says where that repository was found, for the
// remedy's words ("the repository the manifests name").
func BareDigest(digest string, repositories []string, where string) (fix, corrected string, candidates []string) {
	switch len(repositories) {
	case 0:
		return "name the repository too: REGISTRY/REPOSITORY@" + digest + " (a bare digest is what some tools print; pulls need the repository)", "", nil
	case 1:
		corrected = repositories[0] + "@" + digest
		return "write the full reference " + corrected + " (" + where + "); a bare digest names no repository", corrected, nil
	}
	for _, r := range repositories {
		candidates = append(candidates, r+"@"+digest)
	}
	return "name the repository the digest belongs to, one of: " + strings.Join(candidates, ", "), "", candidates
}
