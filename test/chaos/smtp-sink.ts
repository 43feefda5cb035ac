// A minimal SMTP server that accepts every message and remembers who got what. The chaos tests
// send hundreds of confirmation emails; counting them here keeps them out of the shared Mailpit
// (which other stacks read and which keeps only its newest 5000 messages).
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface SunkEmail {
  to: string[];
  subject: string;
  messageId: string;
}

export interface SmtpSink {
  url: string;
  messages: SunkEmail[];
  close(): Promise<void>;
}

function header(data: string, name: string): string {
  const match = new RegExp(`^${name}:[ \\t]*(.*(?:\\r\\n[ \\t].*)*)`, 'im').exec(data);
  return (match?.[1] ?? '').replace(/\r\n[ \t]+/g, ' ').trim();
}

function session(socket: Socket, messages: SunkEmail[]): void {
  let buffer = '';
  let inData = false;
  let recipients: string[] = [];
  const reply = (line: string) => socket.write(`${line}\r\n`);
  reply('220 chaos-sink ESMTP');
  socket.setEncoding('utf8');
  socket.on('error', () => undefined);
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (;;) {
      if (inData) {
        const end = buffer.indexOf('\r\n.\r\n');
        if (end < 0) return;
        const data = buffer.slice(0, end);
        buffer = buffer.slice(end + 5);
        inData = false;
        messages.push({ to: recipients, subject: header(data, 'Subject'), messageId: header(data, 'Message-ID') });
        recipients = [];
        reply('250 queued');
        continue;
      }
      const newline = buffer.indexOf('\r\n');
      if (newline < 0) return;
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 2);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'EHLO' || verb === 'HELO') reply('250 chaos-sink');
      else if (verb === 'MAIL') {
        recipients = [];
        reply('250 ok');
      }
      else if (verb === 'RCPT') {
        recipients.push((/<([^>]*)>/.exec(line)?.[1] ?? '').toLowerCase());
        reply('250 ok');
      } else if (verb === 'DATA') {
        inData = true;
        reply('354 end with <CRLF>.<CRLF>');
      } else if (verb === 'QUIT') {
        reply('221 bye');
        socket.end();
        return;
      } else if (verb === 'RSET' || verb === 'NOOP') reply('250 ok');
      else reply('502 not implemented');
    }
  });
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const messages: SunkEmail[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    session(socket, messages);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
