package email

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := Config{Host: "smtp.example.org", Port: 587, From: "vie-scolaire@example.org", FromName: "Vie scolaire"}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // in the error; empty when valid
	}{
		{"valid", func(*Config) {}, ""},
		{"opportunistic with a password", func(c *Config) {
			c.TLS, c.Username, c.Password = TLSOpportunistic, "ent", "secret"
		}, ""},
		{"no TLS for a local relay", func(c *Config) { c.TLS = TLSNone }, ""},
		{"empty host", func(c *Config) { c.Host = "" }, "relay host is empty"},
		{"host with a port", func(c *Config) { c.Host = "smtp.example.org:25" }, "holds a port"},
		{"host with a space", func(c *Config) { c.Host = "smtp example" }, "not a host name"},
		{"port zero", func(c *Config) { c.Port = 0 }, "port 0"},
		{"port too high", func(c *Config) { c.Port = 70000 }, "port 70000"},
		{"unknown TLS policy", func(c *Config) { c.TLS = "starttls" }, `TLS policy "starttls"`},
		{"user without password", func(c *Config) { c.Username = "ent" }, "user and password go together"},
		{"password in clear text", func(c *Config) {
			c.TLS, c.Username, c.Password = TLSNone, "ent", "secret"
		}, "never sent in clear text"},
		{"empty from", func(c *Config) { c.From = "" }, "sender address (from) is empty"},
		{"from with a name", func(c *Config) { c.From = "Vie scolaire <vs@example.org>" }, "not a bare e-mail address"},
		{"from not an address", func(c *Config) { c.From = "vie-scolaire" }, "not a bare e-mail address"},
		{"from name with a line break", func(c *Config) { c.FromName = "Vie\r\nBcc: x@example.org" }, "control characters"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "negative"},
		{"HELO with a space", func(c *Config) { c.HELO = "ent ledger" }, "HELO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if _, err := NewSender(c); err != nil {
					t.Fatalf("NewSender: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want an error with %q", err, tt.want)
			}
			if _, err := NewSender(c); err == nil {
				t.Fatalf("NewSender accepted an invalid configuration")
			}
		})
	}
}

func TestConfigValidateSaysEveryProblem(t *testing.T) {
	err := Config{Port: -1}.Validate()
	if err == nil {
		t.Fatal("an empty configuration is valid")
	}
	for _, want := range []string{"relay host is empty", "port -1", "sender address (from) is empty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
