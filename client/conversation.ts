import { AppConversation, type AppConversationEnd, type AppConversationHost } from '../protocol/tracy/app-conversation.js';
import { clientErrorOf, type ClientTransport } from './transport.js';

/** What the conversation asks of the session that owns the data. */
export type ConversationHost = AppConversationHost;

/** Why a conversation ended. */
export type ConversationEnd = AppConversationEnd;

/**
 * The SDK's side of one Tracy conversation: protocol/tracy's AppConversation (handshake answer,
 * query packets, Terminate), with the handshake timer armed here (protocol/ has none) and
 * failures as ClientError (ZS_CLIENT_TIMEOUT, ZS_CLIENT_BAD_HANDSHAKE, ...).
 */
export class Conversation extends AppConversation {
  constructor(transport: ClientTransport, host: ConversationHost, handshakeTimeoutMs: number) {
    super(transport, { host, error: clientErrorOf });
    const timer = setTimeout(() => this.handshakeTimedOut(handshakeTimeoutMs), handshakeTimeoutMs);
    (timer as { unref?: () => void }).unref?.();
    const clear = () => clearTimeout(timer);
    this.ready.then(clear, clear);
  }
}
