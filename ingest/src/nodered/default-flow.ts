/**
 * The flow ParkOps writes on first start (no flows file yet): every alert change -> a function that
 * shapes it for the settings webhook (WeCom / DingTalk robot markdown, or JSON) -> `parkops-notify`,
 * which hands it to the Notifier's stored, retried delivery. Admins may edit or delete it; ParkOps never
 * writes it again once a flows file exists. Critical changes still reach the webhook if the flow is
 * gone (notify/notifier.ts, "fallback").
 */
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

export function defaultFlow(): Record<string, unknown>[] {
  const z = DEFAULT_TAB_ID;
  return [
    {
      id: z,
      type: 'tab',
      label: 'ParkOps notifications',
      disabled: false,
      info: 'Created by ParkOps on first start. Sends every alert change to the webhook in the setting PARKOPS_WEBHOOK_URL, formatted for WeCom or DingTalk group robots, or as JSON. Delivery is stored, retried with backoff and recorded by ParkOps; see docs/node-red.md.',
    },
    {
      id: 'parkops-default-comment',
      type: 'comment',
      z,
      name: 'Alerts -> settings webhook (PARKOPS_WEBHOOK_URL)',
      info: 'Filter on the alert node, or in the function. Critical changes that no flow hands to a parkops-notify node within 15 s are sent by ParkOps itself, so a broken flow cannot silence a flood alarm.',
      x: 230,
      y: 60,
      wires: [],
    },
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
      x: 150,
      y: 120,
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
      x: 410,
      y: 120,
      wires: [['parkops-default-notify']],
    },
    {
      id: 'parkops-default-notify',
      type: 'parkops-notify',
      z,
      name: 'settings webhook',
      x: 670,
      y: 120,
      wires: [[]],
    },
  ];
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
