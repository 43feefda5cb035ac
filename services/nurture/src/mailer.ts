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

/** SMTP through nodemailer. Timeouts stay well under the scheduler's lease. */
@Injectable()
export class Mailer implements OnApplicationShutdown {
  private readonly transport;

  constructor(@Inject(NURTURE_SETTINGS) private readonly settings: NurtureSettings) {
    this.transport = nodemailer.createTransport({
      url: settings.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
  }

  async send(email: OutgoingEmail): Promise<void> {
    await this.transport.sendMail({
      from: this.settings.from,
      to: email.to,
      subject: email.subject,
      html: email.html,
      text: email.text,
      headers: email.headers,
      messageId: email.messageId,
    });
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
