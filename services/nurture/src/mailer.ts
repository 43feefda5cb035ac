import { PassThrough, type Readable } from 'node:stream';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import nodemailer from 'nodemailer';
import { NURTURE_SETTINGS, type NurtureSettings } from './nurture.settings.js';

export interface OutgoingEmail {
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  messageId: string;
}

/** A failed send, as nodemailer reports it, and whether the whole message had gone to the server. */
export type SendError = Error & { responseCode?: number; command?: string; code?: string; contentHandedOver: boolean };

/** SMTP through nodemailer. Timeouts stay well under the scheduler's lease. */
@Injectable()
export class Mailer implements OnApplicationShutdown {
  private readonly transport;
  /** Sends in progress by Message-ID: set once the SMTP client has read the whole message. */
  private readonly handedOver = new Map<string, { done: boolean }>();

  constructor(@Inject(NURTURE_SETTINGS) private readonly settings: NurtureSettings) {
    this.transport = nodemailer.createTransport({
      url: settings.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    // A failure without a reply means two different things: before the message was complete the
    // server cannot have it; after, it may (see classifySendFailure). The SMTP client reads the
    // message only after the server's 354, and its last byte only just before the closing dot, so
    // the end of that read tells the two apart.
    this.transport.use('stream', (mail, done) => {
      const progress = this.handedOver.get(String(mail.data.messageId));
      if (progress) {
        mail.message.processFunc((input: Readable) => {
          const output = new PassThrough();
          input.once('error', (err) => output.destroy(err));
          output.once('end', () => (progress.done = true));
          return input.pipe(output);
        });
      }
      done();
    });
  }

  async send(email: OutgoingEmail): Promise<void> {
    const progress = { done: false };
    this.handedOver.set(email.messageId, progress);
    try {
      await this.transport.sendMail({
        from: this.settings.from,
        to: email.to,
        subject: email.subject,
        html: email.html,
        text: email.text,
        headers: email.headers,
        messageId: email.messageId,
      });
    } catch (err) {
      throw Object.assign(err as Error, { contentHandedOver: progress.done }) as SendError;
    } finally {
      this.handedOver.delete(email.messageId);
    }
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
