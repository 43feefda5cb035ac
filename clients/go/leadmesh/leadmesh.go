// Package leadmesh dials the five leadmesh services with one set of credentials: a bearer token on
// every call, a default deadline on every call, retries with backoff for UNAVAILABLE and
// RESOURCE_EXHAUSTED (honouring the server's retry-after-ms), and optional TLS or mutual TLS.
//
//	c, err := leadmesh.Dial(leadmesh.OptionsFromEnv())
//	defer c.Close()
//	res, err := c.Intake.SubmitLead(ctx, &intakev1.SubmitLeadRequest{...})
package leadmesh

import (
	"crypto/tls"
	"errors"
	"time"

	crmsyncv1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/crmsync/v1"
	intakev1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/intake/v1"
	nurturev1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/nurture/v1"
	routingv1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/routing/v1"
	scoringv1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/scoring/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Addresses of the five services; empty ones default to the local ports of DESIGN.md.
type Addresses struct {
	Intake, Scoring, Routing, Nurture, CrmSync string
}

// DefaultAddresses are the local development ports.
var DefaultAddresses = Addresses{
	Intake:  "127.0.0.1:50051",
	Scoring: "127.0.0.1:50052",
	Routing: "127.0.0.1:50053",
	Nurture: "127.0.0.1:50054",
	CrmSync: "127.0.0.1:50055",
}

// Options for Dial. The zero value dials the local ports in plaintext without a token.
type Options struct {
	Addresses Addresses
	// Token is sent as "authorization: Bearer <token>" on every call.
	Token string
	// TLS turns on transport security; set RootCAs for a private CA, Certificates for mutual TLS.
	TLS *tls.Config
	// Timeout is the deadline of each attempt of a call whose context has none. Default 10s.
	Timeout time.Duration
	// Retry bounds the retries; the zero value means DefaultRetry.
	Retry RetryPolicy
}

// Client holds one connection per service.
type Client struct {
	Intake  intakev1.IntakeServiceClient
	Scoring scoringv1.ScoringServiceClient
	Routing routingv1.RoutingServiceClient
	Nurture nurturev1.NurtureServiceClient
	CrmSync crmsyncv1.CrmSyncServiceClient
	conns   []*grpc.ClientConn
}

// Dial connects lazily (grpc.NewClient): nothing is sent until the first call.
func Dial(opts Options) (*Client, error) {
	addrs := withDefaults(opts.Addresses)
	dialOpts := DialOptions(opts)
	c := &Client{}
	for _, addr := range []string{addrs.Intake, addrs.Scoring, addrs.Routing, addrs.Nurture, addrs.CrmSync} {
		conn, err := grpc.NewClient(addr, dialOpts...)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.conns = append(c.conns, conn)
	}
	c.Intake = intakev1.NewIntakeServiceClient(c.conns[0])
	c.Scoring = scoringv1.NewScoringServiceClient(c.conns[1])
	c.Routing = routingv1.NewRoutingServiceClient(c.conns[2])
	c.Nurture = nurturev1.NewNurtureServiceClient(c.conns[3])
	c.CrmSync = crmsyncv1.NewCrmSyncServiceClient(c.conns[4])
	return c, nil
}

// DialOptions are the options Dial uses, for callers that build their own connection.
func DialOptions(opts Options) []grpc.DialOption {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	retry := opts.Retry
	if retry.MaxAttempts == 0 {
		retry = DefaultRetry
	}
	transport := insecure.NewCredentials()
	if opts.TLS != nil {
		transport = credentials.NewTLS(opts.TLS)
	}
	dialOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(transport),
		// The retry loop wraps the deadline, so each attempt gets a fresh one.
		grpc.WithChainUnaryInterceptor(retry.interceptor(), deadlineInterceptor(timeout)),
	}
	if opts.Token != "" {
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(bearer{token: opts.Token, requireTLS: opts.TLS != nil}))
	}
	return dialOpts
}

// Close closes every connection.
func (c *Client) Close() error {
	var errs []error
	for _, conn := range c.conns {
		errs = append(errs, conn.Close())
	}
	return errors.Join(errs...)
}

func withDefaults(a Addresses) Addresses {
	pick := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	return Addresses{
		Intake:  pick(a.Intake, DefaultAddresses.Intake),
		Scoring: pick(a.Scoring, DefaultAddresses.Scoring),
		Routing: pick(a.Routing, DefaultAddresses.Routing),
		Nurture: pick(a.Nurture, DefaultAddresses.Nurture),
		CrmSync: pick(a.CrmSync, DefaultAddresses.CrmSync),
	}
}
