/**
 * The flow ParkOps writes on first start (no flows file yet): every alert change -> a function that
 * shapes it for the settings webhook (WeCom / DingTalk robot markdown, or JSON) -> `parkops-notify`,
 * which hands it to the Notifier's stored, retried delivery. Admins may edit or delete it; ParkOps never
 * writes it again once a flows file exists. Critical changes still reach the webhook if the flow is
 * gone (notify/notifier.ts, "fallback").
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NOTIFY_CHANGES } from '../notify/notifier.ts';

/** The function node's code: plain Node-RED JavaScript, shown in the editor. */
export const FORMAT_FUNCTION = `// ParkOps default flow: one alert change -> the body the settings webhook expects.
// msg.text: {title, markdown, zh, en}, the message in Chinese and English (from ParkOps)
// msg.format: wecom | dingtalk | json (PARKOPS_WEBHOOK_FORMAT, or picked from the webhook's host)
// Edit freely, e.g. "if (msg.severity === 'info') return null;" to keep info alerts out of the chat.
switch (msg.format) {
    case 'wecom': // WeCom (企业微信) group robot
        msg.payload = { msgtype: 'markdown', markdown: { content: msg.text.markdown } };
        break;
    case 'dingtalk': // DingTalk (钉钉) custom robot
        msg.payload = { msgtype: 'markdown', markdown: { title: msg.text.title, text: msg.text.markdown } };
        break;
    default:
        msg.payload = { source: 'parkops', event: 'alert.changed', change: msg.change, alert: msg.alert, text: { zh: msg.text.zh, en: msg.text.en } };
}
return msg;
`;

export const DEFAULT_TAB_ID = 'parkops-default-tab';

/**
 * The width Node-RED draws a node's box: its label at 14 px (about 8 px a character for these labels,
 * rounded up), plus the icon and port area, at least 100 px, in 20 px grid steps; 30 px high for a node
 * with at most one input and one output. An overestimate keeps boxes apart in any browser.
 */
export function nodeBox(label: string): { w: number; h: number } {
  return { w: Math.max(100, Math.ceil((label.length * 8 + 50) / 20) * 20), h: 30 };
}

/** Lays nodes out left to right on one row of the 20 px grid, 40 px apart (Node-RED's x/y are box centres). */
function row<T extends { name: string }>(nodes: T[], y: number, left = 40): Array<T & { x: number; y: number }> {
  let edge = left;
  return nodes.map((n) => {
    const { w } = nodeBox(n.name);
    const placed = { ...n, x: edge + w / 2, y };
    edge += w + 40;
    return placed;
  });
}

export function defaultFlow(): Record<string, unknown>[] {
  const z = DEFAULT_TAB_ID;
  const [comment] = row([{ id: 'parkops-default-comment', type: 'comment', z, name: 'Alerts -> settings webhook (PARKOPS_WEBHOOK_URL)', info: 'Filter on the alert node, or in the function. Critical changes that no flow hands to a parkops-notify node within 15 s are sent by ParkOps itself, so a broken flow cannot silence a flood alarm.', wires: [] }], 40);
  const chain = row(
    [
      {
        id: 'parkops-default-alerts',
        type: 'parkops-alert',
        z,
        name: 'alert changes worth a message',
        severity: '',
        rule: '',
        room: '',
        // Not `updated`: that one repeats every few seconds while a value moves.
        change: NOTIFY_CHANGES.join(', '),
        wires: [['parkops-default-format']],
      },
      {
        id: 'parkops-default-format',
        type: 'function',
        z,
        name: 'format for WeCom / DingTalk / JSON',
        func: FORMAT_FUNCTION,
        outputs: 1,
        timeout: 2,
        noerr: 0,
        initialize: '',
        finalize: '',
        libs: [],
        wires: [['parkops-default-notify']],
      },
      { id: 'parkops-default-notify', type: 'parkops-notify', z, name: 'settings webhook', wires: [[]] },
    ],
    120,
  );
  return [
    {
      id: z,
      type: 'tab',
      label: 'ParkOps notifications',
      disabled: false,
      info: 'Created by ParkOps on first start. Sends every alert change to the webhook in the setting PARKOPS_WEBHOOK_URL, formatted for WeCom or DingTalk group robots, or as JSON. Delivery is stored, retried with backoff and recorded by ParkOps; see docs/node-red.md.',
    },
    comment!,
    ...chain,
  ];
}

/**
 * Writes an encrypted empty credentials file beside a new flows file, in Node-RED's own format
 * (`{"$": iv hex + AES-256-CTR ciphertext base64}`, key SHA-256 of the credential secret): without one,
 * Node-RED warns "Encrypted credentials not found" on every start until someone deploys a credential.
 */
export function writeEmptyCredentialsIfMissing(userDir: string, credentialSecret: string): boolean {
  const file = join(userDir, 'flows_cred.json');
  if (existsSync(file)) return false;
  const key = createHash('sha256').update(credentialSecret).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  const body = { $: iv.toString('hex') + cipher.update('{}', 'utf8', 'base64') + cipher.final('base64') };
  try {
    writeFileSync(file, `${JSON.stringify(body, null, 4)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  return true;
}

/** Writes the default flow into `userDir/flows.json` when there is no flows file yet. True when it wrote. */
export function writeDefaultFlowIfMissing(userDir: string): boolean {
  const flowFile = join(userDir, 'flows.json');
  if (existsSync(flowFile)) return false;
  try {
    writeFileSync(flowFile, `${JSON.stringify(defaultFlow(), null, 4)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  return true;
}
