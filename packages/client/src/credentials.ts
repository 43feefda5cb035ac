// Channel security (TLS, mutual TLS) and the caller's identity on every call.
import * as grpc from '@grpc/grpc-js';
import type { TlsOptions, TokenSource } from './options.js';

const pem = (value: Buffer | string | undefined) => (value === undefined ? null : Buffer.isBuffer(value) ? value : Buffer.from(value));

export function channelCredentials(tls: boolean | TlsOptions | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if (tls === true) return grpc.credentials.createSsl();
  if ((tls.clientCert === undefined) !== (tls.clientKey === undefined)) {
    throw new Error('tls.clientCert and tls.clientKey go together: mutual TLS needs both');
  }
  return grpc.credentials.createSsl(pem(tls.rootCa), pem(tls.clientKey), pem(tls.clientCert));
}

export function channelOptions(tls: boolean | TlsOptions | undefined): grpc.ChannelOptions {
  const options: grpc.ChannelOptions = { 'grpc.keepalive_time_ms': 30_000 };
  if (typeof tls === 'object' && tls.serverName) options['grpc.ssl_target_name_override'] = tls.serverName;
  return options;
}

/**
 * The token goes in as call metadata rather than grpc-js call credentials, because grpc-js refuses
 * call credentials on a plaintext channel, and local stacks run plaintext.
 */
export async function authMetadata(token: TokenSource | undefined, base?: grpc.Metadata): Promise<grpc.Metadata> {
  const metadata = base ? base.clone() : new grpc.Metadata();
  if (token === undefined) return metadata;
  const value = typeof token === 'string' ? token : await token();
  if (!value) throw new Error('the token source returned an empty token');
  metadata.set('authorization', `Bearer ${value}`);
  return metadata;
}
