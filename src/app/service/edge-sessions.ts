// Sign-in per edge as the UI shows it: who is signed in, a browser sign-in waiting for the user
// (with its page) and how the last one failed; and the log lines that say so as it happens.
import {
  edgeHost,
  ApiError,
  type DiscoveredApp,
  type EdgeSession,
  type LogLevel,
  type Resource,
  EXPIRY_WARNING_MS,
  expiryWarning,
  failureForWindow,
} from '../../shared/contract/api.js';
import { isAirlockError } from '../../shared/errors.js';
import type { AuthProvider } from './auth-provider.js';

export class EdgeSessions {
  /** Edges whose pending browser sign-in has been announced in the log. */
  private readonly announced = new Set<string>();

  constructor(
    private readonly auth: AuthProvider,
    private readonly log: (level: LogLevel, message: string) => void,
  ) {}

  /** Signs in to an edge, through one of its saved resources when there is one (it names the app). */
  async signIn(edge: string, resources: Resource[]): Promise<void> {
    const resource = resources.find((entry) => this.auth.edgeOf(entry) === edge);
    try {
      await this.auth.signIn(edge, resource);
      this.log('info', `signed in to ${edge}`);
    } catch (error) {
      throw this.failed(`sign-in to ${edge} failed`, error);
    }
  }

  cancel(edge: string): void {
    if (!this.auth.cancelSignIn?.(edge)) throw new ApiError('NOT_FOUND', `no sign-in to ${edge} is waiting`);
  }

  async signOut(edge: string): Promise<void> {
    await this.auth.signOut(edge);
    this.log('info', `signed out of ${edge}`);
  }

  /** What the edge's organisation session may reach (discovery), as the API's error shape on failure. */
  async discover(edge: string): Promise<{ apps: DiscoveredApp[]; edgeAddress?: string }> {
    if (!this.auth.discover)
      throw new ApiError('AUTH_REQUIRED', this.auth.unavailableReason ?? 'discovery is not available in this build');
    try {
      return await this.auth.discover(edge);
    } catch (error) {
      throw this.failed(undefined, error);
    }
  }

  private failed(logAs: string | undefined, error: unknown): ApiError {
    const message = error instanceof Error ? error.message : String(error);
    if (logAs) this.log('warn', `${logAs}: ${message}`);
    return new ApiError(isAirlockError(error) ? error.code : 'FAILED', message);
  }

  /**
   * The edge's session as the UI shows it. `streams`: the connections open through it and when the
   * earliest token behind them expires, for the warning before the edge ends them.
   */
  async session(edge: string, streams?: { open: number; expiresAt?: string }): Promise<EdgeSession> {
    const identity = await this.auth.identity(edge).catch(() => undefined);
    const warning = identity ? expiryWarning(streams?.expiresAt ?? identity.expiresAt, streams?.open ?? 0) : undefined;
    const reason = this.auth.unavailableReason;
    const signingIn = this.auth.pendingSignIn?.(edge);
    const signInError = this.auth.signInError?.(edge);
    return {
      edge,
      signedIn: identity !== undefined,
      ...(identity?.email ? { email: identity.email } : {}),
      ...(identity?.expiresAt ? { expiresAt: identity.expiresAt } : {}),
      signInAvailable: !reason,
      ...(reason ? { message: reason } : {}),
      ...(signingIn ? { signingIn } : {}),
      ...(signInError ? { signInError: failureForWindow(signInError) } : {}),
      ...(warning ? { expiryWarning: warning } : {}),
    };
  }

  /**
   * Signs in to the edge again before its session ends, for each resource with connections open
   * (each app has its own token): the tokens that end within the warning are forgotten first, so
   * new ones are issued, and the edge carries the open streams over to them.
   */
  async renew(edge: string, open: Resource[]): Promise<void> {
    await this.auth.forgetExpiring?.(edge, Date.now() + EXPIRY_WARNING_MS);
    try {
      for (const resource of open) await this.auth.signIn(edge, resource);
      this.log('info', `signed in to ${edge} again: its open connections carry on`);
    } catch (error) {
      throw this.failed(`sign-in to ${edge} again failed`, error);
    }
  }

  /** Every edge a saved resource uses, plus those signed in to from Browse. */
  edges(resourceEdges: string[]): string[] {
    return [...new Set([...resourceEdges, ...(this.auth.edges?.() ?? [])])];
  }

  /** A browser sign-in started, showed its page or ended: the Logs view says so (never the URL: it carries the state). */
  announce(resourceEdges: string[]): void {
    for (const edge of new Set([...this.edges(resourceEdges), ...this.announced])) {
      const pending = this.auth.pendingSignIn?.(edge);
      if (pending?.url && !this.announced.has(edge)) {
        this.announced.add(edge);
        this.log(
          'info',
          `waiting for you to sign in to ${edgeHost(edge)} in the browser (the sign-in prompt has the link)`,
        );
      } else if (!pending && this.announced.delete(edge)) {
        const failure = this.auth.signInError?.(edge);
        if (failure) this.log('warn', `sign-in to ${edgeHost(edge)} did not finish: ${failure.message}`);
      }
    }
  }
}
