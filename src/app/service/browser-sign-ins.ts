// The browser sign-ins waiting for the user, per sign-in origin: the page to open (once known),
// since when, a way to cancel, and how the last one failed. Watchers hear each step, so every UI
// can show the one thing only the user can do.
import { SSO } from '../../shared/constants.js';
import { isAirlockError } from '../../shared/errors.js';
import type { PendingSignIn } from './auth-provider.js';

export interface SignInFailure {
  code: string;
  message: string;
  at: string;
}

export class BrowserSignIns {
  private readonly pending = new Map<string, PendingSignIn & { abort: AbortController }>();
  private readonly failures = new Map<string, SignInFailure>();
  private readonly listeners: Array<() => void> = [];

  /**
   * Runs one browser sign-in to `origin`: `login` gets the abort signal and reports the page's URL.
   * A failure (cancel, timeout, refusal) is kept for the UI until the next attempt.
   */
  async run<T>(
    origin: string,
    login: (hooks: { signal: AbortSignal; onUrl: (url: string) => void }) => Promise<T>,
  ): Promise<T> {
    const now = Date.now();
    const pending: PendingSignIn & { abort: AbortController } = {
      startedAt: new Date(now).toISOString(),
      // loginWithBrowser's own limit (src/core/loopback-login.ts), for the prompt's countdown.
      expiresAt: new Date(now + SSO.loopbackTimeoutMs).toISOString(),
      abort: new AbortController(),
    };
    this.pending.set(origin, pending);
    this.failures.delete(origin);
    this.changed();
    try {
      return await login({
        signal: pending.abort.signal,
        onUrl: (url) => {
          pending.url = url;
          this.changed();
        },
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.failures.set(origin, {
        code: isAirlockError(error) ? error.code : 'LOGIN_FAILED',
        message,
        at: new Date().toISOString(),
      });
      throw error;
    } finally {
      if (this.pending.get(origin) === pending) this.pending.delete(origin);
      this.changed();
    }
  }

  waiting(origin: string): PendingSignIn | undefined {
    const pending = this.pending.get(origin);
    if (!pending) return undefined;
    const { startedAt, expiresAt, url } = pending;
    return { startedAt, ...(expiresAt ? { expiresAt } : {}), ...(url ? { url } : {}) };
  }

  /** Stops a waiting sign-in (it fails with LOGIN_CANCELLED); false when none was waiting. */
  /** Every origin a browser sign-in is waiting for (a first sign-in from Browse has no resource yet). */
  origins(): string[] {
    return [...this.pending.keys()];
  }

  cancel(origin: string): boolean {
    const pending = this.pending.get(origin);
    pending?.abort.abort();
    return pending !== undefined;
  }

  failure(origin: string): SignInFailure | undefined {
    return this.failures.get(origin);
  }

  watch(listener: () => void): void {
    this.listeners.push(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
