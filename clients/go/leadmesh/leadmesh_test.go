package leadmesh

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	intakev1 "github.com/leadmesh/leadmesh/clients/go/gen/leadmesh/intake/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// fakeIntake answers SubmitLead from a script and records what each call carried.
type fakeIntake struct {
	intakev1.UnimplementedIntakeServiceServer
	mu      sync.Mutex
	calls   []call
	answer  func(n int) error
	hangFor time.Duration
}

type call struct {
	md       metadata.MD
	deadline time.Time
	key      string
	at       time.Time
}

func (f *fakeIntake) SubmitLead(ctx context.Context, req *intakev1.SubmitLeadRequest) (*intakev1.SubmitLeadResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	deadline, _ := ctx.Deadline()
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, call{md: md, deadline: deadline, key: req.GetIdempotencyKey(), at: time.Now()})
	f.mu.Unlock()
	if f.hangFor > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(f.hangFor):
		}
	}
	if f.answer != nil {
		if err := f.answer(n); err != nil {
			return nil, err
		}
	}
	return &intakev1.SubmitLeadResponse{LeadId: "lead-" + strconv.Itoa(n)}, nil
}

func start(t *testing.T, f intakev1.IntakeServiceServer, opts Options) *Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	intakev1.RegisterIntakeServiceServer(srv, f)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	opts.Addresses.Intake = lis.Addr().String()
	c, err := Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func submit(c *Client) (*intakev1.SubmitLeadResponse, error) {
	return c.Intake.SubmitLead(context.Background(), &intakev1.SubmitLeadRequest{IdempotencyKey: "k-1"})
}

func TestSendsTheTokenAndADefaultDeadline(t *testing.T) {
	f := &fakeIntake{}
	c := start(t, f, Options{Token: "team-key", Timeout: 3 * time.Second})
	if _, err := submit(c); err != nil {
		t.Fatal(err)
	}
	if got := f.calls[0].md.Get("authorization"); len(got) != 1 || got[0] != "Bearer team-key" {
		t.Fatalf("authorization = %v", got)
	}
	left := time.Until(f.calls[0].deadline)
	if left <= 0 || left > 3*time.Second {
		t.Fatalf("deadline %v from now, want within 3s", left)
	}
}

func TestDeadlineExceededIsNotRetried(t *testing.T) {
	f := &fakeIntake{hangFor: 5 * time.Second}
	c := start(t, f, Options{Timeout: 200 * time.Millisecond})
	started := time.Now()
	_, err := submit(c)
	if status.Code(err) != codes.DeadlineExceeded || time.Since(started) > 2*time.Second || len(f.calls) != 1 {
		t.Fatalf("err %v after %v with %d calls", err, time.Since(started), len(f.calls))
	}
}

func TestRetriesUnavailableAndHonoursRetryAfter(t *testing.T) {
	f := &fakeIntake{answer: func(n int) error {
		switch n {
		case 0:
			return status.Error(codes.Unavailable, "restarting")
		case 1:
			return status.Error(codes.ResourceExhausted, "slow down")
		}
		return nil
	}}
	c := start(t, f, Options{Retry: RetryPolicy{MaxAttempts: 4, InitialDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}})
	res, err := submit(c)
	if err != nil || res.GetLeadId() != "lead-2" || len(f.calls) != 3 {
		t.Fatalf("res %v err %v calls %d", res, err, len(f.calls))
	}
	for _, call := range f.calls {
		if call.key != "k-1" {
			t.Fatalf("retry changed the idempotency key: %q", call.key)
		}
	}

	told := &fakeIntake{answer: func(n int) error {
		if n == 0 {
			return status.Error(codes.ResourceExhausted, "rate limited")
		}
		return nil
	}}
	if _, err := submit(start(t, &trailerIntake{fakeIntake: told, retryAfterMs: "300"}, Options{})); err != nil {
		t.Fatal(err)
	}
	if gap := told.calls[1].at.Sub(told.calls[0].at); gap < 290*time.Millisecond {
		t.Fatalf("retried after %v, server asked for 300ms", gap)
	}
}

// trailerIntake sends retry-after-ms with its errors, as a rate-limited server does.
type trailerIntake struct {
	*fakeIntake
	retryAfterMs string
}

func (t *trailerIntake) SubmitLead(ctx context.Context, req *intakev1.SubmitLeadRequest) (*intakev1.SubmitLeadResponse, error) {
	res, err := t.fakeIntake.SubmitLead(ctx, req)
	if err != nil {
		grpc.SetTrailer(ctx, metadata.Pairs("retry-after-ms", t.retryAfterMs))
	}
	return res, err
}

func TestDoesNotRetryWhatAnotherAttemptCannotFix(t *testing.T) {
	f := &fakeIntake{answer: func(int) error { return status.Error(codes.PermissionDenied, "no scope") }}
	c := start(t, f, Options{})
	if _, err := submit(c); status.Code(err) != codes.PermissionDenied || len(f.calls) != 1 {
		t.Fatalf("err %v calls %d", err, len(f.calls))
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	f := &fakeIntake{answer: func(int) error { return status.Error(codes.Unavailable, "down") }}
	c := start(t, f, Options{Retry: RetryPolicy{MaxAttempts: 3, InitialDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
	if _, err := submit(c); status.Code(err) != codes.Unavailable || len(f.calls) != 3 {
		t.Fatalf("err %v calls %d", err, len(f.calls))
	}
}
