package scan

import "strings"

// IDKind says what a pod's imageID names.
type IDKind int

const (
	// IDNone: no digest could be read (empty, or not a digest).
	IDNone IDKind = iota
	// IDRepoDigest: repo@sha256:… or docker-pullable://repo@sha256:…,
	// the manifest or index digest the runtime pulled.
	IDRepoDigest
	// IDImageID: a bare sha256:… or docker://sha256:…, usually the image
	// config digest (kind, the Docker runtime), sometimes a manifest's.
	IDImageID
)

func (k IDKind) String() string {
	switch k {
	case IDRepoDigest:
		return "repo-digest"
	case IDImageID:
		return "image-id"
	}
	return "none"
}

// NormalizeImageID reads the digest out of a container status imageID,
// whichever runtime wrote it:
//
//	docker-pullable://repo@sha256:…  → repo digest (dockershim)
//	repo@sha256:…                    → repo digest (containerd, CRI-O)
//	docker://sha256:…, sha256:…      → image ID (config digest, e.g. kind)
//
// It returns "" and IDNone when s holds no well-formed digest.
func NormalizeImageID(s string) (string, IDKind) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		if i == 0 {
			return "", IDNone
		}
		if d := s[i+1:]; validDigest(d) {
			return d, IDRepoDigest
		}
		return "", IDNone
	}
	if validDigest(s) {
		return s, IDImageID
	}
	return "", IDNone
}

// validDigest accepts the digests registries serve: sha256 with 64 and
// sha512 with 128 lowercase hex digits.
func validDigest(d string) bool {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok {
		return false
	}
	var want int
	switch alg {
	case "sha256":
		want = 64
	case "sha512":
		want = 128
	default:
		return false
	}
	if len(hex) != want {
		return false
	}
	for i := 0; i < len(hex); i++ {
		c := hex[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// imageIDRepository returns the repository an imageID of kind IDRepoDigest
// names ("HOST/REPO" of "HOST/REPO@sha256:…"), or "".
func imageIDRepository(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.LastIndexByte(s, '@'); i > 0 {
		return s[:i]
	}
	return ""
}
