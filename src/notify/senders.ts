import { createTransport, type Transporter } from 'nodemailer';
import type { NotificationChannelKind } from '../db/entities/notification-channel.entity.js';
import type { NotifyConfig } from './config.js';
import { postJson, type ChannelConnections } from './http-post.js';
import type { EmailMessage } from './messages.js';
import { webhookKey, webhookSignature } from './signature.js';

/** How one attempt ended: accepted or not, the destination's code and its answer or the failure. */
export interface AttemptOutcome {
  delivered: boolean;
  statusCode: number | null;
  result: string;
}

/** One attempt's input: the delivery's fixed id and body, and the channel's opened secret. */
export interface Attempt {
  deliveryId: string;
  body: string;
  url: string | null;
  /** The webhook's signing secret, or the Slack incoming-webhook URL. */
  secret: string | null;
  now: Date;
  /** The channel's kept-alive connections, for webhook and Slack posts. */
  connections?: ChannelConnections;
}

/** Sends one attempt of one channel kind. */
export type Sender = (attempt: Attempt) => Promise<AttemptOutcome>;

function failure(error: unknown): AttemptOutcome {
  const message = error instanceof Error ? error.message : String(error);
  return { delivered: false, statusCode: null, result: message };
}

/**
 * The senders of each channel kind, sharing one SMTP transport. Every sender resolves (never
 * rejects) with the outcome, bounded by the configured timeout.
 */
export class Senders {
  private mailer: Transporter | null = null;

  constructor(private readonly config: NotifyConfig) {}

  for(kind: NotificationChannelKind): Sender {
    if (kind === 'WEBHOOK') return (attempt) => this.webhook(attempt);
    if (kind === 'SLACK') return (attempt) => this.slack(attempt);
    return (attempt) => this.email(attempt);
  }

  close(): void {
    this.mailer?.close();
    this.mailer = null;
  }

  /** Standard Webhooks: the same `webhook-id` on every attempt, a fresh timestamp and signature on each. */
  private async webhook(attempt: Attempt): Promise<AttemptOutcome> {
    if (!attempt.url || !attempt.secret) return failure(new Error('the channel has no URL or signing secret'));
    try {
      const timestamp = Math.floor(attempt.now.getTime() / 1000);
      const answer = await postJson(attempt.url, attempt.body, {
        timeoutMs: this.config.timeoutMs,
        allowPrivate: this.config.allowPrivate,
        connections: attempt.connections,
        headers: {
          'webhook-id': attempt.deliveryId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': webhookSignature(webhookKey(attempt.secret), attempt.deliveryId, timestamp, attempt.body),
        },
      });
      return { delivered: answer.statusCode >= 200 && answer.statusCode < 300, statusCode: answer.statusCode, result: answer.summary };
    } catch (error) {
      return failure(error);
    }
  }

  private async slack(attempt: Attempt): Promise<AttemptOutcome> {
    if (!attempt.secret) return failure(new Error('the channel has no incoming-webhook URL'));
    try {
      const answer = await postJson(attempt.secret, attempt.body, {
        timeoutMs: this.config.timeoutMs,
        allowPrivate: this.config.allowPrivate,
        connections: attempt.connections,
      });
      return { delivered: answer.statusCode >= 200 && answer.statusCode < 300, statusCode: answer.statusCode, result: answer.summary };
    } catch (error) {
      return failure(error);
    }
  }

  private async email(attempt: Attempt): Promise<AttemptOutcome> {
    if (!this.config.smtpUrl) return failure(new Error('COUNTERSIGN_SMTP_URL is not set'));
    const message = JSON.parse(attempt.body) as EmailMessage;
    this.mailer ??= createTransport({
      url: this.config.smtpUrl,
      connectionTimeout: this.config.timeoutMs,
      greetingTimeout: this.config.timeoutMs,
      socketTimeout: this.config.timeoutMs,
    });
    try {
      const info = await this.mailer.sendMail({
        from: this.config.smtpFrom,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: `<${attempt.deliveryId}@countersign>`,
        headers: { 'X-Countersign-Delivery': attempt.deliveryId },
      });
      const reply = String(info.response ?? '');
      const code = Number.parseInt(reply.slice(0, 3), 10);
      return { delivered: true, statusCode: Number.isFinite(code) ? code : 250, result: reply };
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode ?? null;
      const reply = (error as { response?: string }).response;
      return { delivered: false, statusCode: code, result: reply ?? (error as Error).message };
    }
  }
}
