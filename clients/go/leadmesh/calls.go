package leadmesh

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// bearer puts the caller's token on every call. Plaintext is allowed only when the caller chose no
// TLS (local stacks); with TLS configured grpc-go refuses to send it over an insecure channel.
type bearer struct {
	token      string
	requireTLS bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

func (b bearer) RequireTransportSecurity() bool { return b.requireTLS }

func deadlineInterceptor(timeout time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// RetryPolicy retries UNAVAILABLE and RESOURCE_EXHAUSTED with exponential backoff and full
// jitter, or after the delay the server names in the retry-after-ms trailer.
type RetryPolicy struct {
	MaxAttempts  int // first try included; 1 turns retries off
	InitialDelay time.Duration
	MaxDelay     time.Duration
}

// DefaultRetry is four attempts over about a second.
var DefaultRetry = RetryPolicy{MaxAttempts: 4, InitialDelay: 100 * time.Millisecond, MaxDelay: 5 * time.Second}

func retryable(err error) bool {
	c := status.Code(err)
	return c == codes.Unavailable || c == codes.ResourceExhausted
}

// Delay before attempt n+1 after a failure whose trailer may carry retry-after-ms.
func (p RetryPolicy) Delay(n int, trailer metadata.MD) time.Duration {
	if v := trailer.Get("retry-after-ms"); len(v) > 0 {
		if ms, err := strconv.Atoi(v[0]); err == nil && ms >= 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	ceiling := min(p.MaxDelay, p.InitialDelay<<(n-1))
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

func (p RetryPolicy) interceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		for attempt := 1; ; attempt++ {
			var trailer metadata.MD
			err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Trailer(&trailer))...)
			if err == nil || !retryable(err) || attempt >= p.MaxAttempts {
				return err
			}
			select {
			case <-ctx.Done():
				return err
			case <-time.After(p.Delay(attempt, trailer)):
			}
		}
	}
}
