package verifier

import (
	"fmt"
	"strings"
	"time"
)

// Config is the verifier's configuration file (JSON, strict): who it is,
// its policies, and HTTP hardening settings. Keys, the light client and
// the data directory come from the command line.
type Config struct {
	// Audience names this verifier in every request: its web origin
	// (https://host[:port]), which wallets check.
	Audience string `json:"audience"`
	// PublicURL is the base URL wallets use (default: Audience; same
	// origin).
	PublicURL string    `json:"publicUrl,omitempty"`
	Policies  []*Policy `json:"policies"`
	// TrustedProxies are CIDRs of reverse proxies whose X-Forwarded-For
	// names the real client (for rate limiting).
	TrustedProxies []string `json:"trustedProxies,omitempty"`
	// RateLimit per client per second (0: default; negative: off).
	RateLimit float64 `json:"rateLimit,omitempty"`
	RateBurst int     `json:"rateBurst,omitempty"`
	// MaxBodyBytes bounds one JSON body (0: default).
	MaxBodyBytes int64 `json:"maxBodyBytes,omitempty"`
	// MaxBatch bounds presentations per batch call (0: default).
	MaxBatch int `json:"maxBatch,omitempty"`
	// CoalesceProofs batches the proofs of concurrent presentations (0:
	// DefaultCoalesce; 1 or negative: each alone); see Options.CoalesceProofs.
	CoalesceProofs int `json:"coalesceProofs,omitempty"`
	// CreateToken is the bearer token POST /v1/requests needs for a
	// policy that is not public ('zkcred verifier serve' makes one in its
	// data directory when neither this nor --create-token-file is given).
	CreateToken string `json:"createToken,omitempty"`
	// PublicQuota bounds the open requests of public policies per client
	// (0: DefaultPublicQuota; negative: none).
	PublicQuota int `json:"publicQuota,omitempty"`
	// MaxRequests bounds the stored requests (0: DefaultMaxRequests;
	// negative: none).
	MaxRequests int `json:"maxRequests,omitempty"`
	// SuspectFor is how long a client whose proof failed is kept out of
	// coalesced batches (0: DefaultSuspectFor).
	SuspectFor Duration `json:"suspectFor,omitempty"`
}

// ParseConfig decodes a configuration strictly and validates every policy,
// so that a mistake is reported at start with the policy's name.
func ParseConfig(b []byte) (*Config, error) {
	var c Config
	if err := strictDecode(b, &c); err != nil {
		return nil, fmt.Errorf("verifier config: %w", err)
	}
	if strings.TrimSpace(c.Audience) == "" {
		return nil, fmt.Errorf("verifier config: %w: audience is empty (name this verifier by its URL, e.g. https://verifier.example)", ErrMalformed)
	}
	if err := checkAudience(c.Audience, c.PublicURL); err != nil {
		return nil, fmt.Errorf("verifier config: %w: %s", ErrMalformed, strings.TrimPrefix(err.Error(), "verifier: "))
	}
	if len(c.Policies) == 0 {
		return nil, fmt.Errorf("verifier config: %w: no policies", ErrMalformed)
	}
	seen := map[string]bool{}
	for _, p := range c.Policies {
		if p == nil {
			return nil, fmt.Errorf("verifier config: %w: null policy", ErrMalformed)
		}
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("verifier config: %w", err)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("verifier config: %w: two policies named %q", ErrPolicy, p.Name)
		}
		seen[p.Name] = true
	}
	if err := CheckProxies(c.TrustedProxies); err != nil {
		return nil, fmt.Errorf("verifier config: %w", err)
	}
	if c.MaxBodyBytes < 0 || c.MaxBatch < 0 || c.CoalesceProofs > 256 {
		return nil, fmt.Errorf("verifier config: %w: negative limits", ErrMalformed)
	}
	return &c, nil
}

// Options returns the Options this configuration sets; the caller adds
// Dir, Proofs, Roots and Issuers.
func (c *Config) Options() Options {
	return Options{
		Audience:       c.Audience,
		PublicURL:      c.PublicURL,
		Policies:       c.Policies,
		TrustedProxies: c.TrustedProxies,
		RateLimit:      c.RateLimit,
		RateBurst:      c.RateBurst,
		MaxBody:        c.MaxBodyBytes,
		MaxBatch:       c.MaxBatch,
		CreateToken:    c.CreateToken,
		CoalesceProofs: c.CoalesceProofs,
		PublicQuota:    c.PublicQuota,
		MaxRequests:    c.MaxRequests,
		SuspectFor:     time.Duration(c.SuspectFor),
	}
}
