/**
 * The Node-RED editor (/flows) behind ParkOps sign-in: an admin who is signed in to the dashboard opens
 * the editor without a second login, and everyone else is kept out before Node-RED sees the request.
 *
 * - `handler()` runs before Node-RED on every /flows request. It lets through a request whose session
 *   cookie is an admin's (the editor's own calls carry the cookie too, so signing out of ParkOps shuts
 *   the editor's API at once), or whose bearer token is a ParkOps admin API token (scripts, the
 *   node-red-admin tool). Anyone else: a browser without a session is sent to the sign-in page (which
 *   comes back here afterwards); a signed-in non-admin gets a 403 page in their language, never a
 *   redirect, so a manager cannot bounce between /login and /flows.
 * - `ports()` feed Node-RED's adminAuth (nodered/settings.ts): its "strategy" sign-in trusts the
 *   ParkOps session cookie and issues the editor's own token; `isAdmin` is checked on every editor
 *   request, so a demoted, disabled or deleted admin loses the editor at once.
 */
import type { IncomingMessage } from 'node:http';
import type express from 'express';
import type { EditorAuthPorts } from '../nodered/settings.ts';
import { clientIp, LANG_COOKIE, readCookie, SESSION_COOKIE } from './http.ts';
import { sendError } from './middleware.ts';
import type { AuthService } from './service.ts';
import type { AuthUser } from './types.ts';

type Lang = 'zh-CN' | 'en';

const TEXT: Record<Lang, { title: string; body: (who: string, role: string) => string; back: string; roles: Record<string, string> }> = {
  en: {
    title: 'The Node-RED editor is for administrators',
    body: (who, role) => `The flow editor can run code on the server, so only ParkOps administrators may open it. You are signed in as ${who} (${role}). Ask an administrator if you need a flow changed.`,
    back: 'Back to the dashboard',
    roles: { viewer: 'viewer', responder: 'responder', manager: 'manager', admin: 'administrator', feed: 'warning feed' },
  },
  'zh-CN': {
    title: 'Node-RED 编辑器仅供管理员使用',
    body: (who, role) => `流程编辑器可以在服务器上运行代码，因此只有 ParkOps 管理员可以打开。您当前以 ${who}（${role}）的身份登录。如需修改流程，请联系管理员。`,
    back: '返回控制台',
    roles: { viewer: '查看者', responder: '响应人员', manager: '经理', admin: '管理员', feed: '预警数据源' },
  },
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The reader's language: the dashboard's cookie, else the browser's first zh or en preference. */
function langOf(req: express.Request): Lang {
  const chosen = readCookie(req.headers.cookie, LANG_COOKIE);
  if (chosen === 'zh-CN' || chosen === 'en') return chosen;
  for (const part of (req.headers['accept-language'] ?? '').split(',')) {
    const tag = part.split(';')[0]!.trim().toLowerCase();
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'en';
}

function forbiddenPage(lang: Lang, user: AuthUser): string {
  const t = TEXT[lang];
  const who = user.kiosk !== undefined ? user.kiosk : user.username;
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(t.title)} · ParkOps</title>
<style>body{font-family:system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:90vh;background:#f5f6f8;color:#1b1f24}
@media (prefers-color-scheme:dark){body{background:#0f1216;color:#e6e8eb}a{color:#8ab4ff}}main{max-width:34em;padding:16px;line-height:1.5}</style></head>
<body><main><h1>${escapeHtml(t.title)}</h1><p data-testid="editor-forbidden">${escapeHtml(t.body(who, t.roles[user.role] ?? user.role))}</p><p><a href="/">${escapeHtml(t.back)}</a></p></main></body></html>`;
}

export class EditorGate {
  constructor(
    private readonly auth: AuthService,
    private readonly opts: { editorRoot: string; loginPath?: string },
  ) {}

  /** Who the request's session cookie belongs to (the Authorization header is the editor's own token). */
  private cookieUser(req: IncomingMessage): Promise<AuthUser | undefined> {
    const sid = readCookie(req.headers.cookie, SESSION_COOKIE);
    return sid === undefined ? Promise.resolve(undefined) : this.auth.identifySession(sid);
  }

  private async tokenUser(authorization: string | undefined): Promise<AuthUser | undefined> {
    // Only ParkOps tokens: the editor's own bearer tokens are Node-RED's to check.
    if (authorization === undefined || !/^Bearer[ \t]+pko_/i.test(authorization)) return undefined;
    return this.auth.identifyBearer(authorization);
  }

  handler(): express.RequestHandler {
    const loginPath = this.opts.loginPath ?? '/login';
    return (req, res, next) => {
      void (async () => {
        const user = await this.cookieUser(req);
        if (user?.role === 'admin' && user.kiosk === undefined) return next();
        const token = await this.tokenUser(req.headers.authorization);
        if (token?.role === 'admin') return next();
        res.setHeader('Cache-Control', 'no-store');
        const page = (req.method === 'GET' || req.method === 'HEAD') && req.accepts(['json', 'html']) === 'html';
        const who = user ?? token;
        if (!who) {
          if (page) return res.redirect(303, `${loginPath}?next=${encodeURIComponent(`${this.opts.editorRoot}/`)}`);
          res.setHeader('WWW-Authenticate', 'Bearer realm="ParkOps"');
          return sendError(res, 401, 'the Node-RED editor needs an admin login', 'auth.required');
        }
        if (page) return void res.status(403).type('html').send(forbiddenPage(langOf(req), who));
        sendError(res, 403, `the Node-RED editor is for admins; you are ${who.role}`, 'auth.role', { need: 'admin', have: who.role });
      })().catch(next);
    };
  }

  ports(): EditorAuthPorts {
    return {
      // Called when the editor signs in: the moment worth an audit entry.
      sessionAdmin: async (req) => {
        const user = await this.cookieUser(req);
        if (user?.role !== 'admin' || user.kiosk !== undefined) return null;
        this.auth.audit({ actor: user.username, action: 'editor.signin', ip: clientIp(req, this.auth.config.PARKOPS_TRUST_PROXY) });
        return user.username;
      },
      isAdmin: async (username) => {
        if (username.startsWith('token:')) return this.auth.roleOf(username) === 'admin';
        return (await this.auth.currentRole(username)) === 'admin';
      },
      tokenAdmin: async (token) => {
        const user = await this.tokenUser(`Bearer ${token}`);
        return user?.role === 'admin' ? user.username : null;
      },
    };
  }
}
