// Package config is sekisho's configuration file (sekisho.yaml): the SMTP
// relay, the HTTP proxy, the admin listener, the data directory, the
// quarantine, the extraction limits, the log level and the policy, which
// extends the embedded default policy (rules/default.yaml).
//
// Parse decodes strictly (an unknown key is an error naming its line) and
// validates everything, the policy and its custom detectors' examples
// included, so that a configuration that loads is one that works: Load is
// what a reload calls before anything is swapped. Every error names the file,
// the line and the field: `sekisho.yaml:12: smtp.next_hop: "foo" is not host:port`.
package config

import (
	"time"

	"github.com/sekisho-dlp/sekisho/gateway/extract"
	"github.com/sekisho-dlp/sekisho/rules"
)

// Config is the whole configuration. The zero value is not useful: start
// from Defaults (Parse does).
type Config struct {
	SMTP       SMTP       `yaml:"smtp"`
	Proxy      Proxy      `yaml:"proxy"`
	Admin      Admin      `yaml:"admin"`
	DataDir    string     `yaml:"data_dir"`
	Quarantine Quarantine `yaml:"quarantine"`
	Limits     Limits     `yaml:"limits"`
	LogLevel   string     `yaml:"log_level"`
	// PolicyDoc is the policy: section, extending the embedded default.
	PolicyDoc rules.Document `yaml:"policy"`

	file   string
	src    *rules.Source
	policy *rules.Policy
}

// SMTP is the mail relay: clients submit to Listen, inspected mail goes on
// to NextHop.
type SMTP struct {
	// Disabled turns the SMTP listener off.
	Disabled bool   `yaml:"disabled"`
	Listen   string `yaml:"listen"`
	// Hostname is the name in the greeting and in bounces ("" = the host's name).
	Hostname string `yaml:"hostname"`
	NextHop  string `yaml:"next_hop"`
	// NextHopTLS: opportunistic (STARTTLS when offered), required, or none.
	NextHopTLS     string         `yaml:"next_hop_tls"`
	NextHopTimeout rules.Duration `yaml:"next_hop_timeout"`
	// AllowedNetworks may connect (CIDR or single addresses).
	AllowedNetworks []string `yaml:"allowed_networks"`
	// XForwardNetworks may name the original client with XFORWARD (Postfix
	// in front with smtp_send_xforward_command = yes); events then record
	// that client. Empty: nobody.
	XForwardNetworks []string `yaml:"xforward_networks"`
	// Users, when set, must authenticate (AUTH PLAIN over TLS) to relay.
	Users []User `yaml:"users"`
	// TLS is the certificate offered with STARTTLS to clients.
	TLS                     TLS            `yaml:"tls"`
	MaxMessageBytes         rules.ByteSize `yaml:"max_message_bytes"`
	MaxRecipients           int            `yaml:"max_recipients"`
	ReadTimeout             rules.Duration `yaml:"read_timeout"`
	WriteTimeout            rules.Duration `yaml:"write_timeout"`
	MaxConnections          int            `yaml:"max_connections"`
	MaxConnectionsPerClient int            `yaml:"max_connections_per_client"`
	// BlockMode is what the policy action "block" does to mail: bounce
	// (accept, quarantine, send a DSN without the content) or reject (550
	// during the session).
	BlockMode string `yaml:"block_mode"`
	// BounceFrom is the From of bounces ("" = MAILER-DAEMON@Hostname).
	BounceFrom string `yaml:"bounce_from"`
}

// User is an account. PasswordHash is a bcrypt hash ($2a$, $2b$ or $2y$),
// e.g. from `htpasswd -nbBC 12 name password`.
type User struct {
	Name         string `yaml:"name"`
	PasswordHash string `yaml:"password_hash"`
}

// TLS names a certificate and its key (PEM files).
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Proxy is the HTTP forward proxy.
type Proxy struct {
	Disabled        bool           `yaml:"disabled"`
	Listen          string         `yaml:"listen"`
	AllowedNetworks []string       `yaml:"allowed_networks"`
	Users           []User         `yaml:"users"`
	MaxUploadBytes  rules.ByteSize `yaml:"max_upload_bytes"`
	// Intercept turns on TLS interception (MITM) with the CA made by
	// `sekisho ca init`; without it HTTPS passes uninspected (only the host
	// is checked). The policy's hosts.no_intercept are never intercepted.
	Intercept bool `yaml:"intercept"`
	// CACertFile and CAKeyFile locate the CA ("" = under data_dir, where
	// `sekisho ca init` writes it).
	CACertFile string `yaml:"ca_cert_file"`
	CAKeyFile  string `yaml:"ca_key_file"`
	// UpstreamTimeout bounds the wait for an origin server's response
	// header once the request is sent (504 beyond it).
	UpstreamTimeout rules.Duration `yaml:"upstream_timeout"`
	// MaxInspections is how many uploads are inspected at once; the others
	// wait their turn in arrival order. 0 = one fewer than the CPUs (at
	// least one), so that forwarding keeps a CPU while uploads are inspected.
	MaxInspections int `yaml:"max_inspections"`
}

