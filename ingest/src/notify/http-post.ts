/**
 * One webhook POST with a hard deadline. Whatever the receiver does (refuse, hang before the headers,
 * trickle the body), the promise settles within `timeoutMs` and never rejects.
 */
import type { DeliveryErrorCode } from '@parkops/contract/notifications.ts';
import { robotError } from './format.ts';

export interface PostResult {
  ok: boolean;
  httpStatus: number | null;
  error: string | null;
  /** why it failed, as a code the dashboard words (null when sent) */
  errorCode: DeliveryErrorCode | null;
  /** Worth another try later: network trouble, timeouts, 5xx, 408, 429, robot refusals (rate limits). */
  retryable: boolean;
  /** From a Retry-After header, in ms. */
  retryAfterMs: number | null;
  durationMs: number;
}

/** Reads at most this much of an answer: robots answer a few dozen bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;

async function readLimited(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size >= MAX_ANSWER_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeError(err: unknown, timedOut: boolean, timeoutMs: number, stopped: boolean): { error: string; errorCode: DeliveryErrorCode } {
  if (stopped) return { error: 'interrupted: ParkOps is shutting down', errorCode: 'interrupted' };
  if (timedOut) return { error: `no answer within ${timeoutMs} ms`, errorCode: 'timeout' };
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return { error: 'connection refused (ECONNREFUSED)', errorCode: 'refused' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { error: `host not found (${code})`, errorCode: 'dns' };
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return { error: `connection closed by the receiver (${code})`, errorCode: 'reset' };
  const detail = e.cause?.message ?? e.message ?? String(err);
  return { error: code ? `${detail} (${code})` : detail, errorCode: 'network' };
}

/** A refusal read from an answer body: why, and whether another try could help. */
export interface AnswerRefusal {
  error: string;
  retryable: boolean;
}

/** One HTTP request as a channel builds it at send time (signed, encrypted). */
export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  now?: (() => number) | undefined;
  /**
   * Reads a 2xx answer: robots answer 200 and put their refusal in the body. Default: `robotError`
   * (WeCom/DingTalk `errcode`, Feishu `code`/`StatusCode`).
   */
  judge?: ((status: number, text: string) => AnswerRefusal | null) | undefined;
}

const defaultJudge = (url: string) => (_status: number, text: string): AnswerRefusal | null => {
  const refused = robotError(text, url);
  return refused ? { error: refused, retryable: true } : null;
};

export async function postJson(url: string, bodyJson: string, opts: SendOptions): Promise<PostResult> {
  return sendRequest({ url, headers: { 'content-type': 'application/json; charset=utf-8' }, body: bodyJson }, opts);
}

/** POSTs one request with a hard deadline; settles within `timeoutMs` and never rejects. */
export async function sendRequest(req: OutgoingRequest, opts: SendOptions): Promise<PostResult> {
  const url = req.url;
  const now = opts.now ?? Date.now;
  const judge = opts.judge ?? defaultJudge(url);
  const started = now();
  const deadline = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort();
  }, opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([deadline.signal, opts.signal]) : deadline.signal;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'user-agent': 'ParkOps-notifier', ...req.headers },
      body: req.body,
      signal,
      // A redirect is not followed: re-POSTing an alert to wherever a receiver points is not what anyone configured.
      redirect: 'manual',
    });
    const text = await readLimited(res);
    const durationMs = now() - started;
    const retryAfterSec = Number(res.headers.get('retry-after'));
    const retryAfterMs = Number.isFinite(retryAfterSec) && retryAfterSec > 0 ? retryAfterSec * 1000 : null;
    if (res.status >= 200 && res.status < 300) {
      const refused = judge(res.status, text);
      if (refused) return { ok: false, httpStatus: res.status, error: `receiver refused: ${refused.error}`, errorCode: 'receiver', retryable: refused.retryable, retryAfterMs, durationMs };
      return { ok: true, httpStatus: res.status, error: null, errorCode: null, retryable: false, retryAfterMs: null, durationMs };
    }
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      return { ok: false, httpStatus: res.status, error: `HTTP ${res.status}: redirects are not followed; configure the final URL${location ? ` (Location: ${location.slice(0, 200)})` : ''}`, errorCode: 'redirect', retryable: false, retryAfterMs: null, durationMs };
    }
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    const snippet = text.trim().slice(0, 200);
    return { ok: false, httpStatus: res.status, error: `HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`, errorCode: 'http', retryable, retryAfterMs, durationMs };
  } catch (err) {
    const stopped = opts.signal?.aborted === true && !timedOut;
    return { ok: false, httpStatus: null, ...describeError(err, timedOut, opts.timeoutMs, stopped), retryable: true, retryAfterMs: null, durationMs: now() - started };
  } finally {
    clearTimeout(timer);
  }
}
