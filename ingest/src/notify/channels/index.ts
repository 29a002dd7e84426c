/** The group-robot channels the settings turn on (Web Push is built with its keys, see web-push.ts). */
import type { Config } from '../../config.ts';
import type { SiteNames } from '../format.ts';
import { DingTalkChannel } from './dingtalk.ts';
import { FeishuChannel } from './feishu.ts';
import type { Channel } from './types.ts';
import { WeComChannel } from './wecom.ts';

export function robotChannels(config: Pick<Config, 'PARKOPS_WECOM_URL' | 'PARKOPS_DINGTALK_URL' | 'PARKOPS_DINGTALK_SECRET' | 'PARKOPS_FEISHU_URL' | 'PARKOPS_FEISHU_SECRET'>, site: SiteNames | undefined, changes: readonly string[]): Channel[] {
  const out: Channel[] = [];
  if (config.PARKOPS_WECOM_URL) out.push(new WeComChannel({ url: config.PARKOPS_WECOM_URL, site, changes }));
  if (config.PARKOPS_DINGTALK_URL) out.push(new DingTalkChannel({ url: config.PARKOPS_DINGTALK_URL, secret: config.PARKOPS_DINGTALK_SECRET, site, changes }));
  if (config.PARKOPS_FEISHU_URL) out.push(new FeishuChannel({ url: config.PARKOPS_FEISHU_URL, secret: config.PARKOPS_FEISHU_SECRET, site, changes }));
  return out;
}