// Admin is the admin listener (events, quarantine review).
type Admin struct {
	Disabled bool   `yaml:"disabled"`
	Listen   string `yaml:"listen"`
	// TokenFile or TokenEnv holds a bearer token; Users log in with a
	// password. A listener that is not on loopback needs one of them.
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
	Users     []User `yaml:"users"`
}

// Quarantine keeps blocked items encrypted at rest.
type Quarantine struct {
	Retention rules.Duration `yaml:"retention"`
	// KeyFile or KeyEnv holds the 32-byte key, hex-encoded ("" for both:
	// a key file under data_dir, made on first start).
	KeyFile string `yaml:"key_file"`
	KeyEnv  string `yaml:"key_env"`
}

// Limits bound the work one message or upload may take (extract.Limits).
type Limits struct {
	MaxDepth         int            `yaml:"max_depth"`
	MaxExpandedBytes rules.ByteSize `yaml:"max_expanded_bytes"`
	MaxRatio         float64        `yaml:"max_ratio"`
	MaxEntries       int            `yaml:"max_entries"`
	MaxParts         int            `yaml:"max_parts"`
	SpoolThreshold   rules.ByteSize `yaml:"spool_threshold"`
	TempDir          string         `yaml:"temp_dir"`
	// InspectTimeout bounds the inspection of one item; past it the item
	// gets a temporary failure.
	InspectTimeout rules.Duration `yaml:"inspect_timeout"`
}

// Defaults returns the configuration used when a field is not given.
func Defaults() *Config {
	lim := extract.DefaultLimits()
	loopback := []string{"127.0.0.0/8", "::1/128"}
	return &Config{
		SMTP: SMTP{
			Listen:                  "127.0.0.1:2525",
			NextHop:                 "127.0.0.1:10026",
			NextHopTLS:              "opportunistic",
			NextHopTimeout:          rules.Duration(5 * time.Minute),
			AllowedNetworks:         append([]string(nil), loopback...),
			XForwardNetworks:        append([]string(nil), loopback...),
			MaxMessageBytes:         64 << 20,
			MaxRecipients:           100,
			ReadTimeout:             rules.Duration(5 * time.Minute),
			WriteTimeout:            rules.Duration(5 * time.Minute),
			MaxConnections:          200,
			MaxConnectionsPerClient: 20,
			BlockMode:               rules.ActionBounce,
		},
		Proxy: Proxy{
			Listen:          "127.0.0.1:3128",
			AllowedNetworks: append([]string(nil), loopback...),
			MaxUploadBytes:  64 << 20,
			UpstreamTimeout: rules.Duration(2 * time.Minute),
		},
		Admin:      Admin{Listen: "127.0.0.1:8025"},
		DataDir:    "./sekisho-data",
		Quarantine: Quarantine{Retention: rules.Duration(720 * time.Hour)},
		Limits: Limits{
			MaxDepth:         lim.MaxDepth,
			MaxExpandedBytes: rules.ByteSize(lim.MaxExpandedBytes),
			MaxRatio:         lim.MaxRatio,
			MaxEntries:       lim.MaxEntries,
			MaxParts:         lim.MaxParts,
			SpoolThreshold:   rules.ByteSize(lim.SpoolThreshold),
			InspectTimeout:   rules.Duration(2 * time.Minute),
		},
		LogLevel: "info",
	}
}

// ExtractLimits returns the limits for gateway/extract.
func (c *Config) ExtractLimits() extract.Limits {
	return extract.Limits{
		MaxDepth:         c.Limits.MaxDepth,
		MaxExpandedBytes: int64(c.Limits.MaxExpandedBytes),
		MaxRatio:         c.Limits.MaxRatio,
		MaxEntries:       c.Limits.MaxEntries,
		MaxParts:         c.Limits.MaxParts,
		SpoolThreshold:   int64(c.Limits.SpoolThreshold),
		TempDir:          c.Limits.TempDir,
	}
}

// File returns the name of the file the configuration came from ("" for Defaults).
func (c *Config) File() string { return c.file }

// Policy returns the compiled policy: the embedded default extended by the
// policy: section. Parse, Load and a successful Validate compile it; on a
// Config that was changed and not validated since, Policy compiles it now
// and returns nil if it is invalid (call Validate to see why).
func (c *Config) Policy() *rules.Policy {
	if c.policy == nil {
		p, err := c.compilePolicy()
		if err != nil {
			return nil
		}
		c.policy = p
	}
	return c.policy
}

func (c *Config) compilePolicy() (*rules.Policy, error) {
	mode := c.SMTP.BlockMode
	if mode != rules.ActionReject {
		mode = rules.ActionBounce // an invalid smtp.block_mode is reported by Validate
	}
	return rules.Compile(&c.PolicyDoc, c.src, "policy", rules.Options{MailBlockAction: mode})
}
