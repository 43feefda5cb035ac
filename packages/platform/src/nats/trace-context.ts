import { context, propagation, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import type { MsgHdrs } from '@nats-io/nats-core';

// There is no OpenTelemetry instrumentation for NATS.js: the W3C trace context travels in the
// message headers through this small propagator.
const setter: TextMapSetter<MsgHdrs> = { set: (h, key, value) => h.set(key, value) };
const getter: TextMapGetter<MsgHdrs> = {
  get: (h, key) => h.get(key) || undefined,
  keys: (h) => h.keys(),
};

export function injectTraceContext(headers: MsgHdrs, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, setter);
}

export function extractTraceContext(headers: MsgHdrs | undefined): Context {
  return headers ? propagation.extract(context.active(), headers, getter) : context.active();
}

/** The active trace context as plain fields, to store beside an outbox entry. */
export function captureTraceContext(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

export function restoreTraceContext(carrier: Record<string, string> | undefined): Context {
  return carrier ? propagation.extract(context.active(), carrier) : context.active();
}
