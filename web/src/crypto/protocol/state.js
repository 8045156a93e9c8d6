// Explicit state machine per side. Every handshake message and record operation asks it first,
// so an out-of-order, repeated or dropped message is refused with a reason instead of being
// half-processed. Terminal states: closed (orderly) and compromised (a check failed).
import { ChannelError } from './errors.js';

export const ChannelState = Object.freeze({
  idle: 'idle',
  sentHello: 'sent_hello', // initiator: message 1 sent, awaiting message 2
  awaitingFinish: 'awaiting_finish', // responder: message 2 sent, awaiting message 3
  secure: 'secure',
  rekeying: 'rekeying', // this side sent a re-key request and awaits the response
  closed: 'closed',
  compromised: 'compromised',
});

export const Role = Object.freeze({ initiator: 'initiator', responder: 'responder' });

// event → next state, per role and state. Events absent from a state are refused.
const S = ChannelState;
const secureEvents = { seal: S.secure, open: S.secure, rekey_start: S.rekeying, close: S.closed };
const rekeyingEvents = { seal: S.rekeying, open: S.rekeying, rekey_done: S.secure, close: S.closed };

const transitions = Object.freeze({
  [Role.initiator]: {
    [S.idle]: { start: S.sentHello },
    [S.sentHello]: { responder_hello: S.secure },
    [S.secure]: secureEvents,
    [S.rekeying]: rekeyingEvents,
  },
  [Role.responder]: {
    [S.idle]: { initiator_hello: S.awaitingFinish },
    [S.awaitingFinish]: { initiator_finish: S.secure },
    [S.secure]: secureEvents,
    [S.rekeying]: rekeyingEvents,
  },
});

export class ChannelStateMachine {
  #role;
  #state = ChannelState.idle;
  #teardownReason = null;

  constructor(role) {
    if (!transitions[role]) throw new ChannelError('invalid_argument', `role ${role}`);
    this.#role = role;
  }

  get role() { return this.#role; }
  get state() { return this.#state; }
  get teardownReason() { return this.#teardownReason; }
  get isTerminal() { return this.#state === ChannelState.closed || this.#state === ChannelState.compromised; }

  /** Throws unless `event` is allowed now; returns the state it would lead to. */
  check(event) {
    if (this.#state === ChannelState.closed) throw new ChannelError('closed', `${event} after close (${this.#teardownReason})`);
    if (this.#state === ChannelState.compromised) throw new ChannelError('compromised', `${event} after teardown (${this.#teardownReason})`);
    const next = transitions[this.#role][this.#state]?.[event];
    if (next === undefined) {
      throw new ChannelError('unexpected_message', `${this.#role} in state ${this.#state} does not accept ${event}`);
    }
    return next;
  }

  apply(event) {
    const next = this.check(event);
    this.#state = next;
    if (next === ChannelState.closed) this.#teardownReason = 'closed';
    return next;
  }

  /** Orderly end (close record sent or received, or a local abort). */
  close(reason) {
    if (this.isTerminal) return;
    this.#state = ChannelState.closed;
    this.#teardownReason = reason;
  }

  /** A check failed: the channel is dead, whatever state it was in. */
  compromise(reason) {
    if (this.#state === ChannelState.compromised) return;
    this.#state = ChannelState.compromised;
    this.#teardownReason = reason;
  }
}
