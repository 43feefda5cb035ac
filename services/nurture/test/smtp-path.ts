// A TCP path in front of Mailpit that nurture's stack tests steer into the faults a relay or the
// network produces, so the SMTP server on the other side stays the real one.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

const END_OF_DATA = Buffer.from('\r\n.\r\n');

export type Fault =
  /** Relay everything but the server's reply to the message. */
  | 'lose-reply-to-message'
  /** Relay the message without its closing dot, then cut both sides. */
  | 'cut-before-dot'
  /** Greet with a temporary refusal. */
  | 'refuse'
  /** Drop the connection at once, as a firewall or a dead relay does. */
  | 'drop'
  /** Relay the message but hold its closing dot until release(): an email in the middle of its SMTP conversation. */
  | 'hold-message'
  | 'none';

/** A path in front of Mailpit with one fault, applied to the next connections. */
export class FaultySmtpPath {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private fault: Fault = 'none';
  private faultsLeft = 0;
  /** The closing dots held by 'hold-message', each sent on to Mailpit by release(). */
  private readonly held: Array<() => void> = [];

  constructor() {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  /** The next `times` connections meet the fault; the ones after pass through. */
  inject(fault: Fault, times = Number.POSITIVE_INFINITY): void {
    this.fault = fault;
    this.faultsLeft = times;
  }

  /** Messages held before their closing dot right now. */
  heldMessages(): number {
    return this.held.length;
  }

  /** Sends the held closing dots on: Mailpit queues those emails and replies. */
  release(): void {
    for (const send of this.held.splice(0)) send();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    return socket;
  }

  private accept(client: Socket): void {
    this.track(client);
    const fault = this.faultsLeft > 0 ? this.fault : 'none';
    if (fault !== 'none') this.faultsLeft--;
    if (fault === 'drop') {
      client.destroy();
      return;
    }
    if (fault === 'refuse') {
      client.end('421 4.3.2 Service not available, try again later\r\n');
      return;
    }
    const mailpit = this.track(createConnection({ host: '127.0.0.1', port: 1025 }));
    client.once('close', () => mailpit.destroy());
    mailpit.once('close', () => client.destroy());
    let tail = Buffer.alloc(0);
    let messageEnded = false;
    client.on('data', (chunk: Buffer) => {
      const seen = Buffer.concat([tail, chunk]);
      tail = seen.subarray(-END_OF_DATA.length + 1);
      const endsMessage = !messageEnded && seen.includes(END_OF_DATA);
      if (endsMessage && fault === 'cut-before-dot') {
        // Mailpit never sees the message end, so it never queues it.
        const dotAt = chunk.indexOf(END_OF_DATA);
        if (dotAt > 0) mailpit.write(chunk.subarray(0, dotAt));
        mailpit.destroy();
        client.destroy();
        return;
      }
      if (endsMessage) messageEnded = true;
      if (endsMessage && fault === 'hold-message') {
        this.held.push(() => mailpit.write(chunk));
        return;
      }
      mailpit.write(chunk);
    });
    mailpit.on('data', (reply: Buffer) => {
      if (messageEnded && fault === 'lose-reply-to-message') {
        // Mailpit has just queued the email: its reply never reaches the sender.
        client.destroy();
        return;
      }
      client.write(reply);
    });
  }
}
